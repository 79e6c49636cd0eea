"""Weights: the published post-stratification, the frame one, raking, diagnostics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import FRAME_2023, STRATA_191
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.stats.weights import (
    WeightsError,
    compute_weights,
    design_effect,
    diagnostics,
    effective_n,
    post_stratify,
    rake,
    stratum_weights,
)
from analysis.survey.strata import STRATA

#: 2023 national frame as stated in the 2023 README (communes < 3 500 = 34 945 − 2 160 − 981 − 42).
#: Respondents per stratum among the 191 kept in 2023 (README).
SAMPLE_2023 = STRATA_191
#: The published "Total pondéré" weights (README), with the precision it gives them.
PUBLISHED = {
    "commune_3500_10000": (1.893, 3),
    "commune_10000_100000": (0.516, 3),
    "commune_ge_100000": (0.044, 3),
    "epci": (0.196, 3),
    "metropole": (0.0061, 4),
    "departement": (0.021, 3),
    "region": (0.0095, 4),
}


def sample_2023() -> pd.DataFrame:
    strata = [s for s, n in SAMPLE_2023.items() for _ in range(n)]
    return pd.DataFrame({"stratum": strata})


def test_frame_total_is_the_readme_total():
    assert sum(FRAME_2023.values()) == 36_318
    assert sum(v for k, v in FRAME_2023.items() if k.startswith("commune")) == 34_945


def test_observatoire_reproduces_the_published_weights():
    df = sample_2023()
    w = compute_weights(df, FRAME_2023)  # default method
    per = w.groupby(df["stratum"]).first()
    for stratum, (value, digits) in PUBLISHED.items():
        assert round(per[stratum], digits) == value, stratum
    assert per["commune_lt_3500"] == 0.0
    assert per["autre"] == 0.0
    # By hand: communes 3 500–10 000 weigh (2 160 / 36 318) / (6 / 191).
    assert per["commune_3500_10000"] == pytest.approx((2160 / 36318) / (6 / 191), rel=1e-12)


def test_observatoire_small_known_answer():
    strata = pd.Series(
        ["commune_lt_3500", "commune_lt_3500", "epci", "autre"], index=[10, 11, 12, 13]
    )
    w = post_stratify(strata, {"commune_lt_3500": 100, "epci": 10})
    # N = 110, n = 4: epci (10/110)/(1/4) = 4/11; small communes and autre weigh 0.
    assert list(w.index) == [10, 11, 12, 13]
    assert w.tolist() == pytest.approx([0.0, 0.0, 4 / 11, 0.0])


def test_frame_small_known_answer():
    strata = pd.Series(["commune_lt_3500", "commune_lt_3500", "epci", "autre"])
    w = post_stratify(strata, {"commune_lt_3500": 100, "epci": 10}, "frame")
    assert w.tolist() == pytest.approx([50.0, 50.0, 10.0, 0.0])
    assert w.sum() == pytest.approx(110.0)


def test_frame_object_with_counts_and_total():
    class Frame:
        counts = {"epci": 10, "region": 30}
        total = 80  # larger than the counts: strata not listed still count in N

    w = stratum_weights({"epci": 1, "region": 1}, Frame(), "observatoire")
    assert w == pytest.approx({"epci": (10 / 80) / (1 / 2), "region": (30 / 80) / (1 / 2)})


def test_frame_weights_on_2023_sum_to_the_frame_total():
    df = sample_2023()
    w = compute_weights(df, FRAME_2023, "frame")
    assert w.sum() == pytest.approx(36_318)
    assert w[df["stratum"] == "commune_lt_3500"].iloc[0] == pytest.approx(31_762 / 9)
    assert (w[df["stratum"] == "autre"] == 0).all()


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 15), min_size=8, max_size=8),
    counts=st.lists(st.integers(1, 50_000), min_size=8, max_size=8),
    autre=st.integers(0, 10),
    seed=st.integers(0, 2**16),
)
def test_frame_weights_sum_to_frame_total(sizes, counts, autre, seed):
    frame_strata = [s for s in STRATA if s != "autre"]
    strata = [s for s, n in zip(frame_strata, sizes, strict=True) for _ in range(n)]
    strata += ["autre"] * autre
    order = np.random.default_rng(seed).permutation(len(strata))
    df = pd.DataFrame({"stratum": np.asarray(strata)[order]})
    frame = dict(zip(frame_strata, counts, strict=True))
    w = compute_weights(df, frame, "frame")
    assert w.sum() == pytest.approx(sum(counts), rel=1e-9)
    assert (w[df["stratum"] == "autre"] == 0).all()


@pytest.mark.parametrize(
    ("strata", "frame", "method", "message"),
    [
        (["epci", None], {"epci": 1}, "observatoire", "row 1 has stratum None"),
        (["epci", "ville"], {"epci": 1}, "frame", "row 1 has stratum 'ville'"),
        (["epci"], {"autre": 3}, "frame", "stratum 'autre' is not a frame stratum"),
        (["epci"], {"epci": -3}, "frame", "count of stratum 'epci' is -3"),
        (["epci"], {"epci": "beaucoup"}, "frame", "count of stratum 'epci' is 'beaucoup'"),
        (
            ["region"],
            {"epci": 3},
            "frame",
            "stratum 'region' has 1 respondent(s) but no frame count",
        ),
        (["epci"], {"epci": 3}, "calage", "weighting method 'calage'"),
    ],
)
def test_bad_input_is_named(strata, frame, method, message):
    with pytest.raises(WeightsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compute_weights(pd.DataFrame({"stratum": strata}), frame, method)


def test_missing_stratum_column():
    with pytest.raises(WeightsError, match="no column 'stratum'"):
        compute_weights(pd.DataFrame({"x": [1]}), {"epci": 1})


# -- raking (balance) ---------------------------------------------------------------------------
def test_raking_on_stratum_only_equals_frame_post_stratification():
    df = sample_2023()
    raked = compute_weights(df, FRAME_2023, "raking")
    frame = compute_weights(df, FRAME_2023, "frame")
    assert raked.to_numpy() == pytest.approx(frame.to_numpy(), rel=1e-9, abs=1e-9)


def test_raking_two_margins_known_answer():
    # One respondent per cell of stratum × region; margins 60/40 and 50/50. IPF from unit
    # weights: the stratum step gives 30, 30, 20, 20, whose region sums are already 50/50.
    df = pd.DataFrame(
        {
            "stratum": ["commune_lt_3500", "commune_lt_3500", "epci", "epci", "autre"],
            "region_code": ["11", "84", "11", "84", None],
        }
    )
    w = compute_weights(
        df, {"commune_lt_3500": 60, "epci": 40}, "raking", region_margins={"11": 1, "84": 1}
    )
    assert w.tolist() == pytest.approx([30.0, 30.0, 20.0, 20.0, 0.0], rel=1e-6)


def test_raking_reproduces_both_margins():
    rng = np.random.default_rng(7)
    strata = ["commune_lt_3500"] * 12 + ["epci"] * 10 + ["departement"] * 8
    regions = rng.choice(["11", "84", "93"], size=len(strata))
    regions[:3] = ["11", "84", "93"]  # every region has small communes
    df = pd.DataFrame({"stratum": strata, "region_code": regions})
    frame = {"commune_lt_3500": 900, "epci": 80, "departement": 20}
    margins = {"11": 500, "84": 300, "93": 200}
    w = rake(df, frame, margins)
    by_stratum = w.groupby(df["stratum"]).sum()
    by_region = w.groupby(df["region_code"]).sum()
    for s, n in frame.items():
        assert by_stratum[s] == pytest.approx(n, rel=1e-3)
    for r, n in margins.items():
        assert by_region[r] == pytest.approx(n, rel=1e-3)


def test_raking_trimming_caps_the_largest_weight():
    df = pd.DataFrame({"stratum": ["commune_lt_3500"] + ["epci"] * 9})
    frame = {"commune_lt_3500": 90, "epci": 10}
    plain = rake(df, frame)
    trimmed = rake(df, frame, trim=2.0)
    assert plain.max() == pytest.approx(90.0)
    assert trimmed.max() < plain.max()
    assert trimmed.sum() == pytest.approx(100.0)


def test_raking_rejects_margins_the_sample_cannot_meet():
    df = pd.DataFrame(
        {"stratum": ["commune_lt_3500", "epci", "epci"], "region_code": ["11", "84", "84"]}
    )
    with pytest.raises(WeightsError, match="region margins cannot be met"):
        rake(df, {"commune_lt_3500": 90, "epci": 10}, {"11": 10, "84": 90})


def test_raking_needs_a_region_for_every_weighted_respondent():
    df = pd.DataFrame({"stratum": ["epci", "epci"], "region_code": ["11", None]})
    with pytest.raises(WeightsError, match="column 'region_code' is missing or empty at row 1"):
        rake(df, {"epci": 10}, {"11": 10})
    df = pd.DataFrame({"stratum": ["epci"], "region_code": ["99"]})
    with pytest.raises(WeightsError, match="region '99' in column 'region_code' has no margin"):
        rake(df, {"epci": 10}, {"11": 10})


def test_default_post_stratification_equals_balance_poststratify():
    """Cross-check with balance's own post-stratification (transformations=None)."""
    from balance.weighting_methods.poststratify import poststratify

    df = sample_2023()
    ours = compute_weights(df, FRAME_2023)
    kept = ours > 0
    strata = [s for s in FRAME_2023 if s != "commune_lt_3500"]
    result = poststratify(
        df.loc[kept, ["stratum"]].reset_index(drop=True),
        pd.Series(np.ones(kept.sum())),
        pd.DataFrame({"stratum": strata}),
        pd.Series([float(FRAME_2023[s]) for s in strata]),
        transformations=None,
    )
    theirs = np.asarray(result["weight"], dtype=float)
    mine = ours[kept].to_numpy()
    assert mine / mine.sum() == pytest.approx(theirs / theirs.sum(), rel=1e-9)


