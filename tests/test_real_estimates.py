"""Estimates on the real 2023 export, checked against independent counts and the README.

The processed dataset is typed by ``analysis.survey.ingest``; the kept responses are those of the
README's cleaning rule applied here by hand on the raw strings (complete, then per structure
the fewest empty cells over the whole export row, first on ties), and the stratum comes from
the authors' enrichment fields (category, population) as in the published edition. Every
checked figure is recomputed here from the raw CSV with plain pandas, independently of the
package.
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FRAME_2023, STRATA_191

from analysis.build.writers import write_tables
from analysis.stats.compare import compare_editions, estimate_for_comparison
from analysis.stats.estimates import SANS_REPONSE, estimate_all, headline
from analysis.stats.published import read_aggregates
from analysis.stats.weights import compute_weights, diagnostics
from analysis.survey import codebook as cbmod
from analysis.survey import ingest
from analysis.survey.codebook import normalise_heading, normalise_text
from analysis.survey.strata import GROUPS, STRATA, stratum_of

pytestmark = pytest.mark.real

README_STRATA = STRATA_191
CATEGORY = {
    "Commune": "commune",
    "EPCI": "epci",
    "Metropole": "metropole",
    "Departement": "departement",
    "Region": "region",
}
#: Questions checked cell by cell, spanning every chapter and every tabulated type.
CHECKED = (
    "resultats_souhaites",  # contexte
    "rgpd_conformite",  # gouvernance
    "gouvernance_regles",  # gouvernance
    "gouvernance_regles_types",  # gouvernance, multiple, filtered
    "acculturation",  # motivations
    "obstacles",  # motivations, multiple
    "priorites",  # motivations, ranking
    "environnement_outil",  # environnement
    "numerique_responsable",  # environnement
    "hebergement",  # organisation
    "directions_implication",  # organisation, matrix
    "ia_projets",  # ia
    "ia_techniques",  # ia, multiple, filtered
    "cyber_attaque_subie",  # cybersecurite
    "cyber_mesures",  # cybersecurite, matrix
)


@lru_cache(maxsize=1)
def processed(path: Path) -> pd.DataFrame:
    cb = cbmod.load(2023)
    export = ingest.read_export(path, cb)
    ids = raw_clean(path)["ID de la réponse"].astype(int)
    kept = export.responses[export.responses["response_id"].isin(ids)]
    kept = kept.sort_values("response_id").reset_index(drop=True)
    category = kept["category_raw"].astype("object").map(CATEGORY).fillna("autre")
    kept["stratum"] = pd.Categorical(
        [stratum_of(c, p) for c, p in zip(category, kept["population_raw"], strict=True)],
        categories=STRATA,
    )
    kept["weight"] = compute_weights(kept, FRAME_2023)
    return kept


@lru_cache(maxsize=1)
def raw_clean(path: Path) -> pd.DataFrame:
    """The README's published cleaning, by hand on the raw strings."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    raw.columns = [normalise_heading(c) for c in raw.columns]
    completion = normalise_heading(
        "Votre structure a-t-elle engagé une réflexion sur les enjeux du numérique responsable ?"
    )
    complete = raw[raw[completion] != ""]
    empty = (complete == "").sum(axis=1)
    kept = (
        complete.assign(_empty=empty.to_numpy())
        .sort_values("_empty", kind="stable")
        .drop_duplicates("Structure (clé pseudonymisée)")
        .sort_index()
    )
    category = kept["Catégorie (enrichissement)"].map(CATEGORY).fillna("autre")
    population = pd.to_numeric(kept["Population totale (enrichissement)"], errors="coerce")
    kept = kept.assign(
        stratum=[stratum_of(c, p) for c, p in zip(category, population, strict=True)]
    )
    return kept.reset_index(drop=True)


@lru_cache(maxsize=1)
def estimates(path: Path) -> pd.DataFrame:
    return estimate_all(processed(path), cbmod.load(2023))


def cell(raw: pd.DataFrame, heading: str) -> pd.Series:
    return raw[normalise_heading(heading)].map(normalise_text)


