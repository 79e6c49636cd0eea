"""Shared fixtures: paths to the repository and to the real data beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
REAL_2023 = SHARED / "enquete-2023" / "reponses-2023.csv"
AGGREGATES_2022 = SHARED / "enquete-2022-agregats" / "All_statistics_2022.csv"

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
