"""Design-based estimates on the real 2023 export, checked against R's ``survey``.

Known answers computed with R 4.2 / survey 4.1.1 on the processed 2023 dataset (191 kept
responses, strata of the README, frame of data/frames/2023.yaml): ``svydesign(ids = ~1,
strata = ~stratum, fpc = ~N)`` over the 116 respondents of the frame, ``svymean`` and
``svyciprop(method = "logit" / "beta")`` of ``gouvernance_regles == "Oui"`` and
``ia_projets == "Oui"`` on the whole frame, ``subset(stratum != "commune_lt_3500")`` and the
four commune strata. Values typed from R's output (percent).
"""

from __future__ import annotations

import csv
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FRAME_2023, STRATA_191

from analysis.build.prepare import prepare_cached
from analysis.build.writers import tables_for
from analysis.stats.estimates import estimate_all
from analysis.survey import codebook as cbmod

pytestmark = pytest.mark.real

#: (question, group) → (estimate, se, logit low, logit high, beta low, beta high), in percent.
R_SURVEY = {
    ("gouvernance_regles", "ensemble"): (
        21.34302995, 12.86219382, 5.60917055, 55.33706596, 3.04570374, 56.71132830
    ),
    ("gouvernance_regles", "hors_communes_lt_3500"): (
        15.21377072, 3.89845278, 8.96808875, 24.63217824, 8.33278512, 24.65541215
    ),
    ("gouvernance_regles", "commune"): (
        21.11238295, 13.36472688, 4.89108294, 58.20707701, 2.55767111, 58.38786834
    ),
    ("ia_projets", "ensemble"): (
        1.11780952, 0.26614337, 0.69652222, 1.78931852, 0.65732335, 1.77387499
    ),
    ("ia_projets", "hors_communes_lt_3500"): (
        8.91058079, 2.12155286, 5.50348362, 14.11195043, 5.18384631, 14.05799653
    ),
    ("ia_projets", "commune"): (
        0.04807555, 0.02763224, 0.01474772, 0.15660178, 0.00989858, 0.14053850
    ),
}  # fmt: skip


@lru_cache(maxsize=1)
def processed(path: Path) -> pd.DataFrame:
    out = Path(tempfile.mkdtemp(prefix="design-real-"))
    res = prepare_cached(2023, path, out_dir=out, force=True)
    return pd.read_parquet(res.path)


@lru_cache(maxsize=2)
def estimates(path: Path, interval: str = "logit") -> pd.DataFrame:
    return estimate_all(processed(path), cbmod.load(2023), method="frame", interval=interval)


def row(est: pd.DataFrame, qid: str, option: str, group: str) -> pd.Series:
    sel = est[(est["question_id"] == qid) & (est["option"] == option) & (est["stratum"] == group)]
    assert len(sel) == 1, (qid, option, group)
    return sel.iloc[0]


def test_the_processed_dataset_has_the_readme_strata(real_2023):
    counts = processed(real_2023)["stratum"].astype(str).value_counts().to_dict()
    assert counts == STRATA_191
    cb = cbmod.load(2023)  # the questions checked here exist as read

    assert cb["gouvernance_regles"].type == "single" and "Oui" in cb["gouvernance_regles"].options
    assert cb["ia_projets"].type == "single" and "Oui" in cb["ia_projets"].options


@pytest.mark.parametrize(("qid", "group"), sorted(R_SURVEY))
def test_population_estimates_match_r(real_2023, qid, group):
    est_, se, lo, hi, blo, bhi = R_SURVEY[qid, group]
    r = row(estimates(real_2023), qid, "Oui", group)
    assert r["weighted_pct"] == pytest.approx(est_, rel=1e-6)
    assert r["se"] == pytest.approx(se, rel=1e-6)
    assert r["ci_method"] == "logit"
    assert np.allclose([r["ci_low"], r["ci_high"]], [lo, hi], rtol=0, atol=0.01)
    b = row(estimates(real_2023, "beta"), qid, "Oui", group)
    assert b["ci_method"] == "beta"
    assert np.allclose([b["ci_low"], b["ci_high"]], [blo, bhi], rtol=0, atol=0.01)


def test_issue_figures_through_the_open_data(real_2023, tmp_path):
    out = tables_for(processed(real_2023), 2023, tmp_path / "2023.csv", xlsx=False)
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    pick = {
        (r["question_id"], r["option"], r["stratum"]): r
        for r in rows
        if r["question_id"] in ("gouvernance_regles", "ia_projets") and r["item"] == ""
    }
    gov = pick["gouvernance_regles", "Oui", "ensemble"]
    assert f"{float(gov['weighted_pct']):.1f}" == "21.3"
    assert gov["ci_method"] == "logit"
    assert float(gov["ci_low"]) == pytest.approx(5.60917055, abs=0.01)
    assert float(gov["ci_high"]) == pytest.approx(55.33706596, abs=0.01)
    # métropoles: 7 of the 18 respondents, out of 21 → exact [7/21; 10/21] (R: phyper inversion)
    met = pick["gouvernance_regles", "Oui", "metropole"]
    assert (met["count"], met["base_n"], met["group_n"]) == ("7", "18", "18")
    assert met["ci_method"] == "exact-hypergeometric"
    assert float(met["ci_low"]) == pytest.approx(100 * 7 / 21, abs=1e-9)
    assert float(met["ci_high"]) == pytest.approx(100 * 10 / 21, abs=1e-9)
    assert FRAME_2023["metropole"] == 21
    # AI projects over the whole frame: 9 communes < 3 500 hab., none with a project, carry 87 %
    ia = pick["ia_projets", "Oui", "ensemble"]
    assert ia["reliable"] == "false"
    assert float(ia["cv"]) < 1 / 3  # not the CV: the weight of weak strata
    # respondents outside the frame have no population estimate
    autre = pick["gouvernance_regles", "Oui", "autre"]
    assert autre["weighted_pct"] == autre["ci_method"] == "" and autre["reliable"] == "false"
    assert float(autre["pct"]) == pytest.approx(100 * 39 / 75)


def test_observatoire_stays_and_equals_the_frame_domain_hors_petites_communes(real_2023):
    """The published "Total pondéré" (observatoire, 69 % "insufficient" culture, README) is the
    design's point estimate on the domain hors communes < 3 500 hab."""
    cb = cbmod.load(2023)
    option = next(o for o in cb["acculturation"].options if "insuffisant" in o)
    obs = estimate_all(processed(real_2023), cb, method="observatoire")
    o = row(obs, "acculturation", option, "ensemble")
    assert round(o["weighted_pct"]) == 69 and o["ci_method"] == "wilson-kish"
    f = row(estimates(real_2023), "acculturation", option, "hors_communes_lt_3500")
    assert f["weighted_pct"] == pytest.approx(o["weighted_pct"], rel=1e-9)
    assert f["ci_method"] == "logit"
