"""Estimates: bases, percentages, weighted percentages, Wilson CIs on n_eff, suppression."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.stats.estimates import (
    COLUMNS,
    EXTRA_COLUMNS,
    SANS_REPONSE,
    EstimatesError,
    asked_mask,
    estimate_all,
    estimate_question,
    headline,
    rank_label,
    wilson_interval,
)
from analysis.survey.codebook import from_dict
from analysis.survey.strata import GROUPS

Z = 1.959963984540054

CODEBOOK = {
    "edition": 2099,
    "questions": [
        {
            "id": "filtre",
            "chapter": "contexte",
            "type": "single",
            "text": "Filtre ?",
            "options": ["Oui", "Non"],
            "columns": [{"heading": "Filtre ?", "code": "Q1"}],
        },
        {
            "id": "choix",
            "chapter": "contexte",
            "type": "multiple",
            "text": "Lesquels ?",
            "columns": [
                {"heading": "Lesquels ? [A]", "code": "Q2[A]", "item": "a", "label": "Option A"},
                {"heading": "Lesquels ? [B]", "code": "Q2[B]", "item": "b", "label": "Option B"},
            ],
            "asked_if": {"question": "filtre", "in": ["Oui"]},
        },
        {
            "id": "matrice",
            "chapter": "organisation",
            "type": "matrix",
            "text": "Matrice",
            "options": ["Fort", "Faible"],
            "columns": [
                {"heading": "M [x]", "code": "Q3[x]", "item": "x", "label": "Ligne X"},
                {"heading": "M [y]", "code": "Q3[y]", "item": "y", "label": "Ligne Y"},
            ],
        },
        {
            "id": "classement",
            "chapter": "motivations",
            "type": "ranking",
            "text": "Classez",
            "options": ["P", "Q", "R"],
            "columns": [
                {"heading": f"C [{k}]", "code": f"Q4[{k}]", "item": str(k)} for k in (1, 2, 3)
            ],
        },
        {
            "id": "nombre",
            "chapter": "organisation",
            "type": "numeric",
            "text": "Combien ?",
            "columns": [{"heading": "N", "code": "Q5"}],
        },
        {
            "id": "libre",
            "chapter": "organisation",
            "type": "text",
            "text": "Précisez",
            "columns": [{"heading": "Précisez", "code": "Q6"}],
        },
    ],
}
CB = from_dict(CODEBOOK)
NA = pd.NA


def data() -> pd.DataFrame:
    """Six respondents; every figure below is counted by hand from this table."""
    return pd.DataFrame(
        {
            "response_id": [1, 2, 3, 4, 5, 6],
            "stratum": ["epci", "epci", "region", "region", "autre", "commune_lt_3500"],
            "weight": [1.0, 1.0, 2.0, 2.0, 0.0, 3.0],
            "filtre": pd.Categorical(["Oui", "Oui", "Non", None, "Oui", "Non"], ["Oui", "Non"]),
            "choix__a": pd.array([True, True, NA, NA, False, NA], dtype="boolean"),
            "choix__b": pd.array([False, True, NA, NA, False, NA], dtype="boolean"),
            "matrice__x": ["Fort", "Faible", "Fort", None, "Fort", "Faible"],
            "matrice__y": ["Faible", None, "Fort", None, "Fort", "Fort"],
            "classement__rang1": ["P", "Q", "P", None, "R", "Q"],
            "classement__rang2": ["Q", "P", "R", None, "P", None],
            "classement__rang3": ["R", "R", "Q", None, "Q", None],
            "nombre": [10.0, 20.0, np.nan, 40.0, 30.0, np.nan],
            "libre": ["", "x", "", "", "", ""],
        }
    )


def cell(est: pd.DataFrame, option: str, stratum: str = "ensemble", item: str = "") -> pd.Series:
    row = est[(est["option"] == option) & (est["stratum"] == stratum) & (est["item"] == item)]
    assert len(row) == 1, (option, stratum, item)
    return row.iloc[0]


def test_wilson_known_answers():
    low, high = wilson_interval(np.array([0.5, 0.0]), np.array([10.0, 10.0]))
    assert low[0] == pytest.approx(0.2366, abs=1e-4)  # 5 of 10: textbook Wilson interval
    assert high[0] == pytest.approx(0.7634, abs=1e-4)
    assert low[1] == 0.0
    assert high[1] == pytest.approx(0.2775, abs=1e-4)  # 0 of 10
    low, high = wilson_interval(0.3, 0.0)
    assert math.isnan(float(low)) and math.isnan(float(high))


def test_rank_labels():
    assert [rank_label(k) for k in (1, 2, 3, 5)] == [
        "rang 1",
        "rang 1 ou 2",
        "rang 1 à 3",
        "rang 1 à 5",
    ]


def test_single_choice_known_answer():
    est = estimate_question(data(), CB["filtre"], edition=2099)
    assert list(est.columns) == [*COLUMNS, *EXTRA_COLUMNS]
    oui, non, sr = (cell(est, o) for o in ("Oui", "Non", SANS_REPONSE))
    assert (oui["base_n"], oui["count"], oui["pct"]) == (6, 3, pytest.approx(50.0))
    assert (non["count"], non["pct"]) == (2, pytest.approx(100 * 2 / 6))
    assert (sr["count"], sr["pct"]) == (1, pytest.approx(100 / 6))
    # Weighted: Σw = 9; Oui weighs 1 + 1 + 0, Non 2 + 3, no answer 2.
    assert oui["weighted_pct"] == pytest.approx(100 * 2 / 9)
    assert non["weighted_pct"] == pytest.approx(100 * 5 / 9)
    assert sr["weighted_pct"] == pytest.approx(100 * 2 / 9)
    # Effective size: (Σw)² / Σw² = 81 / 19; Wilson interval of 2/9 on it, written out.
    n, p = 81 / 19, 2 / 9
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    assert oui["n_eff"] == pytest.approx(n)
    assert oui["ci_low"] == pytest.approx(100 * (centre - half))
    assert oui["ci_high"] == pytest.approx(100 * (centre + half))
    assert oui["edition"] == 2099 and oui["chapter"] == "contexte" and oui["question"] == "Filtre ?"
    # Weighted figures on ensemble rows only.
    others = est[est["stratum"] != "ensemble"]
    assert others[["weighted_pct", "ci_low", "ci_high"]].isna().all().all()
    region = cell(est, "Non", "region")
    assert (region["base_n"], region["count"], region["pct"]) == (2, 1, 50.0)


def test_every_option_and_group_is_listed_in_order():
    est = estimate_question(data(), CB["filtre"])
    assert len(est) == 3 * len(GROUPS)
    assert est["option"].tolist() == [o for o in ("Oui", "Non", SANS_REPONSE) for _ in GROUPS]
    assert est["stratum"].tolist() == list(GROUPS) * 3
    dep = cell(est, "Oui", "departement")
    assert (dep["base_n"], dep["count"]) == (0, 0)
    assert math.isnan(dep["pct"]) and dep["suppressed"]


def test_multiple_choice_base_is_those_asked():
    est = estimate_question(data(), CB["choix"], codebook=CB)
    a, b, sr = (cell(est, o) for o in ("Option A", "Option B", SANS_REPONSE))
    # Asked (filtre = Oui): respondents 1, 2, 5.
    assert (a["base_n"], a["count"], a["pct"]) == (3, 2, pytest.approx(200 / 3))
    assert (b["count"], b["pct"]) == (1, pytest.approx(100 / 3))
    assert (sr["count"], sr["pct"]) == (1, pytest.approx(100 / 3))  # respondent 5 ticked nothing
    # Weighted: asked weights 1, 1, 0.
    assert a["weighted_pct"] == pytest.approx(100.0)
    assert b["weighted_pct"] == pytest.approx(50.0)
    assert sr["weighted_pct"] == pytest.approx(0.0)
    epci = cell(est, "Option B", "epci")
    assert (epci["base_n"], epci["count"], epci["pct"]) == (2, 1, 50.0)
    region = cell(est, "Option A", "region")
    assert region["base_n"] == 0 and region["suppressed"]


def test_matrix_rows():
    est = estimate_question(data(), CB["matrice"])
    x = {o: cell(est, o, item="Ligne X") for o in ("Fort", "Faible", SANS_REPONSE)}
    y = {o: cell(est, o, item="Ligne Y") for o in ("Fort", "Faible", SANS_REPONSE)}
    assert [x[o]["count"] for o in x] == [3, 2, 1]
    assert [y[o]["count"] for o in y] == [3, 1, 2]
    assert x["Fort"]["pct"] == pytest.approx(50.0)
    assert est["item"].drop_duplicates().tolist() == ["Ligne X", "Ligne Y"]


def test_ranking_shares_and_mean_rank():
    est = estimate_question(data(), CB["classement"])
    expected = {  # element: (rank 1, rank ≤ 2, rank ≤ 3, ranked by, mean rank)
        "P": (2, 4, 4, 4, 1.5),
        "Q": (2, 3, 5, 5, 2.0),
        "R": (1, 2, 4, 4, 2.25),
    }
    for element, (r1, r2, r3, n, mean) in expected.items():
        got = [cell(est, rank_label(k), item=element)["count"] for k in (1, 2, 3)]
        assert got == [r1, r2, r3], element
        mr = cell(est, "rang moyen", item=element)
        assert (mr["count"], mr["pct"]) == (n, pytest.approx(mean)), element
    assert cell(est, "rang 1", item="P")["pct"] == pytest.approx(100 * 2 / 6)
    sr = cell(est, SANS_REPONSE)
    assert (sr["base_n"], sr["count"]) == (6, 1)
    # Weighted rank-1 share of P: respondents 1 (w 1) and 3 (w 2) of Σw 9.
    assert cell(est, "rang 1", item="P")["weighted_pct"] == pytest.approx(100 * 3 / 9)
    # Weighted mean rank of P: ranks 1, 2, 1, 2 with weights 1, 1, 2, 0.
    assert cell(est, "rang moyen", item="P")["weighted_pct"] == pytest.approx(5 / 4)


def test_numeric_mean_and_median():
    est = estimate_question(data(), CB["nombre"])
    mean, median, sr = (cell(est, o) for o in ("moyenne", "médiane", SANS_REPONSE))
    assert (mean["base_n"], mean["count"], mean["pct"]) == (6, 4, pytest.approx(25.0))
    assert median["pct"] == pytest.approx(25.0)
    assert (sr["count"], sr["pct"]) == (2, pytest.approx(100 / 3))
    assert mean["weighted_pct"] == pytest.approx((10 + 20 + 2 * 40) / 4)  # weights 1, 1, 2, 0
    assert median["weighted_pct"] == pytest.approx(20.0)  # lower weighted median
    assert mean["ci_low"] < mean["weighted_pct"] < mean["ci_high"]


def test_suppression_flags_small_bases_and_keeps_numbers():
    est = estimate_question(data(), CB["filtre"], min_base=3)
    epci = cell(est, "Oui", "epci")
    assert epci["suppressed"] and epci["pct"] == 100.0
    assert not cell(est, "Oui")["suppressed"]


def test_estimate_all_in_codebook_order_and_fast_path():
    est = estimate_all(data(), CB)
    assert est["question_id"].drop_duplicates().tolist() == [
        "filtre",
        "choix",
        "matrice",
        "classement",
        "nombre",
    ]  # text questions are not tabulated
    assert (est["edition"] == 2099).all()
    unweighted = estimate_all(data(), CB, weight=None)
    assert unweighted["weighted_pct"].isna().all()
    assert unweighted["pct"].equals(est["pct"])


def test_headline():
    h = headline(data(), CB["filtre"], "Oui")
    assert (h.base_n, h.count, h.pct) == (6, 3, 50.0)
    assert h.weighted and h.value == pytest.approx(100 * 2 / 9)
    assert h.ci[0] < h.value < h.ci[1]
    plain = headline(data(), CB["filtre"], "Non", group="region", weighted=False)
    assert (plain.base_n, plain.count, plain.value, plain.ci) == (2, 1, 50.0, None)
    ranked = headline(data(), CB["classement"], "rang 1", item="P", weighted=False)
    assert ranked.count == 2
    with pytest.raises(EstimatesError, match="has no option 'Peut-être'"):
        headline(data(), CB["filtre"], "Peut-être")


def test_asked_conditions():
    raw = {
        "edition": 2099,
        "questions": [
            CODEBOOK["questions"][1] | {"asked_if": None},
            CODEBOOK["questions"][2],
            {
                "id": "suite_items",
                "chapter": "contexte",
                "type": "single",
                "text": "Suite",
                "options": ["Oui"],
                "columns": [{"heading": "S1", "code": "S1"}],
                "asked_if": {"question": "choix", "items": ["a", "b"]},
            },
            {
                "id": "suite_cellule",
                "chapter": "contexte",
                "type": "single",
                "text": "Suite",
                "options": ["Oui"],
                "columns": [{"heading": "S2", "code": "S2"}],
                "asked_if": {"question": "matrice", "item": "x", "in": ["Fort"]},
            },
        ],
    }
    cb = from_dict(raw)
    df = data()
    any_ticked = [True, True, False, False, False, False]
    fort_x = [True, False, True, False, True, False]
    assert asked_mask(df, cb["suite_items"]).tolist() == any_ticked
    assert asked_mask(df, cb["suite_items"], cb).tolist() == any_ticked
    assert asked_mask(df, cb["suite_cellule"]).tolist() == fort_x
    assert asked_mask(df, cb["suite_cellule"], cb).tolist() == fort_x


def test_bad_values_are_named():
    df = data()
    df["filtre"] = df["filtre"].astype(object)
    df.loc[2, "filtre"] = "Peut-être"
    with pytest.raises(
        EstimatesError, match=r"column 'filtre', response_id 3 has value 'Peut-être'"
    ):
        estimate_question(df, CB["filtre"])
    with pytest.raises(EstimatesError, match="no column 'nombre'"):
        estimate_question(data().drop(columns="nombre"), CB["nombre"])
    df = data()
    df.loc[0, "stratum"] = "ville"
    with pytest.raises(EstimatesError, match="response_id 1 has value 'ville'"):
        estimate_question(df, CB["filtre"])
    df = data()
    df.loc[1, "weight"] = -1.0
    with pytest.raises(EstimatesError, match="column 'weight', response_id 2 has weight -1.0"):
        estimate_question(df, CB["filtre"])
    df = data()
    df["nombre"] = df["nombre"].astype(object)
    df.loc[0, "nombre"] = "dix"
    with pytest.raises(EstimatesError, match="response_id 1 has value 'dix'"):
        estimate_question(df, CB["nombre"])


# -- properties ---------------------------------------------------------------------------------
answers = st.sampled_from(["Oui", "Non", None])
strata = st.sampled_from(["commune_lt_3500", "commune_3500_10000", "epci", "region", "autre"])
respondents = st.lists(
    st.tuples(answers, strata, st.floats(0.0, 5.0, allow_nan=False)), min_size=1, max_size=40
)


def frame_of(rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "response_id": range(1, len(rows) + 1),
            "filtre": pd.Categorical([r[0] for r in rows], ["Oui", "Non"]),
            "stratum": [r[1] for r in rows],
            "weight": [r[2] for r in rows],
        }
    )


@settings(max_examples=80, deadline=None)
@given(rows=respondents)
def test_single_choice_percentages_sum_to_100(rows):
    est = estimate_question(frame_of(rows), CB["filtre"])
    sums = est.groupby("stratum")["pct"].sum(min_count=1)
    bases = est.groupby("stratum")["base_n"].first()
    for group, total in sums.items():
        if bases[group] > 0:
            assert total == pytest.approx(100.0)
        else:
            assert math.isnan(total)
    w = est[est["stratum"] == "ensemble"]["weighted_pct"]
    if sum(r[2] for r in rows) > 0:
        assert w.sum() == pytest.approx(100.0)


@settings(max_examples=50, deadline=None)
@given(rows=respondents, seed=st.integers(0, 2**16))
def test_estimates_do_not_depend_on_row_order(rows, seed):
    df = frame_of(rows)
    shuffled = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    a = estimate_question(df, CB["filtre"])
    b = estimate_question(shuffled, CB["filtre"])
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=1e-12)
