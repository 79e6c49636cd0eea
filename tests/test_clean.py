"""The published cleaning rule: known answers on a hand-made export, 205 → 191 on the real one."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import STRATA_191

from analysis.survey.clean import CleanError, clean, empty_cells
from analysis.survey.codebook import from_dict, load
from analysis.survey.ingest import read_export
from analysis.survey.strata import stratum_of

DATA = Path(__file__).resolve().parent / "data"

SMALL = from_dict(
    {
        "edition": 1999,
        "questions": [
            {"id": "response_id", "chapter": "contexte", "type": "admin",
             "columns": [{"heading": "ID de la réponse", "code": "id"}]},
            {"id": "structure_key", "chapter": "contexte", "type": "admin",
             "columns": [{"heading": "Clé de structure", "code": "key"}]},
            {"id": "q1", "chapter": "contexte", "type": "single", "options": ["Oui", "Non"],
             "columns": [{"heading": "Question 1 ?", "code": "Q1"}]},
            {"id": "numerique_responsable", "chapter": "environnement", "type": "single",
             "options": ["Oui", "Non"],
             "columns": [{"heading": "Numérique responsable ?", "code": "NR"}]},
            {"id": "remarque", "chapter": "contexte", "type": "text",
             "columns": [{"heading": "Remarque ?", "code": "R"}]},
            {"id": "choix", "chapter": "contexte", "type": "multiple",
             "columns": [{"heading": "Choix [a]", "code": "C[a]", "item": "a"},
                         {"heading": "Choix [b]", "code": "C[b]", "item": "b"}]},
        ],
    }
)  # fmt: skip


@pytest.fixture
def small() -> pd.DataFrame:
    return read_export(DATA / "clean_small.csv", SMALL).responses


def test_empty_cells_count_every_column_of_the_file(small):
    # the published rule counts empty cells over the whole row of the export (README), admin
    # columns included; "N/A" and "Non" are not empty. Counted by hand on clean_small.csv.
    assert empty_cells(small, SMALL).tolist() == [1, 1, 2, 0, 3, 3, 2, 1, 0, 2, 1, 1]


def test_clean_known_answers(small):
    kept, drops = clean(small, SMALL)
    # complete = answered numerique_responsable: all but 5 and 8.
    # A: 1 (1 empty), 2 (1), 10 (0) -> 10.  B: 3 (2), 4 (0) -> 4.  C: only 9 complete.
    # D: 12 then 11 in file order, 1 empty each -> 12 (first in the file, not lowest id).
    # No key: 6 and 7 kept, each its own structure.
    assert kept["response_id"].tolist() == [4, 6, 7, 9, 10, 12]
    assert drops["response_id"].tolist() == [1, 2, 3, 5, 8, 11]
    assert drops["reason"].tolist() == [
        "duplicate_structure",
        "duplicate_structure",
        "duplicate_structure",
        "incomplete",
        "incomplete",
        "duplicate_structure",
    ]
    assert list(drops.columns) == ["response_id", "reason"]
    assert drops["response_id"].dtype == "int64"
    assert list(kept.columns) == list(small.columns)
    assert kept.index.tolist() == list(range(6))


def test_clean_is_order_sensitive_only_on_ties(small):
    reordered = small.iloc[::-1].reset_index(drop=True)
    kept, _ = clean(reordered, SMALL)
    # reversed file: D now has 11 first -> 11 kept; every other choice is by empty cells
    assert kept["response_id"].tolist() == [4, 6, 7, 9, 10, 11]


def test_clean_errors(small):
    with pytest.raises(CleanError, match="'structure_key' is missing"):
        clean(small.drop(columns="structure_key"), SMALL)
    with pytest.raises(CleanError, match="'numerique_responsable' is missing"):
        clean(small.drop(columns="numerique_responsable"), SMALL)
    dup = small.copy()
    dup.loc[1, "response_id"] = 1
    with pytest.raises(CleanError, match="duplicated value 1"):
        clean(dup, SMALL)


# -- the real export ------------------------------------------------------------------------
CATEGORY = {
    "Commune": "commune",
    "EPCI": "epci",
    "Metropole": "metropole",
    "Departement": "departement",
    "Region": "region",
}


def provisional_stratum(responses: pd.DataFrame) -> pd.Series:
    """Stratum from the export's enrichment columns (GFP, empty, anything else: autre)."""
    category = responses["category_raw"].map(CATEGORY).fillna("autre")
    pops = responses["population_raw"]
    return pd.Series(
        [stratum_of(c, None if pd.isna(p) else p) for c, p in zip(category, pops, strict=True)],
        index=responses.index,
    )


def test_real_export_205_complete_191_kept(real_2023):
    cb = load(2023)
    t0 = time.perf_counter()
    exp = read_export(real_2023, cb)
    kept, drops = clean(exp.responses, cb)
    elapsed = time.perf_counter() - t0
    assert elapsed < 2.0, f"read_export + clean took {elapsed:.2f} s"

    assert (drops["reason"] == "incomplete").sum() == 1053 - 205
    assert len(kept) == 191
    ids = set(kept["response_id"])
    # README: the rule keeps 93 (not 41) for the région that answered twice; for the
    # département S7140bef4 it keeps 551 (109 empty cells) over 503 (114)
    assert 93 in ids and 41 not in ids
    assert 551 in ids and 503 not in ids
    assert (drops["reason"] == "duplicate_structure").sum() == 205 - 191
    assert drops["response_id"].is_monotonic_increasing
    assert kept["response_id"].is_monotonic_increasing
    assert set(kept["response_id"]) | set(drops["response_id"]) == set(exp.responses["response_id"])
    assert kept["numerique_responsable"].notna().all()
    keyed = kept["structure_key"].dropna()
    assert keyed.is_unique and kept["structure_key"].isna().sum() == 1
    # README: the région that answered twice: response 93 kept here (41 in the published
    # edition, which also counted the removed identifying columns)
    assert 93 in set(kept["response_id"])
    assert drops.set_index("response_id").loc[41, "reason"] == "duplicate_structure"

    counts = provisional_stratum(kept).value_counts().to_dict()
    assert counts == STRATA_191
