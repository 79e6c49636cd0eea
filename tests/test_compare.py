"""Edition comparison and the reader of published aggregate tables (2022)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.stats.compare import (
    COMPARISON_GROUPS,
    CompareError,
    compare_editions,
    estimate_for_comparison,
    summarise,
    two_proportion_test,
)
from analysis.stats.estimates import COLUMNS, SANS_REPONSE
from analysis.stats.published import GROUP_CODES, AggregatesError, read_aggregates
from analysis.survey import codebook as cbmod
from analysis.survey.codebook import from_dict

HEADER = (
    "Question,Structure,Réponses,Occurrences,Nombre de réponses,Effectifs par structure,"
    "Pourcentage,Edition\n"
)
#: A small table with every quirk of the published one (prefix, arrays, mangled multiple
#: choice, rankings, stray spaces, "Sans réponse").
SMALL = HEADER + (
    "Q1. Question simple ?,Total,Oui,3,4,4,75,2022\n"
    "Q1. Question simple ?,Total,Non,1,4,4,25,2022\n"
    "Q1. Question simple ?,Un EPCI,Oui,1,2,2,50,2022\n"
    "Q1. Question simple ?,Un EPCI,Non,1,2,2,50,2022\n"
    "Q1. Question simple ?,Une commune,Sans réponse,0,1,1,0,2022\n"
    " Q2[SQ002]. Matrice :  [Ligne un ] ,Total, Fort ,2,4,4,50,2022\n"
    "Q2[SQ002]. Matrice :  [Ligne un ],Total,Faible,2,4,4,50,2022\n"
    "Q3AO02]. Lesquels ?  ,Total,AO02. Lesquels ?  [Option A,3,4,4,75,2022\n"
    "Q3AO02]. Lesquels ?  ,Total,AO03. Lesquels ?  [Option B ,1,4,4,25,2022\n"
    "Q3AO02]. Lesquels ?  ,Total,Sans réponse,0,4,4,0,2022\n"
    "Q4[1]. Classez  [Classement 1],Total,P,3,4,4,75,2022\n"
    "Q4[1]. Classez  [Classement 1],Total,R,1,4,4,25,2022\n"
    "Q4[2]. Classez  [Classement 2],Total,R,2,4,4,50,2022\n"
    "Q4[2]. Classez  [Classement 2],Total,P,1,4,4,25,2022\n"
    "Q4[2]. Classez  [Classement 2],Total,Sans réponse,1,4,4,25,2022\n"
)


def write(tmp_path, text: str):
    path = tmp_path / "agregats.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_two_proportion_test_known_answer():
    # 50 % of 100 vs 40 % of 100: pooled 45 %, se = √(.45 · .55 · .02) = .070356, z = 1.4213.
    z, p = two_proportion_test(np.array([0.5]), np.array([100]), np.array([0.4]), np.array([100]))
    assert z[0] == pytest.approx(1.42134, abs=1e-4)
    assert p[0] == pytest.approx(0.15522, abs=1e-4)
    z, p = two_proportion_test(np.array([0.0, 0.3]), np.array([10, 0]), np.array([0.0, 0.2]), 10)
    assert (z[0], p[0]) == (0.0, 1.0)
    assert math.isnan(z[1]) and math.isnan(p[1])


# -- aggregates reader --------------------------------------------------------------------------
def test_read_small_table(tmp_path):
    agg = read_aggregates(write(tmp_path, SMALL))
    assert list(agg.columns[: len(COLUMNS)]) == list(COLUMNS)
    published = agg[~agg["derived"]]
    assert len(published) == 15
    first = published.iloc[0]
    assert (first["question_id"], first["question"], first["stratum"]) == (
        "Q1",
        "Question simple ?",
        "ensemble",
    )
    assert (first["option"], first["base_n"], first["count"], first["pct"]) == ("Oui", 4, 3, 75.0)
    assert set(published["stratum"]) == {"ensemble", "epci_metropole", "commune"}
    matrix = published[published["question_id"] == "Q2"]
    assert matrix["item"].tolist() == ["Ligne un", "Ligne un"]
    assert matrix["option"].tolist() == ["Fort", "Faible"]
    assert matrix["item_code"].tolist() == ["SQ002", "SQ002"]
    assert matrix["question"].iloc[0] == "Matrice :"
    multiple = published[published["question_id"] == "Q3"]
    assert multiple["option"].tolist() == ["Option A", "Option B", SANS_REPONSE]
    assert multiple["option_code"].tolist() == ["AO02", "AO03", ""]
    assert multiple["question"].iloc[0] == "Lesquels ?"
    ranking = published[published["question_id"] == "Q4"]
    assert ranking["item"].tolist() == ["P", "R", "R", "P", ""]
    assert ranking["option"].tolist() == ["rang 1", "rang 1", "rang 2", "rang 2", SANS_REPONSE]
    assert ranking["question"].iloc[0] == "Classez"
    derived = agg[agg["derived"]]
    assert derived[["item", "option", "count"]].values.tolist() == [
        ["P", "rang 1 ou 2", 4],
        ["R", "rang 1 ou 2", 3],
    ]
    assert derived["pct"].tolist() == [100.0, 75.0]
    assert (published["pct"].round() == published["published_pct"]).all()


def test_read_small_table_with_codebook(tmp_path):
    raw = {
        "edition": 2022,
        "questions": [
            {
                "id": "simple",
                "code": "Q1",
                "chapter": "gouvernance",
                "type": "single",
                "text": "Question simple ?",
                "options": ["Oui", "Non"],
                "columns": [{"heading": "Question simple ?", "code": "Q1"}],
            },
            {
                "id": "matrice",
                "code": "Q2",
                "chapter": "organisation",
                "type": "matrix",
                "text": "Matrice :",
                "options": ["Fort", "Faible"],
                "columns": [
                    {"heading": "M [1]", "code": "Q2[SQ002]", "item": "un", "label": "Ligne 1"}
                ],
            },
            {
                "id": "lesquels",
                "code": "Q3",
                "chapter": "ia",
                "type": "multiple",
                "text": "Lesquels ?",
                "columns": [
                    {"heading": "L [A]", "code": "Q3[AO02]", "item": "a", "label": "Choix A"},
                    {"heading": "L [B]", "code": "Q3[AO03]", "item": "b", "label": "Choix B"},
                ],
            },
            {
                "id": "classement",
                "code": "Q4",
                "chapter": "motivations",
                "type": "ranking",
                "text": "Classez",
                "options": ["P", "R"],
                "columns": [
                    {"heading": "C [1]", "code": "Q4[1]", "item": "1"},
                    {"heading": "C [2]", "code": "Q4[2]", "item": "2"},
                ],
            },
        ],
    }
    cb = from_dict(raw)
    agg = read_aggregates(write(tmp_path, SMALL), cb)
    assert agg["question_id"].drop_duplicates().tolist() == [
        "simple",
        "matrice",
        "lesquels",
        "classement",
    ]
    assert agg.loc[agg["question_id"] == "matrice", "item"].unique().tolist() == ["Ligne 1"]
    assert agg.loc[agg["question_id"] == "lesquels", "option"].tolist() == [
        "Choix A",
        "Choix B",
        SANS_REPONSE,
    ]
    assert agg.loc[agg["question_id"] == "lesquels", "chapter"].unique().tolist() == ["ia"]
    only_simple = from_dict({"edition": 2022, "questions": raw["questions"][:1]})
    with pytest.raises(AggregatesError, match=r"'Q2\[SQ002\]' has no entry in the 2022 codebook"):
        read_aggregates(write(tmp_path, SMALL), only_simple)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n", "header"),
        (
            HEADER + "Q1. Texte,Une ville,Oui,1,1,1,100,2022\n",
            "row 2, column 'Structure' has 'Une ville'",
        ),
        (
            HEADER + "Q1. Texte,Total,Oui,trois,1,1,100,2022\n",
            "row 2, column 'Occurrences' has 'trois'",
        ),
        (
            HEADER + "Q1 sans point,Total,Oui,1,1,1,100,2022\n",
            "row 2: column 'Question' has 'Q1 sans point'",
        ),
        (
            HEADER + "Q1. Texte,Total,Oui,0,0,0,0,2022\n",
            "row 2, column 'Effectifs par structure' is 0",
        ),
        (
            HEADER + "Q3AO02]. L ?,Total,AO02. sans crochet,1,1,1,100,2022\n",
            "row 2, column 'Réponses'",
        ),
    ],
)
def test_reader_names_bad_input(tmp_path, text, message):
    with pytest.raises(AggregatesError, match=message.replace("(", r"\(")) as info:
        read_aggregates(write(tmp_path, text))
    assert "agregats.csv" in str(info.value)


def test_read_real_2022_aggregates(aggregates_2022):
    agg = read_aggregates(aggregates_2022)
    published = agg[~agg["derived"]]
    assert len(published) == 2908
    # Published percentage = round-half-even(100 · Occurrences / Effectifs) on every row.
    assert (np.round(published["pct"]) == published["published_pct"]).all()
    sizes = published.groupby("stratum")["base_n"].agg(["min", "max"])
    assert (sizes["min"] == sizes["max"]).all()
    assert sizes["min"].to_dict() == {
        "autre": 31,
        "commune": 140,
        "epci_metropole": 83,
        "departement": 29,
        "region": 14,
        "commune_lt_3500": 81,
        "commune_3500_10000": 17,
        "commune_10000_100000": 35,
        "commune_ge_100000": 7,
        "ensemble": 297,
        "hors_communes_lt_3500": 216,
    }
    assert set(GROUP_CODES.values()) == set(sizes.index)
    assert published["source_question"].nunique() == 67
    assert (published["option"] == SANS_REPONSE).sum() == 147
    assert not published["question"].str.contains(r"\[|^\s|\s$", regex=True).any()
    obstacles = published[published["question_id"] == "G7Q00002"]
    assert "Le manque de compétences" in set(obstacles["option"])


def test_read_real_2022_aggregates_with_codebook(aggregates_2022):
    cb = cbmod.load(2022)
    agg = read_aggregates(aggregates_2022, cb)
    assert set(agg["question_id"]) == {q.id for q in cb.questions if q.type != "admin"}
    assert (agg["chapter"] != "").all()
    for q in cb.of_type("single", "matrix"):
        options = set(agg.loc[agg["question_id"] == q.id, "option"]) - {SANS_REPONSE}
        assert options <= set(q.options), q.id
    for q in cb.of_type("multiple"):
        options = set(agg.loc[agg["question_id"] == q.id, "option"]) - {SANS_REPONSE}
        assert options == {c.label for c in q.columns}, q.id


# -- comparison ---------------------------------------------------------------------------------
CURRENT = from_dict(
    {
        "edition": 2023,
        "questions": [
            {
                "id": "regles",
                "chapter": "gouvernance",
                "type": "single",
                "text": "Des règles ?",
                "options": ["Oui", "Non, mais prévu", "Non, et pas prévu"],
                "columns": [{"heading": "Des règles ?", "code": "R1"}],
                "previous": {
                    "edition": 2022,
                    "id": "regles_2022",
                    "options": {"Non, mais prévu": "Non", "Non, et pas prévu": "Non"},
                },
            },
            {
                "id": "types",
                "chapter": "gouvernance",
                "type": "multiple",
                "text": "Lesquelles ?",
                "columns": [
                    {"heading": "L [c]", "code": "R2[c]", "item": "charte", "label": "Charte"}
                ],
                "asked_if": {"question": "regles", "in": ["Oui"]},
                "previous": {"edition": 2022, "id": "types_2022"},
            },
        ],
    }
)


def current_data() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "response_id": range(1, 11),
            "stratum": ["epci"] * 4 + ["metropole"] * 2 + ["commune_lt_3500"] * 2 + ["region"] * 2,
            "weight": 1.0,
            "regles": [
                "Oui",
                "Oui",
                "Non, mais prévu",
                "Non, et pas prévu",
                "Oui",
                "Non, et pas prévu",
                "Non, et pas prévu",
                "Non, et pas prévu",
                "Oui",
                None,
            ],
            "types__charte": pd.array(
                [True, False, None, None, True, None, None, None, False, None], dtype="boolean"
            ),
        }
    )


def previous_rows() -> pd.DataFrame:
    rows = []
    for stratum, base, oui, non in (
        ("ensemble", 100, 20, 70),
        ("hors_communes_lt_3500", 80, 20, 55),
        ("epci_metropole", 40, 10, 28),
    ):
        for option, count in (("Oui", oui), ("Non", non), (SANS_REPONSE, base - oui - non)):
            rows.append(("regles_2022", "", option, stratum, base, count, None))
        # Filtered question: published over every respondent, the not-asked as "Sans réponse".
        rows.append(("types_2022", "", "Charte", stratum, base, oui // 2, oui))
        rows.append(("types_2022", "", SANS_REPONSE, stratum, base, base - oui, oui))
    df = pd.DataFrame(
        rows,
        columns=["question_id", "item", "option", "stratum", "base_n", "count", "answered_n"],
    )
    df["pct"] = 100.0 * df["count"] / df["base_n"]
    df["weighted_pct"] = np.nan
    df["answered_n"] = df["answered_n"].astype("Int64")
    return df


def test_comparison_groups_merge_epci_and_metropoles():
    est = estimate_for_comparison(current_data(), CURRENT)
    assert set(COMPARISON_GROUPS) == set(est["stratum"])
    row = est[(est["stratum"] == "epci_metropole") & (est["option"] == "Oui")].iloc[0]
    assert (row["base_n"], row["count"]) == (6, 3)


def test_compare_editions_known_answer():
    est = estimate_for_comparison(current_data(), CURRENT)
    comp = compare_editions(est, previous_rows(), CURRENT)
    regles = comp[comp["question_id"] == "regles"].set_index(["stratum", "previous_option"])
    # Ensemble: 4 "Oui" of 10 in 2023 vs 20 of 100 in 2022.
    oui = regles.loc[("ensemble", "Oui")]
    assert (oui["pct"], oui["n"], oui["previous_pct"], oui["previous_n"]) == (40.0, 10, 20.0, 100)
    assert oui["diff_points"] == pytest.approx(20.0)
    pooled = (0.4 * 10 + 0.2 * 100) / 110
    z = (0.4 - 0.2) / math.sqrt(pooled * (1 - pooled) * (1 / 10 + 1 / 100))
    assert oui["z"] == pytest.approx(z)
    assert oui["significant"] == (abs(z) > 1.959964)
    # The two 2023 "Non, …" levels add up to the 2022 "Non": 1 + 4 = 5 of 10.
    non = regles.loc[("ensemble", "Non")]
    assert non["pct"] == pytest.approx(50.0)
    assert non["option"] == "Non, mais prévu + Non, et pas prévu"
    # Base hors communes < 3 500: 8 respondents, 4 "Oui".
    assert regles.loc[("hors_communes_lt_3500", "Oui"), "pct"] == pytest.approx(50.0)
    assert regles.loc[("hors_communes_lt_3500", "Oui"), "base_n"] == 8
    assert set(comp["stratum"]) == {"ensemble", "hors_communes_lt_3500"}


def test_filtered_questions_are_rebased_on_those_who_answered():
    est = estimate_for_comparison(current_data(), CURRENT)
    comp = compare_editions(est, previous_rows(), CURRENT)
    types = comp[(comp["question_id"] == "types") & (comp["stratum"] == "ensemble")]
    assert types["option"].tolist() == ["Charte"]  # "sans réponse" is not comparable
    row = types.iloc[0]
    # 2023: asked 4 (regles = Oui), 2 ticked; 2022: 10 of the 20 who were asked.
    assert (row["pct"], row["base_n"]) == (50.0, 4)
    assert (row["previous_pct"], row["previous_base_n"]) == (50.0, 20)
    assert row["diff_points"] == 0.0 and not row["significant"]
    assert row["suppressed"]  # 4 < 5 in 2023


def test_compare_by_type_and_errors():
    est = estimate_for_comparison(current_data(), CURRENT)
    comp = compare_editions(est, previous_rows(), CURRENT, groups=["epci_metropole"])
    row = comp[(comp["question_id"] == "regles") & (comp["previous_option"] == "Oui")].iloc[0]
    assert (row["pct"], row["base_n"], row["previous_pct"]) == (50.0, 6, 25.0)
    from analysis.stats.estimates import estimate_all

    plain = estimate_all(current_data(), CURRENT)
    with pytest.raises(CompareError, match="current estimates have no group 'epci_metropole'"):
        compare_editions(plain, previous_rows(), CURRENT, groups=["epci_metropole"])
    with pytest.raises(CompareError, match="previous estimates have no weighted figures"):
        compare_editions(est, previous_rows(), CURRENT, weighted=True)
    significant = summarise(comp)
    assert significant["significant"].all()


def test_design_based_comparison_of_two_editions_with_microdata():
    """Both editions estimated by the design: the difference of two independent estimates."""
    frame = {"epci": 40, "metropole": 21, "commune_lt_3500": 100, "region": 18}
    est = estimate_for_comparison(current_data(), CURRENT, method="frame", frame=frame)
    previous = est.copy()
    previous["question_id"] = previous["question_id"].map(
        {"regles": "regles_2022", "types": "types_2022"}
    )
    previous["option"] = previous["option"].replace(
        {"Non, mais prévu": "Non", "Non, et pas prévu": "Non"}
    )
    comp = compare_editions(est, previous, CURRENT, weighted=True)
    oui = comp[(comp["question_id"] == "regles") & (comp["option"] == "Oui")]
    cur = est[(est["question_id"] == "regles") & (est["option"] == "Oui")].set_index("stratum")
    for _, r in oui.iterrows():
        se = cur.loc[r["stratum"], "se"]
        assert se > 0
        assert r["diff_points"] == 0.0 and r["z"] == 0.0 and r["p_value"] == 1.0
        half = 1.959963984540054 * np.sqrt(2) * se
        assert r["diff_low"] == pytest.approx(-half) and r["diff_high"] == pytest.approx(half)
