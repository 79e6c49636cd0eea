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
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype

from analysis.stats import design as dm
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
    "group_n",
    "count",
    "pct",
    "weighted_pct",
    "ci_low",
    "ci_high",
    "ci_method",
    "deff",
    "n_eff",
    "cv",
    "reliable",
    "suppressed",
)
#: Extra column of the estimates (not exported): standard error of ``weighted_pct`` (same unit),
#: for design-based comparisons between editions.
EXTRA_COLUMNS: tuple[str, ...] = ("se",)
#: Population-estimate methods (see :func:`estimate_all`).
METHODS: tuple[str, ...] = ("frame", "observatoire", "raking")
WILSON_KISH = "wilson-kish"
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
    series = _column(df, col, question)
    if isinstance(series.dtype, pd.CategoricalDtype):  # the processed dataset: no string work
        where = {level: i for i, level in enumerate(levels)}
        lookup = np.array(
            [-1 if c == "" else where.get(c, -2) for c in series.cat.categories] + [-1],
            dtype="int64",
        )
        codes = lookup[series.cat.codes.to_numpy()]  # code -1 (missing) → the last entry
        if not (codes == -2).any():
            return codes
    values = series.astype("object")
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
    """Accumulates blocks of rows as arrays; one DataFrame at the end.

    ``pop``: the population estimates to compute — ``None`` (none), ``("weights", w, wmask)``
    (post-stratified shares on fixed weights with Wilson-on-Kish intervals: the published
    method) or ``("design", design, S, Gd, interval)`` (design-based, :mod:`analysis.stats.design`).
    """

    KEYS = (
        "question", "item", "option", "stratum", "base_n", "group_n", "count", "pct", "wpct",
        "lo", "hi", "method", "deff", "n_eff", "cv", "se", "weak", "census", "has",
        "ek", "en", "eN",
    )  # fmt: skip

    def __init__(self, G: np.ndarray, names: Sequence[str], pop, min_base: int):
        self.G = G.astype("float64")
        self.names = np.asarray(names, dtype=object)
        self.group_n = self.G.sum(axis=0)
        self.pop = pop
        self.min_base = min_base
        self.parts: dict[str, list[np.ndarray]] = {k: [] for k in self.KEYS}

    def _emit(self, question, item, options, base, count, pct, cols: dict) -> None:
        """Arrays of shape (k options, g groups) → rows option-major, group-minor."""
        k, g = count.shape
        self.parts["question"].append(np.full(k * g, question, dtype=object))
        self.parts["item"].append(np.full(k * g, item, dtype=object))
        self.parts["option"].append(np.repeat(np.asarray(options, dtype=object), g))
        self.parts["stratum"].append(np.tile(self.names, k))
        self.parts["base_n"].append(np.tile(base, k))
        self.parts["group_n"].append(np.tile(self.group_n, k))
        self.parts["count"].append(count.ravel())
        self.parts["pct"].append(pct.ravel())
        for key in self.KEYS[8:]:
            self.parts[key].append(np.broadcast_to(cols[key], (k, g)).ravel())

    def _empty(self, k: int) -> dict:
        g = len(self.names)
        cols = {key: np.full((k, g), np.nan) for key in self.KEYS[8:]}
        cols["method"] = np.full((k, g), "", dtype=object)
        cols["census"] = np.zeros((k, g), dtype=bool)
        cols["has"] = np.zeros((k, g), dtype=bool)
        return cols

    def _design(self, X: np.ndarray, asked: np.ndarray, proportion: bool) -> dict:
        _, design, S, Gd, interval = self.pop
        out = dm.population_columns(
            design, X, asked, Gd, proportion=proportion, interval=interval, S=S
        )
        scale = 100.0 if proportion else 1.0
        return {
            "wpct": scale * out["estimate"],
            "lo": scale * out["ci_low"],
            "hi": scale * out["ci_high"],
            "method": out["ci_method"],
            "deff": out["deff"],
            "n_eff": out["n_eff"],
            "cv": out["cv"],
            "se": scale * np.sqrt(out["variance"]),
            "weak": out["weak_share"],
            "census": out["census"],
            "has": out["has_estimate"],
            "ek": out["exact_k"],
            "en": out["exact_n"],
            "eN": out["exact_N"],
        }

    def shares(self, qid: str, item: str, options: Sequence[str], X: np.ndarray, asked) -> None:
        """Share rows: ``X`` is (n, k) indicators of the k options, already masked by ``asked``."""
        G = self.G
        base = asked.astype("float64") @ G  # (g,)
        count = X.T.astype("float64") @ G  # (k, g)
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = 100.0 * count / base
        cols = self._empty(count.shape[0])
        if self.pop is not None and self.pop[0] == "design":
            cols = self._design(X, asked, True)
        elif self.pop is not None and self.pop[2].any():
            _, w, wmask = self.pop
            wa = w * asked
            Gw = G[:, wmask]
            W = wa @ Gw
            W2 = (wa * wa) @ Gw
            npos = ((wa > 0).astype("float64")) @ Gw
            with np.errstate(divide="ignore", invalid="ignore"):
                p = (X.T * wa) @ Gw / W
                # all or none: exactly 1 or 0, whatever the order of the sums
                p = np.where(np.abs(p - 1) < 1e-12, 1.0, np.where(np.abs(p) < 1e-12, 0.0, p))
                n_eff = np.where(W2 > 0, W * W / W2, np.nan)
                se = np.sqrt(np.maximum(p * (1 - p), 0.0) / n_eff)
                cv = np.where(p > 0, se / p, np.inf)
                deff = npos / n_eff
            low, high = wilson_interval(p, n_eff)
            has = np.isfinite(p)
            cols["wpct"][:, wmask] = 100.0 * p
            cols["lo"][:, wmask] = 100.0 * low
            cols["hi"][:, wmask] = 100.0 * high
            cols["n_eff"][:, wmask] = np.broadcast_to(n_eff, p.shape)
            cols["se"][:, wmask] = 100.0 * se
            cols["cv"][:, wmask] = cv
            cols["deff"][:, wmask] = np.broadcast_to(deff, p.shape)
            cols["has"][:, wmask] = has
            cols["method"][:, wmask] = np.where(has & np.isfinite(low), WILSON_KISH, "")
        self._emit(qid, item, options, base, count, pct, cols)

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
        k = len(options)
        cols = self._empty(k)
        if self.pop is not None and self.pop[0] == "design":
            design = self.pop[1]
            mcols = self._design(x[:, None], valid, False)
            for key, v in mcols.items():
                cols[key][0] = v[0]
            w = design.weights
            todo = np.flatnonzero(mcols["has"][0]) if k > 1 else []
        elif self.pop is not None:
            _, w, wmask = self.pop
            todo = np.flatnonzero(wmask)
            for j in todo:
                sel = valid & (G[:, j] > 0)
                ws, xs = w[sel], x[sel]
                W, W2 = ws.sum(), (ws * ws).sum()
                if W <= 0:
                    continue
                m = float((ws * xs).sum() / W)
                n_eff = W * W / W2
                sd = float(np.sqrt((ws * (xs - m) ** 2).sum() / W))
                half = Z95 * sd / np.sqrt(n_eff)
                cols["wpct"][0, j], cols["n_eff"][0, j] = m, n_eff
                cols["lo"][0, j], cols["hi"][0, j] = m - half, m + half
                cols["se"][0, j] = sd / np.sqrt(n_eff)
                cols["cv"][0, j] = cols["se"][0, j] / abs(m) if m else np.inf
                cols["deff"][0, j] = float((ws > 0).sum()) / n_eff
                cols["has"][0, j] = True
                cols["method"][0, j] = "normal-kish"
        else:
            w, todo = None, []
        if k > 1 and w is not None:  # weighted median, no interval
            for j in todo:
                sel = valid & (G[:, j] > 0) & (w > 0)
                ws, xs = w[sel], x[sel]
                if ws.sum() <= 0:
                    continue
                order = np.argsort(xs, kind="stable")
                cw = np.cumsum(ws[order])
                cols["wpct"][1, j] = float(xs[order][np.searchsorted(cw, ws.sum() / 2.0)])
                cols["n_eff"][1, j] = cols["n_eff"][0, j]
                cols["has"][1, j] = True
                cols["weak"][1, j] = cols["weak"][0, j]
                cols["census"][1, j] = cols["census"][0, j]
        self._emit(qid, item, options, base, np.tile(n, (k, 1)), np.vstack(stats), cols)

    def frame(self) -> pd.DataFrame:
        cat = {k: np.concatenate(v) if v else np.array([]) for k, v in self.parts.items()}
        base = cat["base_n"].astype("int64")
        lo = cat["lo"].astype("float64").copy()
        hi = cat["hi"].astype("float64").copy()
        method = cat["method"].astype(object)
        if self.pop is not None and self.pop[0] == "design":
            low, high = lo / 100.0, hi / 100.0
            dm.fill_exact(
                low,
                high,
                method,
                cat["ek"].astype("float64"),
                cat["en"].astype("float64"),
                cat["eN"].astype("float64"),
            )
            lo, hi = 100.0 * low, 100.0 * high
        suppressed = base < self.min_base
        has = cat["has"].astype(bool)
        cv = cat["cv"].astype("float64")
        weak = np.nan_to_num(cat["weak"].astype("float64"), nan=0.0)
        median = cat["option"] == MEDIAN  # no interval: reliable as its mean (rows option-major)
        reliable = dm.reliable(cv, weak, cat["census"].astype(bool), suppressed, has)
        if median.any():
            pos = np.flatnonzero(median)
            reliable[pos] = reliable[pos - len(self.names)] & has[pos]  # the mean's row
        return pd.DataFrame(
            {
                "question_id": cat["question"],
                "item": cat["item"],
                "option": cat["option"],
                "stratum": cat["stratum"],
                "base_n": base,
                "group_n": cat["group_n"].astype("int64"),
                "count": cat["count"].astype("int64"),
                "pct": cat["pct"].astype("float64"),
                "weighted_pct": cat["wpct"].astype("float64"),
                "ci_low": lo,
                "ci_high": hi,
                "ci_method": pd.array(method, dtype="object"),
                "deff": cat["deff"].astype("float64"),
                "n_eff": cat["n_eff"].astype("float64"),
                "cv": cv,
                "reliable": reliable,
                "suppressed": suppressed,
                "se": cat["se"].astype("float64"),
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


def _population(
    df: pd.DataFrame,
    *,
    method: str | None,
    weight: str | None,
    groups: Mapping[str, Sequence[str]],
    weighted_groups: Iterable[str] | None,
    frame: Any,
    edition: int | None,
    interval: str,
):
    """What :class:`_Builder` needs to compute the population estimates of ``method``."""
    names = list(groups)
    if method is None or method == "observatoire":
        if weight is None:
            return None
        chosen = ("ensemble",) if weighted_groups is None else tuple(weighted_groups)
        return ("weights", _weights(df, weight), np.isin(names, list(chosen)))
    if method not in METHODS:
        raise EstimatesError(f"method {method!r}; expected one of {list(METHODS)}")
    if frame is None:
        if edition is None:
            raise EstimatesError(
                f"method {method!r} needs the frame: give frame= or the edition (codebook)"
            )
        from analysis.survey.reference import FrameError, load_frame

        try:
            frame = load_frame(edition)
        except FrameError as exc:
            raise EstimatesError(f"method {method!r}: {exc}") from None
    weights = None
    if method == "raking":
        column = weight if weight not in (None, "weight") else "weight_raking"
        weights = _weights(df, column)
    try:
        design = dm.Design.from_strata(df["stratum"], frame, weights=weights, edition=edition)
    except dm.DesignError as exc:
        raise EstimatesError(str(exc)) from None
    if weighted_groups is not None:
        groups = {g: (m if g in set(weighted_groups) else ()) for g, m in groups.items()}
    return ("design", design, design.indicator(), design.group_matrix(groups), interval)


def _estimate(
    df: pd.DataFrame,
    questions: Sequence[Question],
    *,
    edition: int | None,
    weight: str | None,
    groups: Mapping[str, Sequence[str]],
    min_base: int,
    weighted_groups: Iterable[str] | None,
    codebook: Codebook | None = None,
    method: str | None = None,
    frame: Any = None,
    interval: str = dm.LOGIT,
) -> pd.DataFrame:
    G = _group_matrix(df, groups)
    pop = _population(
        df,
        method=method,
        weight=weight,
        groups=groups,
        weighted_groups=weighted_groups,
        frame=frame,
        edition=edition,
        interval=interval,
    )
    b = _Builder(G, list(groups), pop, min_base)
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
    weighted_groups: Iterable[str] | None = None,
    codebook: Codebook | None = None,
    method: str | None = None,
    frame: Any = None,
    interval: str = dm.LOGIT,
) -> pd.DataFrame:
    """Tidy estimates of one tabulated question (see the module docstring for the rows).

    ``df`` is a processed dataset (``stratum``, the weight column, the question's columns and
    those its ``asked_if`` refers to). ``codebook``: to evaluate ``asked_if`` chains (see
    :func:`asked_mask`). Population estimates: see :func:`estimate_all`.
    """
    if edition is None and codebook is not None and method in ("frame", "raking"):
        edition = codebook.edition
    return _estimate(
        df,
        [question],
        edition=edition,
        weight=weight,
        groups=groups,
        min_base=min_base,
        weighted_groups=weighted_groups,
        codebook=codebook,
        method=method,
        frame=frame,
        interval=interval,
    )


def estimate_all(
    df: pd.DataFrame,
    codebook: Codebook,
    edition: int | None = None,
    *,
    weight: str | None = "weight",
    groups: Mapping[str, Sequence[str]] = GROUPS,
    min_base: int = 5,
    weighted_groups: Iterable[str] | None = None,
    method: str | None = None,
    frame: Any = None,
    interval: str = dm.LOGIT,
    questions: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Estimates of every tabulated question of ``codebook``, in codebook order.

    ``questions``: only these question ids (a chapter's), still in codebook order.

    Row order: question (codebook order), item, option (codebook order, "sans réponse" last),
    group (order of ``groups``). ``edition`` defaults to the codebook's.

    Population estimates (``weighted_pct`` and the columns after it):

    * ``method="frame"`` (the report's): design-based on the edition's frame (``frame``: a
      ``{stratum: N}`` mapping or a ``Frame``, default ``data/frames/<edition>.yaml``), for every
      group with a frame stratum (or only ``weighted_groups`` when given); ``interval``:
      ``"logit"`` or ``"beta"`` for groups of several strata;
    * ``method="raking"``: the same with the raking weights (column ``weight_raking``, or
      ``weight`` when another name is given) taken as fixed;
    * ``method="observatoire"`` or ``None`` (the default here, kept for compatibility): the
      post-stratified share on the ``weight`` column with the Wilson interval on Kish's
      effective size, on ``weighted_groups`` (default ``ensemble``); ``weight=None``: none.
    """
    edition = codebook.edition if edition is None else edition
    tabulated = codebook.of_type(*TABULATED)
    if questions is not None:
        wanted = set(questions)
        tabulated = [q for q in tabulated if q.id in wanted]
    return _estimate(
        df,
        tabulated,
        edition=edition,
        weight=weight,
        groups=groups,
        min_base=min_base,
        weighted_groups=weighted_groups,
        codebook=codebook,
        method=method,
        frame=frame,
        interval=interval,
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
    ci_method: str = ""
    reliable: bool = False

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
    method: str | None = None,
    frame: Any = None,
    edition: int | None = None,
) -> Headline:
    """The estimate of one option (of one ``item`` for matrices and rankings) in one group.

    ``method``/``frame``: see :func:`estimate_all` (design-based with ``method="frame"``).
    """
    if group not in groups:
        raise EstimatesError(f"group {group!r}; expected one of {list(groups)}")
    est = estimate_question(
        df,
        question,
        edition=edition,
        weight=weight if weighted else None,
        groups={group: groups[group]},
        min_base=min_base,
        weighted_groups=(group,) if weighted else (),
        codebook=codebook,
        method=method if weighted else None,
        frame=frame,
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
        ci_method=str(r["ci_method"]) if weighted else "",
        reliable=bool(r["reliable"]) if weighted else False,
    )
