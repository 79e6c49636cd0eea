"""Comparison of an edition's estimates with the previous edition's.

For every question of the current codebook with a ``previous`` crosswalk, the current tidy
estimates (:mod:`analysis.stats.estimates`) are joined with the previous edition's — estimates
from its microdata, or its published aggregate table read by
:func:`analysis.stats.published.read_aggregates` — on the mapped question, item and option (the
crosswalk's ``options`` renames both answer levels and item labels where they changed).

The difference is in percentage points (current − previous), with its 95 % interval
(``diff_low``, ``diff_high``). Weighted figures (``weighted=True``) estimated on both sides by
the design (``method="frame"``: both tables carry ``se``) are two independent design-based
estimates of the same population: the difference has variance ``se₁² + se₂²``, the interval
``diff ± 1.96 se``, the test ``z = diff / se`` (:func:`analysis.stats.design.difference`).
Otherwise (published aggregates, no variance): a two-proportion z-test at 5 % with the pooled
proportion, on the effective sample sizes for weighted figures (``n_eff``) and on the bases
(``base_n``) for shares of respondents, and the unpooled Wald interval. Statistic rows (mean
rank, mean, median) are not compared.

Groups: the 2022 published ``Un EPCI`` includes métropoles, so the current edition is
compared by type through the group ``epci_metropole`` (EPCI + métropoles) of
:data:`COMPARISON_GROUPS`; estimate the current edition with ``groups=COMPARISON_GROUPS`` (see
:func:`estimate_for_comparison`). The published comparisons mostly use the base
``hors_communes_lt_3500``; both it and ``ensemble`` are compared by default.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtr

from analysis.stats import design as dm
from analysis.stats.estimates import SANS_REPONSE, STATISTIC_OPTIONS, estimate_all
from analysis.survey.codebook import Codebook
from analysis.survey.strata import GROUPS, STRATA

#: Groups comparable with the 2022 published table (2022 "Un EPCI" = EPCI + métropoles).
COMPARISON_GROUPS: dict[str, tuple[str, ...]] = {
    "ensemble": GROUPS["ensemble"],
    "hors_communes_lt_3500": GROUPS["hors_communes_lt_3500"],
    "commune": GROUPS["commune"],
    **{s: (s,) for s in STRATA[:4]},
    "epci_metropole": ("epci", "metropole"),
    "departement": ("departement",),
    "region": ("region",),
    "autre": ("autre",),
}
#: Groups compared by default: the whole sample and the base of the published comparisons.
DEFAULT_GROUPS: tuple[str, ...] = ("ensemble", "hors_communes_lt_3500")
#: Groups of a comparison by type of structure.
BY_TYPE: tuple[str, ...] = ("commune", "epci_metropole", "departement", "region", "autre")

OUTPUT_COLUMNS: tuple[str, ...] = (
    "question_id",
    "chapter",
    "question",
    "item",
    "option",
    "stratum",
    "previous_edition",
    "previous_question_id",
    "previous_item",
    "previous_option",
    "pct",
    "base_n",
    "n",
    "previous_pct",
    "previous_base_n",
    "previous_n",
    "diff_points",
    "z",
    "p_value",
    "significant",
    "suppressed",
    "diff_low",
    "diff_high",
)


class CompareError(ValueError):
    """Two editions' estimates cannot be compared as asked."""


def estimate_for_comparison(
    df: pd.DataFrame,
    codebook: Codebook,
    *,
    weight: str | None = "weight",
    min_base: int = 5,
    method: str | None = None,
    frame=None,
) -> pd.DataFrame:
    """Current-edition estimates on :data:`COMPARISON_GROUPS` (weighted on the two totals).

    ``method``/``frame``: see :func:`analysis.stats.estimates.estimate_all` (``"frame"``: the
    design-based estimates, whose standard errors give the design-based comparison).
    """
    return estimate_all(
        df,
        codebook,
        weight=weight,
        groups=COMPARISON_GROUPS,
        min_base=min_base,
        weighted_groups=DEFAULT_GROUPS,
        method=method,
        frame=frame,
    )


