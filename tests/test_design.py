"""Design-based estimation checked against R's ``survey`` package (known answers in
tests/fixtures/r_survey/, written by scripts/r_fixtures/survey_fixtures.R from the CSV datasets
beside them): stratified SRSWOR with fpc, domains (filtered questions), logit and beta
intervals, means, per-stratum estimates and exact finite-population intervals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.stats import design as dm

FIXTURES = Path(__file__).parent / "fixtures" / "r_survey"
DATASETS = ("shaped", "random", "small")
Q1 = ("Oui", "Non", "Je ne sais pas", "Autre", "")
Q2 = ("Oui", "Non", "")
COMMUNES = ("commune_lt_3500", "commune_3500_10000", "commune_10000_100000", "commune_ge_100000")
REL = 1e-6
POINT = 1e-4  # 0.01 percentage point, in proportions


def load(name: str):
    data = pd.read_csv(FIXTURES / f"{name}.csv", dtype=str, keep_default_na=False)
    known = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    frame = {s: int(n) for s, n in data.loc[data["stratum"] != "autre", ["stratum", "N"]].values}
    design = dm.Design.from_strata(data["stratum"], frame)
    present = [s for s in dm.FRAME_STRATA if s in frame]
    groups = {
        "ensemble": present,
        "hors_communes_lt_3500": [s for s in present if s != "commune_lt_3500"],
        "commune": [s for s in present if s in COMMUNES],
    }
    return data, known, design, groups


def variables(data: pd.DataFrame):
    """(question, options, X, domain, proportion) as the R script builds them."""
    q1 = np.column_stack([(data["q1"] == o).to_numpy() for o in Q1])
    yield "q1", Q1, q1, np.ones(len(data), dtype=bool), True
    asked = (data["q2"] != "NA").to_numpy()
    q2 = np.column_stack([(data["q2"] == o).to_numpy() for o in Q2])
    yield "q2", Q2, q2, asked, True
    x = pd.to_numeric(data["x"], errors="coerce").to_numpy()
    yield "x", ("moyenne",), x[:, None], ~np.isnan(x), False


def ours(name: str) -> dict[tuple[str, str, str], dict[str, float]]:
    data, _, design, groups = load(name)
    G = design.group_matrix(groups)
    out = {}
    for q, options, X, domain, proportion in variables(data):
        e = dm.ratio_estimates(design, X, domain, G, proportion=proportion)
        lo, hi = e.logit_interval() if proportion else e.mean_interval()
        blo, bhi = e.beta_interval()
        for i, o in enumerate(options):
            for j, g in enumerate(groups):
                out[q, o, g] = {
                    "estimate": e.estimate[i, j],
                    "se": e.se[i, j],
                    "deff": e.deff[i, j],
                    "df": e.df[i, j],
                    "n": e.n[i, j],
                    "ci": (lo[i, j], hi[i, j]),
                    "beta": (blo[i, j], bhi[i, j]),
                }
    return out


def close(a: float, b: float, rel: float = REL, abs_: float = 1e-12) -> bool:
    return abs(a - b) <= max(rel * abs(b), abs_)


@pytest.mark.parametrize("name", DATASETS)
def test_estimates_and_standard_errors_match_r(name):
    _, known, _, _ = load(name)
    mine = ours(name)
    assert len(known["estimates"]) > 10
    for r in known["estimates"]:
        key = (r["question"], r["option"], r["group"])
        m = mine[key]
        assert close(m["estimate"], r["estimate"]), (key, m["estimate"], r["estimate"])
        assert close(m["se"], r["se"]), (key, m["se"], r["se"])
        assert m["df"] == r["df"] and m["n"] == r["n"], key
        if r["deff"] is None:
            assert np.isnan(m["deff"]), key
        else:
            assert close(m["deff"], r["deff"]), (key, m["deff"], r["deff"])


@pytest.mark.parametrize("name", DATASETS)
def test_intervals_match_r(name):
    _, known, _, _ = load(name)
    mine = ours(name)
    checked = 0
    for r in known["estimates"]:
        key = (r["question"], r["option"], r["group"])
        m = mine[key]
        if r["question"] == "x":
            assert np.allclose(m["ci"], r["ci"], rtol=0, atol=POINT * abs(r["estimate"])), key
            checked += 1
            continue
        if r.get("logit") is None:  # R's logit/beta are degenerate at 0 % and 100 %
            assert r["estimate"] in (0, 1), key
            assert np.isnan(m["beta"]).all(), key
            if m["se"] > 0:
                assert np.isnan(m["ci"]).all(), key
            continue
        assert np.allclose(m["ci"], r["logit"], rtol=0, atol=POINT), (key, m["ci"], r["logit"])
        if r["se"] == 0:  # only census strata vary: a point; R's beta is then degenerate
            assert m["ci"] == pytest.approx((r["estimate"], r["estimate"]), rel=1e-12), key
            assert np.isnan(m["beta"]).all(), key
            continue
        assert np.allclose(m["beta"], r["beta"], rtol=0, atol=POINT), (key, m["beta"], r["beta"])
        checked += 1
    assert checked > 10


@pytest.mark.parametrize("name", DATASETS)
def test_per_stratum_estimates_and_exact_intervals_match_r(name):
    data, known, design, _ = load(name)
    strata = {s: [s] for s in design.strata}
    G = design.group_matrix(strata)
    checked = 0
    for q, options, X, domain, proportion in variables(data):
        e = dm.ratio_estimates(design, X, domain, G, proportion=proportion)
        for r in (r for r in known["strata"] if r["question"] == q):
            i, j = options.index(r["option"]), design.strata.index(r["stratum"])
            assert close(e.estimate[i, j], r["estimate"]), r
            assert close(e.se[i, j], r["se"]), (r, e.se[i, j])
            assert e.n[i, j] == r["n"], r
            if "exact" in r:
                lo, hi = dm.exact_interval(r["k"], r["n"], r["N"])
                assert np.allclose([lo[0], hi[0]], r["exact"], rtol=0, atol=1e-12), r
                checked += 1
    if name != "small" or checked:
        assert checked > 0


def test_exact_intervals_of_the_2023_shapes_match_r():
    known = json.loads((FIXTURES / "shaped.json").read_text(encoding="utf-8"))["exact"]
    k, n, N = (np.array([c[x] for c in known]) for x in ("k", "n", "N"))
    lo, hi = dm.exact_interval(k, n, N)
    for c, a, b in zip(known, lo, hi, strict=True):
        assert np.allclose([a, b], c["interval"], rtol=0, atol=1e-12), (c, a, b)
    # métropoles 2023: 7 of 18 out of 21 → [7/21, 10/21]
    lo, hi = dm.exact_interval([7], [18], [21])
    assert (round(lo[0] * 21), round(hi[0] * 21)) == (7, 10)


def test_exact_interval_edge_cases():
    lo, hi = dm.exact_interval([0, 9, 3, 0], [9, 9, 18, 0], [31762, 31762, 18, 5])
    assert lo[0] == 0 and 0 < hi[0] < 1  # 0 %: defined
    assert hi[1] == 1 and 0 < lo[1] < 1  # 100 %: defined
    assert lo[2] == hi[2] == 3 / 18  # census: a point
    assert np.isnan(lo[3]) and np.isnan(hi[3])  # nobody asked


def test_respondents_outside_the_frame_never_enter_an_estimate():
    data, _, design, groups = load("shaped")
    G = design.group_matrix(groups)
    X = (data["q1"] == "Oui").to_numpy()[:, None]
    base = dm.ratio_estimates(design, X, np.ones(len(data), bool), G)
    flipped = X.copy()
    flipped[(data["stratum"] == "autre").to_numpy()] = ~flipped[
        (data["stratum"] == "autre").to_numpy()
    ]
    other = dm.ratio_estimates(design, flipped, np.ones(len(data), bool), G)
    assert np.array_equal(base.estimate, other.estimate)
    assert np.array_equal(base.variance, other.variance)
    assert design.weights[(data["stratum"] == "autre").to_numpy()].sum() == 0
    # a group made of "autre" alone has no population estimate
    none = dm.ratio_estimates(
        design, X, np.ones(len(data), bool), design.group_matrix({"autre": ["autre"]})
    )
    assert np.isnan(none.estimate).all()


def test_reliability_rule_flags_estimates_leaning_on_small_strata():
    # shaped: 2 communes < 3 500 among 31 762 weigh most of the whole frame
    data, _, design, groups = load("shaped")
    G = design.group_matrix(groups)
    X = np.column_stack([(data["q1"] == o).to_numpy() for o in Q1])
    e = dm.ratio_estimates(design, X, np.ones(len(data), bool), G)
    # independently: strata (not census) with < 10 respondents or where "Oui" does not vary
    frame = data[data["stratum"] != "autre"]
    by = frame.assign(oui=frame["q1"] == "Oui").groupby("stratum")
    size = by["oui"].size()
    big_n = by["N"].first().astype(int)
    weak = ((size < 10) | by["oui"].nunique().eq(1)) & (size < big_n)
    share = float(big_n[weak].sum() / big_n.sum())
    assert weak["commune_lt_3500"] and not weak["region"]
    assert e.weak_share[0, 0] == pytest.approx(share, rel=1e-12)  # "Oui", ensemble
    ok = dm.reliable(
        e.cv, e.weak_share, e.census, np.zeros_like(e.cv, bool), np.isfinite(e.estimate)
    )
    assert not ok[0, 0]  # ensemble leans on 2 respondents
    assert not ok[3].any()  # "Autre": 0 % everywhere, no variation


def test_difference_of_independent_estimates():
    out = dm.difference([0.5, 0.3, 0.2], [0.01, 0.0, 0.0], [0.4, 0.3, 0.1], [0.0, 0.0, 0.0])
    assert out["diff"][0] == pytest.approx(0.1)
    assert out["se"][0] == pytest.approx(0.1)
    assert out["ci_low"][0] == pytest.approx(0.1 - 1.959963984540054 * 0.1)
    assert out["p_value"][0] == pytest.approx(0.3173105, rel=1e-6)
    assert out["p_value"][1] == 1.0 and out["p_value"][2] == 0.0


def test_population_columns_give_r_intervals_per_group_kind():
    data, known, design, groups = load("shaped")
    groups = {**groups, **{s: [s] for s in design.strata}, "autre": ["autre"]}
    X = np.column_stack([(data["q1"] == o).to_numpy() for o in Q1])
    out = dm.population_columns(design, X, np.ones(len(data), bool), groups)
    dm.fill_exact(
        out["ci_low"],
        out["ci_high"],
        out["ci_method"],
        out["exact_k"],
        out["exact_n"],
        out["exact_N"],
    )
    names = list(groups)
    for r in known["estimates"]:
        if r["question"] != "q1" or r.get("logit") is None:
            continue
        i, j = Q1.index(r["option"]), names.index(r["group"])
        assert out["ci_method"][i, j] == "logit"
        assert np.allclose([out["ci_low"][i, j], out["ci_high"][i, j]], r["logit"], atol=POINT)
    for r in known["strata"]:
        if r["question"] != "q1":
            continue
        i, j = Q1.index(r["option"]), names.index(r["stratum"])
        census = r["n"] == r["N"]
        assert out["ci_method"][i, j] == ("census" if census else "exact-hypergeometric")
        assert np.allclose([out["ci_low"][i, j], out["ci_high"][i, j]], r["exact"], atol=1e-12)
    j = names.index("autre")
    assert np.isnan(out["estimate"][:, j]).all() and (out["ci_method"][:, j] == "").all()
    assert not out["has_estimate"][:, j].any()


def test_estimates_table_with_the_frame_method_matches_r():
    """The estimates table (codebook questions, asked_if filter, numeric) on the R dataset."""
    from analysis.stats.estimates import SANS_REPONSE, estimate_all, headline
    from analysis.survey.codebook import from_dict

    data, known, design, groups = load("shaped")
    cb = from_dict(
        {
            "edition": 2099,
            "questions": [
                {
                    "id": "q1",
                    "chapter": "contexte",
                    "type": "single",
                    "text": "Q1 ?",
                    "options": list(Q1[:-1]),
                    "columns": [{"heading": "Q1", "code": "Q1"}],
                },
                {
                    "id": "q2",
                    "chapter": "contexte",
                    "type": "single",
                    "text": "Q2 ?",
                    "options": ["Oui", "Non"],
                    "columns": [{"heading": "Q2", "code": "Q2"}],
                    "asked_if": {"question": "q1", "in": ["Oui"]},
                },
                {
                    "id": "x",
                    "chapter": "contexte",
                    "type": "numeric",
                    "text": "X ?",
                    "columns": [{"heading": "X", "code": "X"}],
                },
            ],
        }
    )
    df = pd.DataFrame(
        {
            "response_id": data["response_id"].astype(int),
            "stratum": data["stratum"],
            "q1": data["q1"].replace("", None),
            "q2": data["q2"].replace({"": None, "NA": None}),
            "x": pd.to_numeric(data["x"], errors="coerce"),
        }
    )
    frame = {s: int(n) for s, n in data.loc[data["stratum"] != "autre", ["stratum", "N"]].values}
    est = estimate_all(df, cb, method="frame", frame=frame)
    names = {"": SANS_REPONSE}
    checked = 0
    for r in known["estimates"]:
        option = names.get(r["option"], r["option"])
        row = est[
            (est["question_id"] == r["question"])
            & (est["option"] == option)
            & (est["stratum"] == r["group"])
        ].iloc[0]
        scale = 1.0 if r["question"] == "x" else 100.0
        assert row["weighted_pct"] == pytest.approx(scale * r["estimate"], rel=REL, abs=1e-12)
        assert row["se"] == pytest.approx(scale * r["se"], rel=REL, abs=1e-12)
        interval = r.get("ci") or r.get("logit")
        if interval is not None:
            got = [row["ci_low"] / scale, row["ci_high"] / scale]
            tol = POINT * (abs(r["estimate"]) if r["question"] == "x" else 1)
            assert np.allclose(got, interval, rtol=0, atol=tol), (r, got)
            checked += 1
    assert checked > 20
    # per stratum: the exact interval of R's phyper inversion
    for r in known["strata"]:
        if "exact" not in r:
            continue
        row = est[
            (est["question_id"] == "q1")
            & (est["option"] == names.get(r["option"], r["option"]))
            & (est["stratum"] == r["stratum"])
        ].iloc[0]
        assert np.allclose([row["ci_low"], row["ci_high"]], np.multiply(100, r["exact"]), atol=1e-9)
    autre = est[est["stratum"] == "autre"]
    assert autre["weighted_pct"].isna().all() and not autre["reliable"].any()
    # a median has no interval: it is as reliable as the mean of the same group
    mean = est[(est["question_id"] == "x") & (est["option"] == "moyenne")].set_index("stratum")
    median = est[(est["question_id"] == "x") & (est["option"] == "médiane")].set_index("stratum")
    assert mean["reliable"].any() and not mean["reliable"].all()
    assert median["reliable"].equals(mean["reliable"])
    h = headline(df, cb["q1"], "Oui", method="frame", frame=frame, codebook=cb)
    ens = est[
        (est["question_id"] == "q1") & (est["option"] == "Oui") & (est["stratum"] == "ensemble")
    ]
    assert h.weighted_pct == pytest.approx(float(ens["weighted_pct"].iloc[0]), rel=1e-12)
    assert h.ci_method == "logit" and h.reliable is False


def test_design_errors_name_the_stratum():
    with pytest.raises(dm.DesignError, match="stratum 'region' .* no frame count"):
        dm.Design.from_strata(["epci", "region"], {"epci": 10})
    with pytest.raises(dm.DesignError, match="'metropole' has 22 respondents but N = 21"):
        dm.Design.from_strata(["metropole"] * 22, {"metropole": 21})
    with pytest.raises(dm.DesignError, match="row 1 has stratum 'mairie'"):
        dm.Design.from_strata(["epci", "mairie"], {"epci": 10})
    d = dm.Design.from_strata(["epci", "autre", "epci"], {"epci": 10})
    assert d.weights.tolist() == [5.0, 0.0, 5.0] and d.index.tolist() == [0, -1, 0]


def test_committed_datasets_are_what_the_generator_writes(tmp_path):
    """The R known answers were computed on these exact files (regenerate both together)."""
    import importlib.util

    path = Path(__file__).parents[1] / "scripts" / "r_fixtures" / "make_datasets.py"
    spec = importlib.util.spec_from_file_location("make_datasets", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    for name in DATASETS:
        assert (tmp_path / f"{name}.csv").read_bytes() == (FIXTURES / f"{name}.csv").read_bytes()
