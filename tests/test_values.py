"""One definition of an empty cell, the structure-type vocabulary and population conventions."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.survey import identity, values


@pytest.mark.parametrize(
    "cell", ["", " ", "\t", "\n", "\u00a0", "\u202f", "\u2009", "\u200b", "\ufeff", " \u00a0\t"]
)
def test_blank_cells(cell):
    assert values.is_blank(cell) and values.is_missing(cell)


@pytest.mark.parametrize("cell", ["0", "Non", "N/A ", ".", "-", "\u00a0x"])
def test_not_blank(cell):
    assert not values.is_blank(cell)
    assert values.is_missing(cell) == (cell.strip() == "N/A")


@pytest.mark.parametrize(
    ("label", "category"),
    [
        ("Commune", "commune"),
        ("Communes", "commune"),
        (" COMMUNE ", "commune"),
        ("EPCI", "epci"),
        ("Communauté de communes", "epci"),
        ("Communauté de communes du Pays Riolais", "epci"),
        ("Communauté d’agglomération", "epci"),
        ("communaute d'agglomeration du Grand Angoulême", "epci"),
        ("Communauté urbaine", "epci"),
        ("Metropole", "metropole"),
        ("Métropoles", "metropole"),
        ("Métropole de Lyon", "metropole"),
        ("Departement", "departement"),
        ("Conseil départemental", "departement"),
        ("Conseil départemental de la Gironde", "departement"),
        ("Département du Nord", "departement"),
        ("Region", "region"),
        ("Régions", "region"),
        ("Région Bretagne", "region"),
        ("Conseil régional", "region"),
        ("", "autre"),
        ("\u00a0", "autre"),
        ("GFP", "autre"),
        ("Autre", "autre"),
    ],
)
def test_structure_types(label, category):
    assert values.structure_type(label) == category


@pytest.mark.parametrize("label", ["=SOMME(A1)", "Collectivité", "Communale", "Régionale", "x"])
def test_unknown_structure_types(label):
    assert values.structure_type(label) is None


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("12000", 12000),
        ("12 000", 12000),
        ("12\u00a0000", 12000),
        ("12\u202f000", 12000),
        ("12'000", 12000),
        ("12,000", 12000),
        ("12.000", 12000),
        ("1,688,205", 1688205),
        ("1.688.205", 1688205),
        ("1 688 205", 1688205),
        ("1.688.205,0", 1688205),
        ("1,688,205.00", 1688205),
        ("18554,0", 18554),
        ("18554.0", 18554),
        ("18554,00", 18554),
        ("", None),
        (" \u00a0", None),
    ],
)
def test_population_conventions(cell, value):
    assert values.parse_population(cell) == value


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("12,5", "not a whole number"),
        ("0,500", "not a whole number"),
        ("1234,567", "not a whole number"),
        ("1.688.205,5", "not a whole number"),
        ("beaucoup", "not a number"),
        ("-3", "negative"),
        ("1,2,3", "not a number"),
    ],
)
def test_population_refused(cell, reason):
    with pytest.raises(values.PopulationError, match=reason):
        values.parse_population(cell)


def test_population_ambiguous_within_a_column():
    got, err = values.parse_populations(["18554,0", "", "12,000"], where=lambda k: f"line {k + 2}")
    assert got[:2] == [18554, None]
    assert err is not None and err[0] == 2 and err[1] == "12,000"
    assert "ambiguous" in err[2] and "'18554,0' (line 2)" in err[2]
    # the same cell beside thousands separators only is read as 12 000
    got, err = values.parse_populations(["1,688,205", "12,000", "7 555"])
    assert err is None and got == [1688205, 12000, 7555]


def test_identity_priority():
    idx = pd.RangeIndex(6)
    key = pd.Series(["S1", None, None, None, " ", None], index=idx, dtype="string")
    cat = pd.Series(["epci", "commune", "autre", "autre", "autre", "autre"], index=idx)
    matched = pd.DataFrame(
        {
            "method": ["siren", "name", "unmatched", "unmatched", "unmatched", "unmatched"],
            "code": ["200068120", "25388", None, None, None, None],
            "category": ["epci", "commune", None, None, None, None],
        },
        index=idx,
    )
    siret = pd.Series([None, None, "123 456 789 00012", "12", None, None], index=idx)
    name = pd.Series([None, "Montbéliard", None, "Syndicat X", "Syndicat  x", ""], index=idx)
    out = identity.resolve(key, cat, matched, siret, name)
    assert out["identified_by"].tolist() == [
        "structure_key", "reference", "siren", "name", "name", "none"
    ]  # fmt: skip
    assert out.at[0, "identity_key"] == "key:S1"
    assert out.at[1, "identity_key"] == "ref:commune:25388"
    assert out.at[2, "identity_key"] == "siren:123456789"
    assert out.at[3, "identity_key"] == out.at[4, "identity_key"]  # case, spaces folded
    assert pd.isna(out.at[5, "identity_key"])
