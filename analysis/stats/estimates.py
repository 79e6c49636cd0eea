"""Estimates of every tabulated question: counts, percentages, weighted percentages, CIs.

One tidy table (the open-data format, :data:`COLUMNS`) with one row per question × item ×
option × group:

* ``base_n``: respondents of the group who were *asked* the question — the codebook's
  ``asked_if`` evaluated on the row (any respondent who nonetheless answered counts as asked);
  non-response is included, as the published tables divide. No ``asked_if``: the whole group.
* ``count``, ``pct`` = 100 · count / base_n (unrounded). Every option of the codebook is
  listed, zero counts included, and "sans réponse" (asked, no answer) is an option row of its
  own, so that single-choice percentages sum to 100.
* ``weighted_pct``, ``ci_low``, ``ci_high`` on the groups of ``weighted_groups`` only
  (``ensemble`` by default): Σw over the respondents giving the answer / Σw over those asked,
  and a 95 % **Wilson score interval computed on the Kish effective sample size**
  ``n_eff = (Σw)² / Σw²`` of the asked respondents (the effective-sample-size substitution of
  Korn & Graubard, with Wilson's interval instead of Clopper–Pearson's). ``n_eff`` is kept as an
  extra column (for edition comparisons) that the open-data export leaves out.
* ``suppressed``: ``base_n < min_base`` (default 5). Numbers are kept; the report prints
  "n.s." and the export flags them.

Options by question type:

* single: its options, then "sans réponse";
* multiple: one row per choice (``option`` = the choice label; shares do not sum to 100), then
  "sans réponse" (asked, nothing ticked);
* matrix: per row (``item`` = row label), the scale levels then "sans réponse";
* ranking: per ranked element (``item``), ``rang 1``, ``rang 1 ou 2``, ``rang 1 à 3``, … (share
  of the asked respondents who placed it that high) and ``rang moyen`` (mean rank among those
  who ranked it, in ``pct``/``weighted_pct``; ``count`` = how many ranked it); then one
  "sans réponse" row (nothing ranked, ``item`` empty);
* numeric: ``moyenne`` and ``médiane`` (the statistic in ``pct``/``weighted_pct``, ``count`` =
  respondents with a value; CI of the weighted mean: normal on n_eff), then "sans réponse".

Statistic rows (``rang moyen``, ``moyenne``, ``médiane``) are the only ones whose ``pct`` is
not a percentage: they are listed in :data:`STATISTIC_OPTIONS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype

from analysis.survey.codebook import TABULATED, Codebook, Question
from analysis.survey.codebook import asked_mask as codebook_asked_mask
from analysis.survey.strata import GROUPS, STRATA

COLUMNS: tuple[str, ...] = (
    "edition",
    "chapter",
    "question_id",
    "question",
    "item",
    "option",
    "stratum",
    "base_n",
    "count",
    "pct",
    "weighted_pct",
    "ci_low",
    "ci_high",
    "suppressed",
)
#: Extra column of the estimates (not exported): Kish effective sample size of the base.
EXTRA_COLUMNS: tuple[str, ...] = ("n_eff",)
SANS_REPONSE = "sans réponse"
MEAN_RANK = "rang moyen"
MEAN = "moyenne"
MEDIAN = "médiane"
STATISTIC_OPTIONS: tuple[str, ...] = (MEAN_RANK, MEAN, MEDIAN)
Z95 = 1.959963984540054


class EstimatesError(ValueError):
    """The data do not fit the codebook question being estimated."""


def rank_label(k: int) -> str:
    """French label of the cumulative rank class: ``rang 1``, ``rang 1 ou 2``, ``rang 1 à 3``."""
    if k == 1:
        return "rang 1"
    if k == 2:
        return "rang 1 ou 2"
    return f"rang 1 à {k}"


def wilson_interval(
    p: np.ndarray | float, n: np.ndarray | float, z: float = Z95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion ``p`` (0–1) on a sample size ``n`` (may be n_eff).

    Returns ``(low, high)`` in 0–1; NaN where ``n`` is not positive or ``p`` is NaN.
    """
    p = np.asarray(p, dtype="float64")
    n = np.asarray(n, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        z2n = z * z / n
        centre = (p + z2n / 2) / (1 + z2n)
        half = z / (1 + z2n) * np.sqrt(p * (1 - p) / n + z2n / (4 * n))
        low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high


# -- rows -------------------------------------------------------------------------------------
def _where(df: pd.DataFrame, pos: int) -> str:
    if "response_id" in df:
        return f"response_id {df['response_id'].iloc[pos]!r}"
    return f"row {df.index[pos]!r}"


def _column(df: pd.DataFrame, col: str, question: Question) -> pd.Series:
    if col not in df:
        raise EstimatesError(
            f"data: no column {col!r} for question {question.id!r} ({question.type}); "
            f"expected the processed dataset's column"
        )
    return df[col]


def _codes(df: pd.DataFrame, col: str, question: Question, levels: Sequence[str]) -> np.ndarray:
    """Position of each value in ``levels``; -1 when missing. Unknown values are an error."""
    values = _column(df, col, question).astype("object")
    missing = values.isna().to_numpy() | values.eq("").to_numpy()
    codes = pd.Categorical(values.where(~missing), categories=list(levels)).codes
    bad = (codes < 0) & ~missing
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise EstimatesError(
            f"data: column {col!r}, {_where(df, pos)} has value {values.iloc[pos]!r}; "
            f"expected one of {list(levels)} (question {question.id!r}) or empty"
        )
    return np.asarray(codes, dtype="int64")


def _ticked(series: pd.Series) -> np.ndarray:
    """Multiple-choice cell ticked: True / "Oui" / any free text; not: NA, False, "Non", ""."""
    if is_bool_dtype(series.dtype):
        return series.fillna(False).to_numpy(dtype=bool)
    values = series.astype("object")
    off = values.isna() | values.isin([False, "", "Non", "N/A"])
    return ~off.to_numpy(dtype=bool)


def asked_mask(
    df: pd.DataFrame, question: Question, codebook: Codebook | None = None
) -> np.ndarray:
    """Respondents the question was shown to, from its ``asked_if`` condition (all if none).

    With the codebook, :func:`analysis.survey.codebook.asked_mask` is used (it also requires the
    parent question to have been asked, recursively). Without it, the condition is evaluated
    on the parent's column alone: a single choice's answer is one of the values; a matrix row's
    level (``item`` + values) is one of the values; a multiple-choice option (``item``) or any
    of several (``items``) was ticked. A parent that was not asked has no answer, so chains
    mostly resolve the same way.
    """
    cond = question.asked_if
    if cond is None:
        return np.ones(len(df), dtype=bool)
    if codebook is not None:
        try:
            return codebook_asked_mask(codebook, question.id, df).to_numpy(dtype=bool)
        except KeyError as exc:
            raise EstimatesError(
                f"data: no column {exc.args[0]!r}, needed to know who was asked {question.id!r} "
                f"(asked if {cond.describe()})"
            ) from None
    if cond.items:
        cols = [f"{cond.question}__{i}" for i in cond.items]
    elif cond.item is not None:
        cols = [f"{cond.question}__{cond.item}"]
    else:
        cols = [cond.question]
    for col in cols:
        if col not in df:
            raise EstimatesError(
                f"data: no column {col!r}, needed to know who was asked {question.id!r} "
                f"(asked if {cond.describe()})"
            )
    if cond.values:
        return df[cols[0]].astype("object").isin(list(cond.values)).to_numpy(dtype=bool)
    return np.column_stack([_ticked(df[c]) for c in cols]).any(axis=1)


def _group_matrix(df: pd.DataFrame, groups: Mapping[str, Sequence[str]]) -> np.ndarray:
    if "stratum" not in df:
        raise EstimatesError("data: no column 'stratum'; expected the respondents' stratum")
    strata = df["stratum"].astype("object")
    bad = ~strata.isin(STRATA)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise EstimatesError(
            f"data: column 'stratum', {_where(df, pos)} has value {strata.iloc[pos]!r}; "
            f"expected one of {list(STRATA)}"
        )
    return np.column_stack([strata.isin(list(members)).to_numpy() for members in groups.values()])


def _weights(df: pd.DataFrame, weight: str | None) -> np.ndarray | None:
    if weight is None:
        return None
    if weight not in df:
        raise EstimatesError(f"data: no weight column {weight!r}; expected it or weight=None")
    w = df[weight].astype("float64").to_numpy()
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise EstimatesError(
            f"data: column {weight!r}, {_where(df, pos)} has weight {w[pos]!r}; "
            f"expected a finite number >= 0"
        )
    return w


class _Builder:
    """Accumulates blocks of rows as arrays; one DataFrame at the end."""

    def __init__(self, G: np.ndarray, names: Sequence[str], wmask: np.ndarray, w, min_base: int):
        self.G = G.astype("float64")
        self.names = np.asarray(names, dtype=object)
        self.wmask = wmask  # groups that get weighted figures
        self.w = w
        self.min_base = min_base
        self.parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("item", "option", "stratum", "base_n", "count", "pct", "wpct")
        }
        for k in ("lo", "hi", "n_eff", "question"):
            self.parts[k] = []

    def _emit(self, question, item, options, base, count, pct, wpct, lo, hi, neff) -> None:
        """Arrays of shape (k options, g groups) → rows option-major, group-minor."""
        k, g = count.shape
        self.parts["question"].append(np.full(k * g, question, dtype=object))
        self.parts["item"].append(np.full(k * g, item, dtype=object))
        self.parts["option"].append(np.repeat(np.asarray(options, dtype=object), g))
        self.parts["stratum"].append(np.tile(self.names, k))
        self.parts["base_n"].append(np.tile(base, k))
        self.parts["count"].append(count.ravel())
        self.parts["pct"].append(pct.ravel())
        self.parts["wpct"].append(wpct.ravel())
        self.parts["lo"].append(lo.ravel())
        self.parts["hi"].append(hi.ravel())
        self.parts["n_eff"].append(neff.ravel())

    def shares(self, qid: str, item: str, options: Sequence[str], X: np.ndarray, asked) -> None:
        """Share rows: ``X`` is (n, k) indicators of the k options, already masked by ``asked``."""
        G = self.G
        base = asked.astype("float64") @ G  # (g,)
        count = X.T.astype("float64") @ G  # (k, g)
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = 100.0 * count / base
        k, g = count.shape
        wpct = np.full((k, g), np.nan)
        lo, hi, neff = wpct.copy(), wpct.copy(), np.full((k, g), np.nan)
        if self.w is not None and self.wmask.any():
            wa = self.w * asked
            Gw = G[:, self.wmask]
            W = wa @ Gw
            W2 = (wa * wa) @ Gw
            with np.errstate(divide="ignore", invalid="ignore"):
                p = (X.T * wa) @ Gw / W
                n_eff = np.where(W2 > 0, W * W / W2, np.nan)
            low, high = wilson_interval(p, n_eff)
            wpct[:, self.wmask] = 100.0 * p
            lo[:, self.wmask] = 100.0 * low
            hi[:, self.wmask] = 100.0 * high
            neff[:, self.wmask] = np.broadcast_to(n_eff, p.shape)
        self._emit(qid, item, options, base, count, pct, wpct, lo, hi, neff)

    def statistics(
        self, qid: str, item: str, x: np.ndarray, asked: np.ndarray, options: Sequence[str]
    ) -> None:
        """Mean (and median) rows of the values ``x`` (NaN = none) among the asked."""
        G = self.G
        valid = asked & ~np.isnan(x)
        xv = np.where(valid, x, 0.0)
        base = asked.astype("float64") @ G
        n = valid.astype("float64") @ G
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = (xv @ G) / n
        stats = [mean]
        if MEDIAN in options:
            med = np.full(G.shape[1], np.nan)
            for j in range(G.shape[1]):  # one median per group (not per respondent)
                sel = valid & (G[:, j] > 0)
                if sel.any():
                    med[j] = float(np.median(x[sel]))
            stats.append(med)
        k, g = len(options), G.shape[1]
        wstat = np.full((k, g), np.nan)
        lo, hi, neff = wstat.copy(), wstat.copy(), wstat.copy()
        if self.w is not None and self.wmask.any():
            for j in np.flatnonzero(self.wmask):
                sel = valid & (G[:, j] > 0)
                ws, xs = self.w[sel], x[sel]
                W, W2 = ws.sum(), (ws * ws).sum()
                if W <= 0:
                    continue
                m = float((ws * xs).sum() / W)
                n_eff = W * W / W2
                sd = float(np.sqrt((ws * (xs - m) ** 2).sum() / W))
                half = Z95 * sd / np.sqrt(n_eff)
                wstat[0, j], lo[0, j], hi[0, j], neff[0, j] = m, m - half, m + half, n_eff
                if k > 1:
                    order = np.argsort(xs, kind="stable")
                    cw = np.cumsum(ws[order])
                    wstat[1, j] = float(xs[order][np.searchsorted(cw, W / 2.0)])
                    neff[1, j] = n_eff
        self._emit(
            qid, item, options, base, np.tile(n, (k, 1)), np.vstack(stats), wstat, lo, hi, neff
        )

    def frame(self) -> pd.DataFrame:
        cat = {k: np.concatenate(v) if v else np.array([]) for k, v in self.parts.items()}
        base = cat["base_n"].astype("int64")
        return pd.DataFrame(
            {
                "question_id": cat["question"],
                "item": cat["item"],
                "option": cat["option"],
                "stratum": cat["stratum"],
                "base_n": base,
                "count": cat["count"].astype("int64"),
                "pct": cat["pct"].astype("float64"),
                "weighted_pct": cat["wpct"].astype("float64"),
                "ci_low": cat["lo"].astype("float64"),
                "ci_high": cat["hi"].astype("float64"),
                "suppressed": base < self.min_base,
                "n_eff": cat["n_eff"].astype("float64"),
            }
        )