def expected_rows(raw: pd.DataFrame, q) -> list[tuple[str, str, str, int, int]]:
    """(item, option, group, base, count) for every cell, counted with plain pandas."""
    cb = cbmod.load(2023)
    asked = pd.Series(True, index=raw.index)
    if q.asked_if is not None:
        parent = cb[q.asked_if.question]
        asked = cell(raw, parent.columns[0].heading).isin(q.asked_if.values)
    blocks: list[tuple[str, dict[str, pd.Series]]] = []
    if q.type == "single":
        v = cell(raw, q.columns[0].heading)
        blocks.append(("", {o: v == o for o in q.options} | {SANS_REPONSE: v == ""}))
    elif q.type == "matrix":
        for c in q.columns:
            v = cell(raw, c.heading)
            blocks.append((c.label, {o: v == o for o in q.options} | {SANS_REPONSE: v == ""}))
    elif q.type == "multiple":
        ticked = {c.label: cell(raw, c.heading) == "Oui" for c in q.columns}
        none = ~pd.concat(ticked.values(), axis=1).any(axis=1)
        blocks.append(("", ticked | {SANS_REPONSE: none}))
    elif q.type == "ranking":
        first = cell(raw, q.columns[0].heading)
        blocks.extend((e, {"rang 1": first == e}) for e in q.options)
    rows = []
    for item, options in blocks:
        for option, hit in options.items():
            for group, members in GROUPS.items():
                in_group = raw["stratum"].isin(members) & asked
                rows.append((item, option, group, int(in_group.sum()), int((hit & in_group).sum())))
    return rows


def test_real_sample_and_published_weights(real_2023):
    df = processed(real_2023)
    assert len(df) == 191
    assert df["stratum"].value_counts().to_dict() == README_STRATA
    per = df.groupby("stratum", observed=True)["weight"].first()
    published = {
        "commune_3500_10000": 1.893,
        "commune_10000_100000": 0.516,
        "commune_ge_100000": 0.044,
        "epci": 0.196,
        "departement": 0.021,
    }
    for stratum, value in published.items():
        assert round(per[stratum], 3) == value, stratum
    assert round(per["metropole"], 4) == 0.0061
    assert round(per["region"], 4) == 0.0095
    assert per["commune_lt_3500"] == per["autre"] == 0.0
    total = diagnostics(df).set_index("stratum").loc["ensemble"]
    assert total["n_eff"] == pytest.approx(22.544, abs=1e-3)
    assert total["deff"] == pytest.approx(4.746, abs=1e-3)


def test_processed_sample_matches_the_raw_cleaning(real_2023):
    df, raw = processed(real_2023), raw_clean(real_2023)
    assert sorted(raw["ID de la réponse"].astype(int)) == df["response_id"].tolist()
    assert 93 in set(df["response_id"]) and 41 not in set(df["response_id"])  # README tie


@pytest.mark.parametrize("qid", CHECKED)
def test_unweighted_cells_match_plain_counts(real_2023, qid):
    q = cbmod.load(2023)[qid]
    raw = raw_clean(real_2023)
    est = estimates(real_2023)
    est = est[est["question_id"] == qid].set_index(["item", "option", "stratum"])
    for item, option, group, base, count in expected_rows(raw, q):
        row = est.loc[(item, option, group)]
        assert (row["base_n"], row["count"]) == (base, count), (item, option, group)
        if base:
            assert row["pct"] == pytest.approx(100 * count / base)
        assert row["suppressed"] == (base < 5)


def test_ranking_cumulative_classes_match_plain_counts(real_2023):
    q = cbmod.load(2023)["priorites"]
    raw = raw_clean(real_2023)
    ranks = pd.concat([cell(raw, c.heading) for c in q.columns], axis=1)
    est = estimates(real_2023).set_index(["question_id", "item", "option", "stratum"])
    for element in q.options:
        at = ranks.eq(element).to_numpy()
        top2 = int(at[:, :2].any(axis=1).sum())
        assert est.loc[("priorites", element, "rang 1 ou 2", "ensemble"), "count"] == top2
        positions = at.argmax(axis=1)[at.any(axis=1)] + 1
        mean = est.loc[("priorites", element, "rang moyen", "ensemble"), "pct"]
        assert mean == pytest.approx(positions.mean())


