"""Enrichment: category, population, région and stratum of each response."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from analysis.survey.enrich import METHODS, EnrichError, enrich, identify, stratum_column
from analysis.survey.reference import load_reference
from analysis.survey.strata import STRATA

CATEGORY = "Catégorie (enrichissement)"
POPULATION = "Population totale (enrichissement)"
KEY = "Structure (clé pseudonymisée)"
COMPLETE = "Votre structure a-t-elle engagé une réflexion sur les enjeux du numérique responsable ?"


@pytest.fixture(scope="module")
def ref():
    return load_reference()


def _export_responses(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "response_id": df["ID de la réponse"].astype("int64").to_numpy(),
            "category_raw": df[CATEGORY].to_numpy(),
            "population_raw": df[POPULATION].to_numpy(),
        }
    )


# -- from the export's own columns -----------------------------------------------------------------


def test_export_columns_known_answers(ref):
    responses = pd.DataFrame(
        {
            "response_id": [10, 3, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17],
            "category_raw": [
                "Commune",
                "Commune",
                "Commune",
                "Commune",
                "EPCI",
                "Metropole",
                "Département",  # accents tolerated
                " region ",  # case and spaces tolerated
                "GFP",
                "",
                "Syndicat",
                "Commune",
            ],
            "population_raw": [
                "3499",
                "3500",
                "10\u202f000",  # thin space as thousands separator
                "100000",
                "45000",
                "",
                "",
                "",
                "1200",
                "",
                "",
                "",
            ],
        },
        index=list("abcdefghijkl"),
    )
    enriched, report = enrich(responses, reference=ref)
    assert enriched.index.tolist() == list("abcdefghijkl")  # same rows, same order
    assert enriched["category"].tolist() == [
        "commune",
        "commune",
        "commune",
        "commune",
        "epci",
        "metropole",
        "departement",
        "region",
        "autre",
        "autre",
        "autre",
        "autre",  # a commune without population cannot be placed in a size class
    ]
    assert enriched["stratum"].astype(str).tolist() == [
        "commune_lt_3500",
        "commune_3500_10000",
        "commune_10000_100000",
        "commune_ge_100000",
        "epci",
        "metropole",
        "departement",
        "region",
        "autre",
        "autre",
        "autre",
        "autre",
    ]
    assert enriched["population"].tolist()[:5] == [3499, 3500, 10_000, 100_000, 45_000]
    assert enriched["population"].dtype == "Int64"
    assert enriched["region_code"].dtype == "string" and enriched["region_code"].isna().all()
    assert isinstance(enriched["stratum"].dtype, pd.CategoricalDtype)
    assert list(enriched["stratum"].cat.categories) == list(STRATA)
    assert report.columns.tolist() == ["response_id", "method", "detail"]
    assert report["response_id"].tolist() == sorted(responses["response_id"])
    assert set(report["method"]) == {"export"}
    last = report.set_index("response_id").loc[17, "detail"]
    assert "commune without population: counted as autre" in last
    # the input is not modified
    assert "category" not in responses.columns


def test_ingested_dtypes(ref):
    """Ingestion gives population_raw as float64 and an all-empty category_raw when absent."""
    responses = pd.DataFrame(
        {
            "response_id": pd.array([1, 2, 3], dtype="int64"),
            "category_raw": pd.array(["Commune", pd.NA, "EPCI"], dtype="string"),
            "population_raw": [3500.0, np.nan, 20000.0],
        }
    )
    enriched, _ = enrich(responses, reference=ref)
    assert enriched["population"].tolist() == [3500, pd.NA, 20000]
    assert enriched["stratum"].astype(str).tolist() == ["commune_3500_10000", "autre", "epci"]
    with pytest.raises(EnrichError, match=r"response_id 2, column 'population_raw': 2.5"):
        enrich(responses.assign(population_raw=[1.0, 2.5, 3.0]), reference=ref)
    # no category values at all: the identity decides
    empty = responses.assign(category_raw=pd.array([pd.NA] * 3, dtype="string"))
    identity = pd.DataFrame({"response_id": [1, 2, 3], "siret": ["21750001600019", "", ""]})
    enriched, report = enrich(empty, identity, ref)
    assert enriched["category"].tolist() == ["commune", "autre", "autre"]
    assert report["method"].tolist() == ["siren", "unmatched", "unmatched"]
    with pytest.raises(EnrichError, match="no 'category_raw' values and no identity"):
        enrich(empty, reference=ref)


def test_bad_population_names_the_response_and_value(ref):
    responses = pd.DataFrame(
        {
            "response_id": [1, 2],
            "category_raw": ["Commune", "Commune"],
            "population_raw": ["12", "1 2a"],
        }
    )
    with pytest.raises(EnrichError, match=r"response_id 2, column 'population_raw': '1 2a'"):
        enrich(responses, reference=ref)


def test_input_errors(ref):
    with pytest.raises(EnrichError, match="no 'category_raw' values and no identity"):
        enrich(pd.DataFrame({"response_id": [1]}), reference=ref)
    with pytest.raises(EnrichError, match="'response_id': '1' appears twice"):
        enrich(pd.DataFrame({"response_id": [1, 1], "category_raw": ["", ""]}), reference=ref)
    with pytest.raises(EnrichError, match="column 'response_id' missing"):
        enrich(pd.DataFrame({"category_raw": [""]}), reference=ref)
    with pytest.raises(EnrichError, match="neither 'siret' nor 'structure_name'"):
        enrich(
            pd.DataFrame({"response_id": [1]}), pd.DataFrame({"response_id": [1]}), reference=ref
        )


# -- from the identity -------------------------------------------------------------------------------

IDENTITY = pd.DataFrame(
    {
        "response_id": [1, 2, 3, 4, 5, 6, 7, 8, 9],
        "structure_name": [
            "Ville de Paris",
            "Commune de Saint-Denis",
            "Département de la Gironde",
            "n'importe quoi",
            None,
            "Mairie du Mans",
            "Région Bretagne",
            "",
            "Syndicat des eaux",
        ],
        "siret": [
            "",
            "",
            None,
            "21750001600019",  # the SIRET wins over the name
            "200046977",
            "123",  # malformed: falls back on the name
            "",
            "999999999",  # unknown, and no name
            "",
        ],
    }
)


def test_identity_known_answers(ref):
    responses = pd.DataFrame({"response_id": range(10, 0, -1)})  # 10 has no identity row
    enriched, report = enrich(responses, IDENTITY, ref)
    got = enriched.set_index("response_id")
    expected = {
        1: ("commune", "11", "commune_ge_100000"),
        2: ("autre", None, "autre"),
        3: ("departement", "75", "departement"),
        4: ("commune", "11", "commune_ge_100000"),
        5: ("metropole", "84", "metropole"),
        6: ("commune", "52", "commune_ge_100000"),
        7: ("region", "53", "region"),
        8: ("autre", None, "autre"),
        9: ("autre", None, "autre"),
        10: ("autre", None, "autre"),
    }
    for rid, (category, region, stratum) in expected.items():
        row = got.loc[rid]
        assert row["category"] == category, rid
        assert (None if pd.isna(row["region_code"]) else row["region_code"]) == region, rid
        assert row["stratum"] == stratum, rid
    assert got.loc[1, "population"] == got.loc[4, "population"] > 2_000_000
    assert pd.isna(got.loc[2, "population"])
    methods = report.set_index("response_id")["method"].to_dict()
    assert methods == {
        1: "name",
        2: "ambiguous",
        3: "name",
        4: "siren",
        5: "siren",
        6: "name",
        7: "name",
        8: "unmatched",
        9: "unmatched",
        10: "unmatched",
    }
    assert set(methods.values()) <= set(METHODS)
    details = report.set_index("response_id")["detail"]
    assert details[2].startswith("4 name candidates: Saint-Denis (commune 11339")
    assert details[4].startswith("SIREN 217500016 → Paris (commune 75056")
    assert details[6].startswith("SIRET malformed")
    assert details[8] == "SIREN 999999999 not in the reference; no structure name"
    assert details[10] == "no identity row"
    # the report names reference structures, never what the respondent typed
    assert not details.str.contains("importe|Syndicat", regex=True).any()


def test_identity_checks_the_export(ref):
    responses = pd.DataFrame(
        {
            "response_id": [1, 3, 4, 5, 6],
            "category_raw": ["Commune", "Departement", "EPCI", "Metropole", "Commune"],
            "population_raw": ["5", "", "", "", ""],
        }
    )
    enriched, report = enrich(responses, IDENTITY, ref)
    got = enriched.set_index("response_id")
    details = report.set_index("response_id")["detail"]
    assert set(report["method"]) == {"export"}
    # the export wins; the reference confirms or not
    assert got.loc[1, "population"] == 5 and got.loc[1, "stratum"] == "commune_lt_3500"
    assert details[1].endswith("— same category, population differs")
    assert got.loc[4, "category"] == "epci" and pd.isna(got.loc[4, "region_code"])
    assert details[4].endswith("— category differs")
    # a missing population is taken from the reference when the category agrees
    assert got.loc[3, "population"] > 1_000_000 and got.loc[3, "region_code"] == "75"
    assert got.loc[6, "stratum"] == "commune_ge_100000"
    assert details[6].endswith("population taken from the reference")


def test_identify_alone(ref):
    out = identify(IDENTITY, ref)
    assert out.index.tolist() == [str(i) for i in range(1, 10)]
    assert out.loc["5", "name"] == "Métropole de Lyon"
    assert out.loc["3", "code"] == "33"


def test_stratum_column():
    cat = pd.Series(["commune", "commune", "epci", "autre", "syndicat", "commune"])
    pop = pd.Series([100, 250_000, 50_000, None, 10, None], dtype="Int64")
    out = stratum_column(cat, pop)
    assert out.astype(object).where(out.notna(), None).tolist() == [
        "commune_lt_3500",
        "commune_ge_100000",
        "epci",
        "autre",
        "autre",
        None,
    ]


def test_identity_enrichment_is_vectorised(ref):
    communes = ref.communes.sample(20_000, random_state=1)
    n = len(communes)
    identity = pd.DataFrame(
        {
            "response_id": np.arange(n),
            "structure_name": "Commune de " + communes["nom"].to_numpy(),
            "siret": np.where(
                np.arange(n) % 2 == 0, communes["siren"].fillna("").to_numpy() + "00017", ""
            ),
        }
    )
    start = time.perf_counter()
    enriched, report = enrich(pd.DataFrame({"response_id": np.arange(n)}), identity, ref)
    elapsed = time.perf_counter() - start
    counts = report["method"].value_counts()
    assert counts["siren"] == n // 2
    assert counts["name"] + counts["ambiguous"] == n - n // 2
    # names shared by several communes are ambiguous; the others find their commune
    matched = report["method"].isin(["siren", "name"]).to_numpy()
    assert (enriched.loc[matched, "category"] == "commune").all()
    assert elapsed < 10, f"enrich of {n} identities took {elapsed:.1f} s"


# -- the real 2023 export ---------------------------------------------------------------------------


def test_real_2023_export_columns(real_2023, ref):
    df = pd.read_csv(real_2023, dtype=str, keep_default_na=False)
    enriched, report = enrich(_export_responses(df), reference=ref)
    assert len(enriched) == 1_053 and set(report["method"]) == {"export"}
    assert enriched["stratum"].value_counts().to_dict() == {
        "autre": 790,
        "epci": 68,
        "departement": 55,
        "metropole": 36,
        "commune_10000_100000": 30,
        "commune_lt_3500": 28,
        "region": 23,
        "commune_3500_10000": 13,
        "commune_ge_100000": 10,
    }


def test_real_2023_published_strata(real_2023, ref):
    """After the published cleaning rule (README), the published respondents per stratum."""
    df = pd.read_csv(real_2023, dtype=str, keep_default_na=False)
    complete = df[df[COMPLETE] != ""]
    assert len(complete) == 205
    order = pd.DataFrame(
        {"key": complete[KEY], "empty": (complete == "").sum(axis=1), "pos": np.arange(205)}
    ).sort_values(["key", "empty", "pos"])
    kept = complete.loc[order.drop_duplicates("key").index]
    assert len(kept) == 191
    enriched, _ = enrich(_export_responses(kept), reference=ref)
    assert enriched["stratum"].value_counts().to_dict() == {
        "autre": 75,
        "epci": 33,
        "departement": 25,
        "metropole": 18,
        "commune_10000_100000": 10,
        "region": 10,
        "commune_lt_3500": 9,
        "commune_3500_10000": 6,
        "commune_ge_100000": 5,
    }