def _add_question(b: _Builder, df: pd.DataFrame, q: Question, codebook: Codebook | None) -> None:
    asked = asked_mask(df, q, codebook)
    n = len(df)
    if q.type == "single":
        codes = _codes(df, q.id, q, q.options)
        asked = asked | (codes >= 0)
        X = np.zeros((n, len(q.options) + 1), dtype=bool)
        X[np.arange(n), np.where(codes >= 0, codes, len(q.options))] = True
        b.shares(q.id, "", [*q.options, SANS_REPONSE], X & asked[:, None], asked)
    elif q.type == "matrix":
        for col in q.columns:
            codes = _codes(df, q.column_id(col), q, q.options)
            here = asked | (codes >= 0)
            X = np.zeros((n, len(q.options) + 1), dtype=bool)
            X[np.arange(n), np.where(codes >= 0, codes, len(q.options))] = True
            item = col.label or str(col.item)
            b.shares(q.id, item, [*q.options, SANS_REPONSE], X & here[:, None], here)
    elif q.type == "multiple":
        T = np.column_stack([_ticked(_column(df, q.column_id(c), q)) for c in q.columns])
        asked = asked | T.any(axis=1)
        X = np.column_stack([T, ~T.any(axis=1)]) & asked[:, None]
        labels = [c.label or str(c.item) for c in q.columns]
        b.shares(q.id, "", [*labels, SANS_REPONSE], X, asked)
    elif q.type == "ranking":
        cols = sorted(q.columns, key=lambda c: int(c.item))
        ranks = np.column_stack([_codes(df, q.column_id(c), q, q.options) for c in cols])
        answered = (ranks >= 0).any(axis=1)
        asked = asked | answered
        K = ranks.shape[1]
        for e, element in enumerate(q.options):
            at = ranks == e  # (n, K): element placed at rank k
            X = np.cumsum(at, axis=1) > 0  # ranked at k or better
            b.shares(
                q.id, element, [rank_label(k + 1) for k in range(K)], X & asked[:, None], asked
            )
            rank = np.where(at.any(axis=1), at.argmax(axis=1) + 1.0, np.nan)
            b.statistics(q.id, element, rank, asked, [MEAN_RANK])
        b.shares(q.id, "", [SANS_REPONSE], (asked & ~answered)[:, None], asked)
    elif q.type == "numeric":
        values = pd.to_numeric(_column(df, q.id, q), errors="coerce").astype("float64")
        raw = df[q.id]
        bad = values.isna() & raw.notna() & raw.astype("object").ne("")
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise EstimatesError(
                f"data: column {q.id!r}, {_where(df, pos)} has value {raw.iloc[pos]!r}; "
                f"expected a number or empty (question {q.id!r})"
            )
        x = values.to_numpy()
        asked = asked | ~np.isnan(x)
        b.statistics(q.id, "", x, asked, [MEAN, MEDIAN])
        b.shares(q.id, "", [SANS_REPONSE], (asked & np.isnan(x))[:, None], asked)
    else:
        raise EstimatesError(
            f"question {q.id!r} has type {q.type!r}; expected a tabulated type {TABULATED}"
        )