def test_acculturation_figures_of_the_published_report(real_2023):
    """README: "insufficient" data culture, 46 % unweighted on 191 and 69 % weighted."""
    df, cb = processed(real_2023), cbmod.load(2023)
    q = cb["acculturation"]
    option = next(o for o in q.options if "insuffisant" in o)
    h = headline(df, q, option)
    assert (h.base_n, h.count) == (191, 87)
    assert np.round(h.pct) == 46
    assert np.round(h.weighted_pct) == 69
    assert h.ci[0] < h.weighted_pct < h.ci[1]
    # Weighted share by hand: Σ over strata of (count × stratum weight) / Σ (size × weight).
    raw = raw_clean(real_2023)
    hit = cell(raw, q.columns[0].heading) == option
    w = raw["stratum"].map(df.groupby("stratum", observed=True)["weight"].first())
    assert h.weighted_pct == pytest.approx(100 * (w * hit).sum() / w.sum())


def test_estimate_all_is_fast(real_2023):
    df, cb = processed(real_2023), cbmod.load(2023)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        est = estimate_all(df, cb)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.5, timings
    assert set(est["question_id"]) == {
        q.id for q in cb.of_type("single", "multiple", "ranking", "matrix", "numeric")
    }


def test_single_choice_totals_on_real_data(real_2023):
    est = estimates(real_2023)
    cb = cbmod.load(2023)
    single = est[est["question_id"].isin([q.id for q in cb.of_type("single")])]
    sums = single[single["base_n"] > 0].groupby(["question_id", "stratum"])["pct"].sum()
    assert np.allclose(sums, 100.0)
    wsum = single[single["stratum"] == "ensemble"].groupby("question_id")["weighted_pct"].sum()
    assert np.allclose(wsum, 100.0)


def test_comparison_with_the_published_2022_table(real_2023, aggregates_2022):
    cb23, cb22 = cbmod.load(2023), cbmod.load(2022)
    current = estimate_for_comparison(processed(real_2023), cb23)
    previous = read_aggregates(aggregates_2022, cb22)
    comp = compare_editions(current, previous, cb23)
    linked = {q.id for q in cb23.questions if q.previous is not None}
    assert set(comp["question_id"]) <= linked
    assert len(set(comp["question_id"])) >= 20
    # One cell by hand: "insufficient" culture, base hors communes < 3 500.
    option = next(o for o in cb23["acculturation"].options if "insuffisant" in o)
    row = comp[
        (comp["question_id"] == "acculturation")
        & (comp["option"] == option)
        & (comp["stratum"] == "hors_communes_lt_3500")
    ].iloc[0]
    agg = pd.read_csv(aggregates_2022)
    published = agg[
        agg["Question"].str.startswith("Management1")
        & (agg["Structure"] == "Total hors communes < 3500 habitants")
        & agg["Réponses"].str.contains("insuffisant")
    ].iloc[0]
    assert row["previous_pct"] == pytest.approx(
        100 * published["Occurrences"] / published["Effectifs par structure"]
    )
    raw = raw_clean(real_2023)
    base = raw["stratum"] != "commune_lt_3500"
    hits = (cell(raw, cb23["acculturation"].columns[0].heading) == option) & base
    assert row["pct"] == pytest.approx(100 * hits.sum() / base.sum())
    assert row["base_n"] == 182 and row["previous_base_n"] == 216
    assert row["diff_points"] == pytest.approx(row["pct"] - row["previous_pct"])
    # Two 2023 levels ("Non, mais …", "Non, et …") are compared with the 2022 "Non".
    regles = comp[(comp["question_id"] == "gouvernance_regles") & (comp["stratum"] == "ensemble")]
    assert "Non" in set(regles["previous_option"])


def test_real_export(real_2023, tmp_path):
    est = estimates(real_2023)
    start = time.perf_counter()
    csv_path, xlsx_path = write_tables(est, tmp_path / "2023.csv")
    elapsed = time.perf_counter() - start
    back = pd.read_csv(csv_path, keep_default_na=False)
    assert len(back) == len(est)
    assert (
        back["question_id"].drop_duplicates().tolist()
        == est["question_id"].drop_duplicates().tolist()
    )
    assert xlsx_path.stat().st_size > 0
    assert elapsed < 10, elapsed