# -- diagnostics --------------------------------------------------------------------------------
def test_kish_known_answer():
    w = np.array([1.0, 1.0, 2.0, 0.0])
    assert effective_n(w) == pytest.approx(16 / 6)  # (Σw)² / Σw² = 4² / 6
    assert design_effect(w) == pytest.approx(3 / (16 / 6))  # over the 3 positive weights
    assert math.isnan(effective_n(np.zeros(3)))


def test_diagnostics_known_answer():
    df = pd.DataFrame(
        {"stratum": ["region", "epci", "autre", "epci"], "weight": [2.0, 1.0, 0.0, 1.0]}
    )
    d = diagnostics(df).set_index("stratum")
    assert list(d.index) == ["epci", "region", "autre", "ensemble"]  # report order, total last
    assert d.loc["epci", ["n", "n_weighted"]].tolist() == [2, 2]
    assert d.loc["epci", "weighted_total"] == 2.0
    assert d.loc["epci", "share"] == pytest.approx(0.5)
    assert d.loc["region", "share"] == pytest.approx(0.5)
    assert d.loc["autre", "share"] == 0.0
    assert math.isnan(d.loc["autre", "n_eff"])
    assert d.loc["ensemble", "n"] == 4
    assert d.loc["ensemble", "n_weighted"] == 3
    assert d.loc["ensemble", "n_eff"] == pytest.approx(16 / 6)
    assert d.loc["ensemble", "deff"] == pytest.approx(1.125)
    assert d.loc["ensemble", ["weight_min", "weight_max"]].tolist() == [0.0, 2.0]


def test_diagnostics_of_the_published_weighting():
    df = sample_2023()
    df["weight"] = compute_weights(df, FRAME_2023)
    total = diagnostics(df).set_index("stratum").loc["ensemble"]
    # The weighted total rests on 107 respondents whose effective size is about 22.5.
    assert total["n_weighted"] == 107
    assert total["n_eff"] == pytest.approx(22.544, abs=1e-3)
    assert total["deff"] == pytest.approx(107 / 22.544, abs=1e-3)