def _finish(out: pd.DataFrame, questions: Iterable[Question], edition: int | None) -> pd.DataFrame:
    meta = {q.id: q for q in questions}
    out.insert(0, "edition", pd.array([edition] * len(out), dtype="Int64"))
    out.insert(1, "chapter", out["question_id"].map({k: q.chapter for k, q in meta.items()}))
    out.insert(3, "question", out["question_id"].map({k: q.text for k, q in meta.items()}))
    return out[[*COLUMNS, *EXTRA_COLUMNS]]


def _estimate(
    df: pd.DataFrame,
    questions: Sequence[Question],
    *,
    edition: int | None,
    weight: str | None,
    groups: Mapping[str, Sequence[str]],
    min_base: int,
    weighted_groups: Iterable[str],
    codebook: Codebook | None = None,
) -> pd.DataFrame:
    G = _group_matrix(df, groups)
    names = list(groups)
    wmask = np.isin(names, list(weighted_groups))
    b = _Builder(G, names, wmask, _weights(df, weight), min_base)
    for q in questions:
        _add_question(b, df, q, codebook)
    return _finish(b.frame(), questions, edition)


def estimate_question(
    df: pd.DataFrame,
    question: Question,
    *,
    edition: int | None = None,
    weight: str | None = "weight",
    groups: Mapping[str, Sequence[str]] = GROUPS,
    min_base: int = 5,
    weighted_groups: Iterable[str] = ("ensemble",),
    codebook: Codebook | None = None,
) -> pd.DataFrame:
    """Tidy estimates of one tabulated question (see the module docstring for the rows).

    ``df`` is a processed dataset (``stratum``, the weight column, the question's columns and
    those its ``asked_if`` refers to). ``weight=None``: no weighted figures. ``codebook``: to
    evaluate ``asked_if`` chains (see :func:`asked_mask`).
    """
    return _estimate(
        df,
        [question],
        edition=edition,
        weight=weight,
        groups=groups,
        min_base=min_base,
        weighted_groups=weighted_groups,
        codebook=codebook,
    )


