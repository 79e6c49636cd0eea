"""Shared fixtures: paths to the repository and to the real data beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
REAL_2023 = SHARED / "enquete-2023" / "reponses-2023.csv"
AGGREGATES_2022 = SHARED / "enquete-2022-agregats" / "All_statistics_2022.csv"

#: Known answers stated by the 2023 data README (typed from it, not read from the project's
#: data): the national frame of the published edition (communes < 3 500 = 34 945 − 2 160 − 981
#: − 42) and the respondents per stratum among the 191 it analysed.
FRAME_2023 = {
    "commune_lt_3500": 31_762,
    "commune_3500_10000": 2_160,
    "commune_10000_100000": 981,
    "commune_ge_100000": 42,
    "epci": 1_233,
    "metropole": 21,
    "departement": 101,
    "region": 18,
}
STRATA_191 = {
    "autre": 75,
    "epci": 33,
    "departement": 25,
    "metropole": 18,
    "region": 10,
    "commune_10000_100000": 10,
    "commune_lt_3500": 9,
    "commune_3500_10000": 6,
    "commune_ge_100000": 5,
}

_REASON = (
    "needs the real data in ../shared/data beside the repository "
    "(present in CI, absent from a user's clone)"
)


@pytest.fixture
def real_2023() -> Path:
    if not REAL_2023.exists():
        pytest.skip(f"{_REASON}: {REAL_2023.name} not found")
    return REAL_2023


@pytest.fixture
def aggregates_2022() -> Path:
    if not AGGREGATES_2022.exists():
        pytest.skip(f"{_REASON}: {AGGREGATES_2022.name} not found")
    return AGGREGATES_2022