def two_proportion_test(
    p1: np.ndarray, n1: np.ndarray, p2: np.ndarray, n2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pooled two-proportion z-test: ``(z, two-sided p-value)``; proportions in 0–1.

    Equal proportions with a zero pooled variance (both 0 % or both 100 %) give z = 0, p = 1;
    a non-positive size gives NaN.
    """
    p1, n1, p2, n2 = (np.asarray(a, dtype="float64") for a in (p1, n1, p2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = np.where(se > 0, (p1 - p2) / se, np.where(p1 == p2, 0.0, np.nan))
        z = np.where((n1 > 0) & (n2 > 0), z, np.nan)
    p_value = np.where(np.isnan(z), np.nan, 2.0 * ndtr(-np.abs(z)))
    return z, p_value


def compare_editions(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    codebook: Codebook,
    *,
    groups: Iterable[str] = DEFAULT_GROUPS,
    weighted: bool = False,
    alpha: float = 0.05,
    min_base: int = 5,
) -> pd.DataFrame:
    """Join current and previous estimates through the codebook's ``previous`` crosswalks.

    ``current``/``previous``: tidy estimates (``previous`` may be a published aggregate table
    read by :func:`analysis.stats.published.read_aggregates` with the previous codebook, so that its
    ``question_id`` values are that codebook's ids). Rows: the current rows of the compared
    groups that have a counterpart, in the current order. Current options mapped to the same
    previous option are added up (``option`` lists them joined by " + "). For a question with
    ``asked_if`` compared with a published aggregate table (which divides by every respondent
    and counts those not asked as "Sans réponse"), the previous figures are rebased on
    ``answered_n`` and "sans réponse" is not compared. ``significant``: p < ``alpha``.
    ``suppressed``: either side's base is below ``min_base``.
    """
    groups = list(groups)
    for name, frame in (("current", current), ("previous", previous)):
        absent = [g for g in groups if g not in set(frame["stratum"])]
        if absent:
            hint = " (estimate it with groups=COMPARISON_GROUPS)" if name == "current" else ""
            raise CompareError(
                f"{name} estimates have no group {absent[0]!r}; expected the groups {groups}{hint}"
            )
    if weighted:
        for name, frame in (("current", current), ("previous", previous)):
            if (
                "n_eff" not in frame
                or frame.loc[frame["stratum"].isin(groups), "weighted_pct"].isna().all()
            ):
                raise CompareError(
                    f"{name} estimates have no weighted figures on {groups}; expected "
                    f"weighted_pct and n_eff (or compare with weighted=False)"
                )
    crosswalk = {q.id: q for q in codebook.questions if q.previous is not None}
    if not crosswalk:
        return pd.DataFrame(columns=list(OUTPUT_COLUMNS))
    cur = current[
        current["question_id"].isin(list(crosswalk))
        & current["stratum"].isin(groups)
        & ~current["option"].isin(STATISTIC_OPTIONS)
    ].copy()
    cur["_order"] = np.arange(len(cur))
    cur["previous_edition"] = cur["question_id"].map(
        {k: q.previous.edition for k, q in crosswalk.items()}
    )
    cur["previous_question_id"] = cur["question_id"].map(
        {k: q.previous.id for k, q in crosswalk.items()}
    )
    pairs = cur[["question_id", "item", "option"]].drop_duplicates()
    renames = [crosswalk[q].previous.options for q in pairs["question_id"]]
    pairs["previous_item"] = [r.get(i, i) for r, i in zip(renames, pairs["item"], strict=True)]
    pairs["previous_option"] = [r.get(o, o) for r, o in zip(renames, pairs["option"], strict=True)]
    cur = cur.merge(pairs, on=["question_id", "item", "option"], how="left")
    # Several current options may map to one previous option ("Non, mais c’est prévu…" and
    # "Non, et ce n’est pas prévu…" → "Non"): add them up (same base, disjoint answers).
    keys = ["question_id", "item", "previous_question_id", "previous_item", "previous_option"]
    keys += ["stratum"]
    cur["weighted_pct"] = cur["weighted_pct"].astype("float64")
    # the variance of a sum of options needs their covariance: no design se for merged options
    cur["se"] = cur["se"].astype("float64") if "se" in cur else np.nan
    agg = cur.groupby(keys, sort=False, dropna=False).agg(
        chapter=("chapter", "first"),
        question=("question", "first"),
        option=("option", " + ".join),
        previous_edition=("previous_edition", "first"),
        base_n=("base_n", "first"),
        count=("count", "sum"),
        pct=("pct", "sum"),
        weighted_pct=("weighted_pct", lambda v: v.sum(min_count=1)),
        n_eff=("n_eff", "first"),
        se=("se", lambda v: v.iloc[0] if len(v) == 1 else np.nan),
        suppressed=("suppressed", "any"),
        _order=("_order", "min"),
    )
    cur = agg.reset_index()

    prev = previous[previous["stratum"].isin(groups)].copy()
    prev["_base"] = prev["base_n"].astype("float64")
    prev["_pct"] = prev["pct"].astype("float64")
    if "answered_n" in prev:
        # Published aggregates divide filtered questions by every respondent and count those
        # not asked as "Sans réponse"; rebase them on the respondents who answered, as the
        # current edition is based on those asked.
        filtered = {q.previous.id for q in crosswalk.values() if q.asked_if is not None}
        rebase = prev["question_id"].isin(filtered) & prev["answered_n"].notna()
        prev = prev[~(rebase & prev["option"].eq(SANS_REPONSE))]
        rebase = rebase.reindex(prev.index)
        answered = prev["answered_n"].astype("float64")
        prev.loc[rebase, "_base"] = answered[rebase]
        with np.errstate(divide="ignore", invalid="ignore"):
            prev.loc[rebase, "_pct"] = 100.0 * prev.loc[rebase, "count"] / answered[rebase]
    prev["_wpct"] = prev["weighted_pct"].astype("float64") if "weighted_pct" in prev else np.nan
    prev["_neff"] = prev["n_eff"].astype("float64") if "n_eff" in prev else np.nan
    prev["_se"] = prev["se"].astype("float64") if "se" in prev else np.nan
    prev = prev.rename(
        columns={
            "question_id": "previous_question_id",
            "item": "previous_item",
            "option": "previous_option",
        }
    )[
        ["previous_question_id", "previous_item", "previous_option", "stratum"]
        + ["_pct", "_base", "_wpct", "_neff", "_se"]
    ]
    prev = prev.drop_duplicates(
        ["previous_question_id", "previous_item", "previous_option", "stratum"]
    )
    out = cur.merge(
        prev,
        on=["previous_question_id", "previous_item", "previous_option", "stratum"],
        how="inner",
        validate="many_to_one",
    ).sort_values("_order", kind="stable")
    if weighted:
        out["pct"] = out["weighted_pct"]
        out["n"] = out["n_eff"].astype("float64")
        out["previous_pct"] = out["_wpct"]
        out["previous_n"] = out["_neff"]
    else:
        out["n"] = out["base_n"].astype("float64")
        out["previous_pct"] = out["_pct"]
        out["previous_n"] = out["_base"]
    out["previous_base_n"] = out["_base"].astype("int64")
    out["diff_points"] = out["pct"] - out["previous_pct"]
    z, p_value = two_proportion_test(
        out["pct"] / 100.0, out["n"], out["previous_pct"] / 100.0, out["previous_n"]
    )
    p1, n1 = out["pct"].to_numpy() / 100.0, out["n"].to_numpy()
    p2, n2 = out["previous_pct"].to_numpy() / 100.0, out["previous_n"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        wald = 100.0 * np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    low = out["diff_points"].to_numpy() - dm._t(np.inf) * wald
    high = out["diff_points"].to_numpy() + dm._t(np.inf) * wald
    if weighted:
        se1, se2 = out["se"].to_numpy(), out["_se"].to_numpy()
        design = np.isfinite(se1) & np.isfinite(se2)
        if design.any():
            d = dm.difference(out["pct"], se1**2, out["previous_pct"], se2**2)
            z = np.where(design, d["z"], z)
            p_value = np.where(design, d["p_value"], p_value)
            low = np.where(design, d["ci_low"], low)
            high = np.where(design, d["ci_high"], high)
    out["z"] = z
    out["p_value"] = p_value
    out["diff_low"] = low
    out["diff_high"] = high
    out["significant"] = np.nan_to_num(p_value, nan=1.0) < alpha
    out["suppressed"] = out["suppressed"].astype(bool) | (out["previous_base_n"] < min_base)
    return out[list(OUTPUT_COLUMNS)].reset_index(drop=True)


def summarise(comparison: pd.DataFrame, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows of a comparison that are significant, largest absolute change first."""
    rows = comparison[comparison["significant"]]
    if groups is not None:
        rows = rows[rows["stratum"].isin(list(groups))]
    order = rows["diff_points"].abs().sort_values(ascending=False, kind="stable").index
    return rows.loc[order].reset_index(drop=True)