def estimate_all(
    df: pd.DataFrame,
    codebook: Codebook,
    edition: int | None = None,
    *,
    weight: str | None = "weight",
    groups: Mapping[str, Sequence[str]] = GROUPS,
    min_base: int = 5,
    weighted_groups: Iterable[str] = ("ensemble",),
) -> pd.DataFrame:
    """Estimates of every tabulated question of ``codebook``, in codebook order.

    Row order: question (codebook order), item, option (codebook order, "sans réponse" last),
    group (order of ``groups``). ``edition`` defaults to the codebook's.
    """
    return _estimate(
        df,
        codebook.of_type(*TABULATED),
        edition=codebook.edition if edition is None else edition,
        weight=weight,
        groups=groups,
        min_base=min_base,
        weighted_groups=weighted_groups,
        codebook=codebook,
    )


# -- figures for prose ------------------------------------------------------------------------
@dataclass(frozen=True)
class Headline:
    """One figure for a sentence of the report, with what is needed to state its base."""

    question_id: str
    item: str
    option: str
    group: str
    base_n: int
    count: int
    pct: float
    weighted_pct: float | None
    ci: tuple[float, float] | None
    n_eff: float | None
    suppressed: bool
    weighted: bool

    @property
    def value(self) -> float:
        """The figure to print: the weighted percentage when weighted, else the raw one."""
        return self.weighted_pct if self.weighted else self.pct  # type: ignore[return-value]


