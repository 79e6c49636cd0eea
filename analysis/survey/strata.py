"""Strata of the barometer: codes, French labels and the groups the report tabulates.

A respondent belongs to exactly one *stratum*; the report also tabulates *groups* that
overlap (``ensemble``, ``hors_communes_lt_3500``, ``commune``). Codes are the values of the
``stratum`` column of the open-data export.
"""

from __future__ import annotations

#: Strata, in report order. Each respondent is in exactly one.
STRATA: tuple[str, ...] = (
    "commune_lt_3500",
    "commune_3500_10000",
    "commune_10000_100000",
    "commune_ge_100000",
    "epci",
    "metropole",
    "departement",
    "region",
    "autre",
)

#: Groups tabulated in the report and the export, in export order: name → member strata.
GROUPS: dict[str, tuple[str, ...]] = {
    "ensemble": STRATA,
    "hors_communes_lt_3500": tuple(s for s in STRATA if s != "commune_lt_3500"),
    "commune": STRATA[:4],
    **{s: (s,) for s in STRATA},
}

LABELS: dict[str, str] = {
    "ensemble": "Ensemble",
    "hors_communes_lt_3500": "Ensemble hors communes < 3 500 hab.",
    "commune": "Communes",
    "commune_lt_3500": "Communes < 3 500 hab.",
    "commune_3500_10000": "Communes de 3 500 à 10 000 hab.",
    "commune_10000_100000": "Communes de 10 000 à 100 000 hab.",
    "commune_ge_100000": "Communes ≥ 100 000 hab.",
    "epci": "EPCI (hors métropoles)",
    "metropole": "Métropoles",
    "departement": "Départements",
    "region": "Régions",
    "autre": "Autres structures",
}

#: Structure categories (the ``category`` column) and the strata they cover.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "commune": STRATA[:4],
    "epci": ("epci",),
    "metropole": ("metropole",),
    "departement": ("departement",),
    "region": ("region",),
    "autre": ("autre",),
}

#: Population thresholds splitting communes (lower bounds, inclusive).
COMMUNE_THRESHOLDS: tuple[tuple[int, str], ...] = (
    (100_000, "commune_ge_100000"),
    (10_000, "commune_10000_100000"),
    (3_500, "commune_3500_10000"),
    (0, "commune_lt_3500"),
)


def commune_stratum(population: float | int | None) -> str | None:
    """Stratum of a commune from its total population; None when the population is unknown."""
    if population is None or population != population:  # NaN
        return None
    for bound, code in COMMUNE_THRESHOLDS:
        if population >= bound:
            return code
    return None


def stratum_of(category: str, population: float | int | None) -> str | None:
    """Stratum of a structure from its category and, for communes, its population."""
    if category == "commune":
        return commune_stratum(population)
    if category in CATEGORIES:
        return category
    return "autre"