def headline(
    df: pd.DataFrame,
    question: Question,
    option: str,
    group: str = "ensemble",
    weighted: bool = True,
    *,
    item: str = "",
    weight: str = "weight",
    groups: Mapping[str, Sequence[str]] = GROUPS,
    min_base: int = 5,
    codebook: Codebook | None = None,
) -> Headline:
    """The estimate of one option (of one ``item`` for matrices and rankings) in one group."""
    if group not in groups:
        raise EstimatesError(f"group {group!r}; expected one of {list(groups)}")
    est = estimate_question(
        df,
        question,
        weight=weight if weighted else None,
        groups={group: groups[group]},
        min_base=min_base,
        weighted_groups=(group,) if weighted else (),
        codebook=codebook,
    )
    row = est[(est["option"] == option) & (est["item"] == item)]
    if row.empty:
        known = est[["item", "option"]].drop_duplicates()
        raise EstimatesError(
            f"question {question.id!r} has no option {option!r} (item {item!r}); expected one of "
            f"{[tuple(r) if r[0] else r[1] for r in known.itertuples(index=False)]}"
        )
    r = row.iloc[0]
    return Headline(
        question_id=question.id,
        item=item,
        option=option,
        group=group,
        base_n=int(r["base_n"]),
        count=int(r["count"]),
        pct=float(r["pct"]),
        weighted_pct=float(r["weighted_pct"]) if weighted else None,
        ci=(float(r["ci_low"]), float(r["ci_high"])) if weighted else None,
        n_eff=float(r["n_eff"]) if weighted else None,
        suppressed=bool(r["suppressed"]),
        weighted=weighted,
    )
