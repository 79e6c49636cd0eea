"""Design-based estimation: the sampling design of an edition, Taylor-linearised variances.

The barometer's sample is read as **stratified simple random sampling without replacement**:
the strata are the frame strata (:data:`FRAME_STRATA`, the codes of ``data/frames/<edition>.yaml``),
the population sizes ``N_h`` the frame's counts, the respondents of a stratum a simple random
sample of its ``n_h`` collectivités. A respondent outside the frame (stratum ``autre``) is a
respondent, never a member of a population estimate: its weight is 0 and it is in no stratum.
This is R's ``svydesign(ids = ~1, strata = ~stratum, fpc = ~N)`` (package ``survey``, Lumley),
whose answers are the known answers of the tests (``scripts/r_fixtures/``).

Every estimate is a ratio ``Σ w·d·y / Σ w·d`` over a **domain** ``d`` (the respondents of a group of
strata who were asked the question: domain estimation, the design kept whole), with design
weights ``w = N_h / n_h`` (or given weights, e.g. calibrated ones, used as fixed). Its variance is
the Taylor linearisation with the finite-population correction::

    z_i = w_i d_i (y_i − p) / Σ w d
    V   = Σ_h (1 − n_h/N_h) · n_h/(n_h − 1) · Σ_{i∈h} (z_i − z̄_h)²        (z̄_h over all n_h)

computed from per-stratum sums, so that every option of every question for every group is a few
matrix products (:func:`ratio_estimates`). A stratum with one respondent that is not a census
contributes no variance (R would stop: ``survey.lonely.psu = "fail"``); the reliability rule
flags every estimate that leans on such a stratum.

Intervals (95 %):

* ``logit`` (R ``svyciprop(method = "logit")``): ``expit(logit p ± t_df · se / (p (1 − p)))``
  with ``df`` = the design degrees of freedom of the domain (R ``degf``: respondents of the
  domain minus strata holding them); undefined at 0 % and 100 %;
* ``beta`` (Korn–Graubard, R ``svyciprop(method = "beta")``): Clopper–Pearson on the effective
  size ``p (1 − p) / V`` scaled by ``(t_{n−1} / t_df)²``;
* means: ``m ± t_df · se`` (R ``confint(svymean(…), df = degf(…))``);
* one stratum: the **exact finite-population interval** (:func:`exact_interval`), inverting the
  hypergeometric tests over the stratum's population count, defined at 0 % and 100 %, a point
  when the whole stratum answered.

Quality: ``deff`` (R's ``deff = TRUE``: the variance over that of a simple random sample of the
same size without replacement), ``n_eff`` (``p (1 − p) / V`` for proportions, ``s² / V`` for means),
``cv`` (``se / estimate``) and the publication rule of :func:`reliable`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaincinv, expit, gammaln, logit
from scipy.special import stdtrit as _stdtrit

from analysis.survey.strata import STRATA

#: Strata of the frame (every stratum but ``autre``), in report order.
FRAME_STRATA: tuple[str, ...] = tuple(s for s in STRATA if s != "autre")
#: Two-sided confidence level of every interval.
LEVEL = 0.95
#: Publication rule (see :func:`reliable` and docs/method.md).
CV_MAX = 1 / 3
MIN_STRATUM_RESPONDENTS = 10
WEAK_SHARE_MAX = 0.25


class DesignError(ValueError):
    """The respondents do not fit the frame of the design."""


def _t(df: np.ndarray | float, level: float = LEVEL) -> np.ndarray:
    """Two-sided Student quantile (normal when df is infinite); NaN where df <= 0."""
    df = np.asarray(df, dtype="float64")
    q = 1 - (1 - level) / 2
    with np.errstate(invalid="ignore"):
        return np.where(df > 0, _stdtrit(np.where(df > 0, df, 1.0), q), np.nan)


@dataclass(frozen=True)
class Design:
    """Stratified SRSWOR design of one edition's respondents.

    ``index``: per respondent, the position of its stratum in ``strata`` (−1 outside the frame);
    ``weights``: per respondent, the weight (``N_h / n_h`` unless given; 0 outside the frame);
    ``population``: ``N_h``; ``sampled``: ``n_h`` (respondents in each frame stratum).
    """

    strata: tuple[str, ...]
    population: np.ndarray
    sampled: np.ndarray
    index: np.ndarray
    weights: np.ndarray
    edition: str | None = None

    @classmethod
    def from_strata(
        cls,
        strata: Sequence[Any] | pd.Series,
        frame: Mapping[str, int] | Any,
        *,
        weights: Sequence[float] | np.ndarray | None = None,
        edition: str | int | None = None,
    ) -> Design:
        """Design of respondents given their stratum codes and the frame counts.

        ``frame``: ``{stratum: N_h}`` or an object with ``.counts`` (``analysis.survey.reference.Frame``).
        ``weights``: fixed weights to use instead of ``N_h / n_h`` (calibrated weights); rows
        outside the frame must weigh 0.
        """
        counts = dict(getattr(frame, "counts", frame))
        unknown = [s for s in counts if s not in FRAME_STRATA]
        if unknown:
            raise DesignError(
                f"frame: stratum {unknown[0]!r} is not a frame stratum; expected one of "
                f"{list(FRAME_STRATA)}"
            )
        values = pd.Series(np.asarray(strata, dtype=object)).astype("object")
        bad = ~values.isin(STRATA)
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise DesignError(
                f"data: row {pos} has stratum {values.iloc[pos]!r}; expected one of {list(STRATA)}"
            )
        order = [s for s in FRAME_STRATA if s in counts]
        uncounted = values.isin(FRAME_STRATA) & ~values.isin(order)
        if uncounted.any():
            pos = int(np.flatnonzero(uncounted.to_numpy())[0])
            raise DesignError(
                f"frame: stratum {values.iloc[pos]!r} (row {pos}) has respondents but no frame "
                f"count; expected a count for it in the frame ({sorted(counts)})"
            )
        population = np.array([float(counts[s]) for s in order])
        index = pd.Categorical(values.where(values.isin(order)), categories=order).codes.astype(
            "int64"
        )
        sampled = np.bincount(index[index >= 0], minlength=len(order)).astype("float64")
        over = np.flatnonzero(sampled > population)
        if over.size:
            h = int(over[0])
            raise DesignError(
                f"frame: stratum {order[h]!r} has {int(sampled[h])} respondents but N = "
                f"{int(population[h])}; expected at most N respondents (check the frame counts)"
            )
        missing = [order[h] for h in np.flatnonzero((sampled > 0) & (population <= 0))]
        if missing:
            raise DesignError(f"frame: stratum {missing[0]!r} has respondents but N = 0")
        if weights is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                per_stratum = np.where(sampled > 0, population / sampled, 0.0)
            w = np.where(index >= 0, per_stratum[np.maximum(index, 0)], 0.0)
        else:
            w = np.asarray(weights, dtype="float64")
            if w.shape != index.shape or not np.all(np.isfinite(w)) or (w < 0).any():
                raise DesignError(
                    "weights: expected one finite weight >= 0 per respondent "
                    f"({index.size}), got shape {w.shape}"
                )
            w = np.where(index >= 0, w, 0.0)
        return cls(
            strata=tuple(order),
            population=population,
            sampled=sampled,
            index=index,
            weights=w,
            edition=None if edition is None else str(edition),
        )

    @classmethod
    def of_edition(
        cls,
        df: pd.DataFrame,
        edition: int | str,
        *,
        weight: str | None = None,
        directory: Any = None,
    ) -> Design:
        """Design of a processed dataset (column ``stratum``) with the frame of ``edition``."""
        from analysis.survey.reference import load_frame

        if "stratum" not in df:
            raise DesignError("data: no column 'stratum'; expected the respondents' stratum")
        frame = load_frame(edition, directory)
        weights = None
        if weight is not None:
            if weight not in df:
                raise DesignError(f"data: no weight column {weight!r}")
            weights = df[weight].astype("float64").to_numpy()
        return cls.from_strata(df["stratum"], frame, weights=weights, edition=edition)

    # -- helpers ------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return int(self.index.size)

    @property
    def census(self) -> np.ndarray:
        """Strata whose every collectivité answered (no sampling error)."""
        return (self.sampled >= self.population) & (self.sampled > 0)

    def indicator(self) -> np.ndarray:
        """(n, H) float matrix: respondent i is in frame stratum h."""
        S = np.zeros((self.n, len(self.strata)))
        inside = self.index >= 0
        S[np.flatnonzero(inside), self.index[inside]] = 1.0
        return S

    def group_matrix(self, groups: Mapping[str, Sequence[str]]) -> np.ndarray:
        """(H, g) bool: frame stratum h is a member of group j (``autre`` is in no frame stratum)."""
        return np.array(
            [[s in set(members) for members in groups.values()] for s in self.strata], dtype=bool
        ).reshape(len(self.strata), len(groups))


@dataclass(frozen=True)
class Estimates:
    """Population estimates of k variables over g groups (arrays of shape (k, g)).

    ``estimate``: the ratio (a proportion in 0–1 or a mean); ``variance``: its Taylor variance;
    ``n``: respondents of the domain in the group's frame strata; ``df``: design degrees of
    freedom; ``svyvar``: the domain's weighted variance of the variable (R ``svyvar``);
    ``population``: the estimated size of the domain; ``census``: every stratum holding domain
    respondents is a census; ``weak_share``: share of the domain's estimated population in strata
    with fewer than :data:`MIN_STRATUM_RESPONDENTS` respondents of the domain or with no variation
    of the variable (census strata excepted).
    """

    estimate: np.ndarray
    variance: np.ndarray
    n: np.ndarray
    df: np.ndarray
    svyvar: np.ndarray
    population: np.ndarray
    census: np.ndarray
    weak_share: np.ndarray
    proportion: bool

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(self.variance)

    @property
    def cv(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.estimate != 0, self.se / np.abs(self.estimate), np.inf)

    @property
    def deff(self) -> np.ndarray:
        """R's ``deff = TRUE``: V / (svyvar · (N̂ − n) / (N̂ · n)); NaN where undefined."""
        with np.errstate(divide="ignore", invalid="ignore"):
            srs = self.svyvar * (self.population - self.n) / (self.population * self.n)
            return np.where(srs > 0, self.variance / srs, np.nan)

    @property
    def n_eff(self) -> np.ndarray:
        """Effective sample size: p(1 − p)/V (proportions, Korn–Graubard), s²/V (means)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.proportion:
                num = self.estimate * (1 - self.estimate)
            else:
                num = self.svyvar
            return np.where(self.variance > 0, num / self.variance, np.nan)

    def logit_interval(self, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
        """R ``svyciprop(method = "logit")``; a point where V = 0 (census), NaN at 0 % / 100 %."""
        p, v = self.estimate, self.variance
        inside = (p > 0) & (p < 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            half = _t(self.df, level) * np.sqrt(v) / (p * (1 - p))
            centre = logit(np.where(inside, p, 0.5))
            low = np.where(inside, expit(centre - half), np.nan)
            high = np.where(inside, expit(centre + half), np.nan)
        point = self.census & (v == 0)
        return np.where(point, p, low), np.where(point, p, high)

    def beta_interval(self, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
        """Korn–Graubard, R ``svyciprop(method = "beta")``; NaN at 0 % / 100 % or V = 0."""
        p, v = self.estimate, self.variance
        alpha = 1 - level
        with np.errstate(divide="ignore", invalid="ignore"):
            n_eff = p * (1 - p) / v
            ratio = _t(self.n - 1.0, level) / _t(self.df, level)
            n_eff = n_eff * ratio * ratio
            ok = (p > 0) & (p < 1) & (v > 0) & np.isfinite(n_eff)
            x = np.where(ok, n_eff * p, 1.0)
            y = np.where(ok, n_eff * (1 - p), 1.0)
            low = np.where(ok, betaincinv(x, y + 1, alpha / 2), np.nan)
            high = np.where(ok, betaincinv(x + 1, y, 1 - alpha / 2), np.nan)
        return low, high

    def mean_interval(self, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
        """``m ± t_df · se`` (R ``confint(svymean(…), df = degf(…))``)."""
        half = _t(self.df, level) * self.se
        half = np.where(self.variance == 0, 0.0, half)
        return self.estimate - half, self.estimate + half


def ratio_estimates(
    design: Design,
    X: np.ndarray,
    domain: np.ndarray,
    groups: np.ndarray,
    *,
    proportion: bool = True,
    S: np.ndarray | None = None,
) -> Estimates:
    """Estimates of the k columns of ``X`` (n, k) over the ``domain`` (n,) within each group.

    ``groups``: (H, g) bool from :meth:`Design.group_matrix`. ``proportion``: ``X`` holds 0/1
    indicators (then the estimate is a proportion); otherwise values (NaN outside the domain is
    allowed). Vectorised: per-stratum sums, then (H, k, g) arrays.
    """
    S = design.indicator() if S is None else S
    X = np.asarray(X, dtype="float64")
    if X.ndim == 1:
        X = X[:, None]
    d = np.asarray(domain, dtype=bool) & (design.index >= 0)
    X = np.where(d[:, None], X, 0.0)
    w = design.weights
    wd = w * d
    w2d = w * wd
    G = groups.astype("float64")  # (H, g)
    # per-stratum sums
    a = S.T @ d.astype("float64")  # (H,) respondents of the domain
    B = S.T @ wd  # (H,)
    B2 = S.T @ w2d
    A = S.T @ (wd[:, None] * X)  # (H, k)
    A2 = S.T @ (w2d[:, None] * X)
    Axx = S.T @ (wd[:, None] * X * X)
    A2xx = S.T @ (w2d[:, None] * X * X)
    sx = S.T @ (d[:, None] * X)  # unweighted, for the "no variation" test
    sxx = S.T @ (d[:, None] * X * X)
    D = B @ G  # (g,)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (A.T @ G) / D  # (k, g)
        if proportion:  # all or none: exactly 1 or 0, whatever the order of the sums
            p = np.where(np.abs(p - 1) < 1e-12, 1.0, np.where(np.abs(p) < 1e-12, 0.0, p))
        # linearised sums per stratum: (H, k, g)
        s1 = (A[:, :, None] - p[None] * B[:, None, None]) * G[:, None, :] / D[None, None, :]
        s2 = (
            (A2xx[:, :, None] - 2 * p[None] * A2[:, :, None] + p[None] ** 2 * B2[:, None, None])
            * G[:, None, :]
            / (D * D)[None, None, :]
        )
        n_h = design.sampled
        c = np.where(n_h > 1, (1 - n_h / design.population) * n_h / (n_h - 1), 0.0)  # (H,)
        within = s2 - np.where(n_h[:, None, None] > 0, s1 * s1 / n_h[:, None, None], 0.0)
        variance = np.einsum("h,hkg->kg", c, within)
        variance = np.maximum(variance, 0.0)
        # svyvar: Σ w d (x − p)² / Σ w d · n/(n − 1) over the group's domain
        ss = (Axx.T @ G) - 2 * p * (A.T @ G) + p * p * D[None, :]
        n_dom = a @ G  # (g,)
        svyvar = ss / D[None, :] * n_dom / (n_dom - 1)
        # degrees of freedom: respondents minus strata holding them (R degf)
        df = n_dom - (a > 0).astype("float64") @ G
        # weak strata: few respondents, or no variation (census strata excepted)
        spread = sxx - np.where(a[:, None] > 0, sx * sx / a[:, None], 0.0)  # (H, k)
        flat = np.abs(spread) <= 1e-9 * np.maximum(1.0, sxx)
        weak = ((a[:, None] < MIN_STRATUM_RESPONDENTS) | flat) & (a[:, None] > 0)
        weak &= ~design.census[:, None]
        weak_share = ((weak * B[:, None]).T @ G) / D[None, :]
        census = ((a > 0) & ~design.census).astype("float64") @ G == 0
    k = X.shape[1]
    return Estimates(
        estimate=p,
        variance=np.where(np.isfinite(p), variance, np.nan),
        n=np.broadcast_to(n_dom, (k, G.shape[1])).copy(),
        df=np.broadcast_to(df, (k, G.shape[1])).copy(),
        svyvar=svyvar,
        population=np.broadcast_to(D, (k, G.shape[1])).copy(),
        census=np.broadcast_to(census & (n_dom > 0), (k, G.shape[1])).copy(),
        weak_share=weak_share,
        proportion=proportion,
    )


# -- exact finite-population interval of one stratum ------------------------------------------
def _tail(K: np.ndarray, k: np.ndarray, n: int, N: np.ndarray, upper: bool) -> np.ndarray:
    """P(X >= k) (upper) or P(X <= k) for X ~ hypergeometric(K successes, N, n draws).

    ``n`` is one sample size for the whole batch (rows are grouped by n): the pmf over x = 0..n
    needs only two (rows, n + 1) matrices of log-gamma values.
    """
    x = np.arange(n + 1, dtype="float64")[None, :]
    K_, N_ = K[:, None], N[:, None]
    a = K_ - x  # K − x ≥ 0 and N − K − n + x ≥ 0 where the pmf is positive
    b = N_ - K_ - n + x
    ok = (a >= 0) & (b >= 0)
    with np.errstate(invalid="ignore"):
        logp = (
            gammaln(K_ + 1)
            + gammaln(N_ - K_ + 1)
            - gammaln(N_ + 1)
            + (gammaln(n + 1.0) - gammaln(x + 1) - gammaln(n - x + 1))
            + gammaln(N_ - n + 1)
            - gammaln(np.where(ok, a, 0) + 1)
            - gammaln(np.where(ok, b, 0) + 1)
        )
    pmf = np.exp(np.where(ok, logp, -np.inf))
    keep = x >= k[:, None] if upper else x <= k[:, None]
    return np.where(keep, pmf, 0.0).sum(axis=1)


def _search(k, n: int, N, alpha, upper: bool) -> np.ndarray:
    """Integer bisection: min K with P(X >= k | K) > α/2, or max K with P(X <= k | K) > α/2."""
    if upper:  # max K with P(X <= k | K) > a; decreasing in K; true at K = k
        lo, hi = k.astype("float64"), N.astype("float64")  # lo: true
        while True:
            open_ = hi > lo
            if not open_.any():
                return lo
            mid = np.ceil((lo + hi) / 2)
            ok = _tail(mid, k, n, N, upper=False) > alpha / 2
            lo = np.where(open_ & ok, mid, lo)
            hi = np.where(open_ & ~ok, mid - 1, hi)
    # min K with P(X >= k | K) > a; increasing in K; true at K = N - (n - k)
    lo, hi = k.astype("float64"), (N - (n - k)).astype("float64")  # hi: true
    while True:
        open_ = hi > lo
        if not open_.any():
            return hi
        mid = np.floor((lo + hi) / 2)
        ok = _tail(mid, k, n, N, upper=True) > alpha / 2
        hi = np.where(open_ & ok, mid, hi)
        lo = np.where(open_ & ~ok, mid + 1, lo)


def exact_interval(
    k: Sequence[float] | np.ndarray,
    n: Sequence[float] | np.ndarray,
    N: Sequence[float] | np.ndarray,
    level: float = LEVEL,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact finite-population interval of the share ``K / N`` from ``k`` of ``n`` drawn.

    Inverts the hypergeometric tests over the population count K (Clopper–Pearson style,
    Buonaccorsi 1987): ``K_low = min{K : P(X ≥ k | K) > α/2}`` (0 when k = 0) and
    ``K_high = max{K : P(X ≤ k | K) > α/2}`` (N when k = n); the interval is
    ``[K_low / N, K_high / N]``, the point ``k / N`` when ``n = N``. Vectorised; identical
    ``(k, n, N)`` are computed once. NaN where ``n`` is 0 or the inputs are not counts.
    """
    k, n, N = (np.asarray(a, dtype="float64").ravel() for a in (k, n, N))
    shape = np.broadcast_shapes(k.shape, n.shape, N.shape)
    k, n, N = (np.broadcast_to(a, shape) for a in (k, n, N))
    low = np.full(shape, np.nan)
    high = np.full(shape, np.nan)
    valid = (n > 0) & (k >= 0) & (k <= n) & (n <= N) & np.isfinite(k + n + N)
    if not valid.any():
        return low, high
    triples, inverse = np.unique(
        np.column_stack([k[valid], n[valid], N[valid]]), axis=0, return_inverse=True
    )
    tk, tn, tN = triples[:, 0], triples[:, 1], triples[:, 2]
    alpha = 1 - level
    lo_K = np.zeros(len(tk))
    hi_K = tN.copy()
    # one batch per sample size n (the pmf's width), in chunks that keep the matrices small
    for size in np.unique(tn):
        rows = np.flatnonzero(tn == size)
        step = max(1, int(1_000_000 // (size + 1)))
        for s in range(0, len(rows), step):
            sel = rows[s : s + step]
            kk, NN = tk[sel], tN[sel]
            need_lo, need_hi = kk > 0, kk < size
            if need_lo.any():
                lo_K[sel[need_lo]] = _search(kk[need_lo], int(size), NN[need_lo], alpha, False)
            if need_hi.any():
                hi_K[sel[need_hi]] = _search(kk[need_hi], int(size), NN[need_hi], alpha, True)
    census = tn >= tN
    lo_K = np.where(census, tk, lo_K)
    hi_K = np.where(census, tk, hi_K)
    inverse = np.asarray(inverse).ravel()
    low[valid] = (lo_K / tN)[inverse]
    high[valid] = (hi_K / tN)[inverse]
    return low, high


def domain_size(n_domain: np.ndarray, n_h: np.ndarray, N_h: np.ndarray) -> np.ndarray:
    """Population size of a stratum's domain for its exact interval: ``N_h`` when the domain is
    the whole stratum (or a census: the domain respondents themselves), else the estimate
    ``round(N_h · n_domain / n_h)``, at least ``n_domain``."""
    n_domain, n_h, N_h = (np.asarray(a, dtype="float64") for a in (n_domain, n_h, N_h))
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.maximum(np.round(N_h * n_domain / n_h), n_domain)
    out = np.where(n_domain >= n_h, N_h, est)
    return np.where(n_h >= N_h, n_domain, out)


# -- publication rule -------------------------------------------------------------------------
def reliable(
    cv: np.ndarray,
    weak_share: np.ndarray,
    census: np.ndarray,
    suppressed: np.ndarray,
    has_estimate: np.ndarray,
) -> np.ndarray:
    """The publication rule (docs/method.md). A population estimate is reliable when it exists,
    its base is not suppressed, and either it is a census (no sampling error), or its
    coefficient of variation is at most :data:`CV_MAX` (1/3, the threshold beyond which
    official statistics withhold an estimate) and strata with fewer than
    :data:`MIN_STRATUM_RESPONDENTS` respondents or with no variation carry less than
    :data:`WEAK_SHARE_MAX` (25 %) of its weight.
    """
    cv, weak_share = np.asarray(cv, dtype="float64"), np.asarray(weak_share, dtype="float64")
    census = np.asarray(census, dtype=bool)
    ok = census | ((cv <= CV_MAX) & (weak_share < WEAK_SHARE_MAX))
    return ok & np.asarray(has_estimate, dtype=bool) & ~np.asarray(suppressed, dtype=bool)


# -- comparison of two independent estimates --------------------------------------------------
def difference(
    estimate1: np.ndarray,
    variance1: np.ndarray,
    estimate2: np.ndarray,
    variance2: np.ndarray,
    level: float = LEVEL,
) -> dict[str, np.ndarray]:
    """Difference of two independent design-based estimates (e.g. two editions, same population).

    ``diff = e1 − e2``, ``se = √(V1 + V2)``, the normal interval ``diff ± z · se``, ``z = diff /
    se`` and its two-sided p-value. Where both variances are 0 (two censuses) the difference is
    exact: interval a point, p-value 0 unless the estimates are equal (then 1).
    """
    from scipy.special import ndtr

    e1, v1, e2, v2 = (
        np.asarray(a, dtype="float64") for a in (estimate1, variance1, estimate2, variance2)
    )
    diff = e1 - e2
    se = np.sqrt(v1 + v2)
    q = float(_t(np.inf, level))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / se, np.where(diff == 0, 0.0, np.sign(diff) * np.inf))
    p_value = np.where(np.isnan(z), np.nan, 2.0 * ndtr(-np.abs(z)))
    return {
        "diff": diff,
        "se": se,
        "ci_low": diff - q * se,
        "ci_high": diff + q * se,
        "z": z,
        "p_value": p_value,
    }


# -- the columns of the estimates table -------------------------------------------------------
#: ``ci_method`` values.
LOGIT, BETA, EXACT, CENSUS, T_MEAN = "logit", "beta", "exact-hypergeometric", "census", "t"


def population_columns(
    design: Design,
    X: np.ndarray,
    domain: np.ndarray,
    groups: Mapping[str, Sequence[str]] | np.ndarray,
    *,
    proportion: bool = True,
    interval: str = LOGIT,
    S: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Population estimates of the k columns of ``X`` for every group, as (k, g) arrays.

    ``groups``: name → member strata, or the (H, g) matrix of :meth:`Design.group_matrix`.
    Groups without a frame stratum (``autre``) get no estimate (NaN, ``ci_method`` empty). A
    group that is one frame stratum gets, for a proportion, the exact finite-population interval
    (left to :func:`fill_exact`, which computes every row's at once: ``exact_k``, ``exact_n``,
    ``exact_N`` are the count, the respondents of the domain and the domain's population size) or
    ``census``; a group of several strata gets the ``logit`` (or ``beta``) interval, or
    ``census`` when every stratum holding respondents of the domain is a census. Means get
    ``m ± t·se`` (``t``), ``census`` when exact.
    """
    if interval not in (LOGIT, BETA):
        raise DesignError(f"interval {interval!r}; expected {LOGIT!r} or {BETA!r}")
    S = design.indicator() if S is None else S
    X = np.asarray(X, dtype="float64")
    if X.ndim == 1:
        X = X[:, None]
    G = groups if isinstance(groups, np.ndarray) else design.group_matrix(groups)
    e = ratio_estimates(design, X, domain, G, proportion=proportion, S=S)
    k, g = e.estimate.shape
    members = G.sum(axis=0)
    single = members == 1  # one frame stratum: exact interval
    has = np.isfinite(e.estimate) & (members > 0)[None, :]
    method = np.full((k, g), "", dtype=object)
    lo = np.full((k, g), np.nan)
    hi = np.full((k, g), np.nan)
    exact_k = np.full((k, g), np.nan)
    exact_n = np.full((k, g), np.nan)
    exact_N = np.full((k, g), np.nan)
    if proportion:
        if interval == LOGIT:
            a, b = e.logit_interval()
        else:
            a, b = e.beta_interval()
        composite = has & ~single[None, :]
        lo[composite], hi[composite] = a[composite], b[composite]
        method[composite & np.isfinite(a)] = interval
        if single.any():
            d = np.asarray(domain, dtype=bool) & (design.index >= 0)
            counts = S.T @ (np.where(d[:, None], X, 0.0))  # (H, k)
            asked = S.T @ d.astype("float64")  # (H,)
            js = np.flatnonzero(single)
            hs = G[:, js].argmax(axis=0)  # the stratum of each single-stratum group
            ok = asked[hs] > 0
            js, hs = js[ok], hs[ok]
            exact_k[:, js] = counts[hs].T
            exact_n[:, js] = asked[hs]
            exact_N[:, js] = domain_size(asked[hs], design.sampled[hs], design.population[hs])
            method[:, js] = EXACT
        method[has & e.census] = CENSUS
        point = has & e.census
        lo[point], hi[point] = e.estimate[point], e.estimate[point]
    else:
        a, b = e.mean_interval()
        lo[has], hi[has] = a[has], b[has]
        method[has & np.isfinite(a)] = T_MEAN
        method[has & e.census] = CENSUS
    return {
        "estimate": np.where(has, e.estimate, np.nan),
        "variance": np.where(has, e.variance, np.nan),
        "ci_low": lo,
        "ci_high": hi,
        "ci_method": method,
        "deff": np.where(has, e.deff, np.nan),
        "n_eff": np.where(has, e.n_eff, np.nan),
        "cv": np.where(has, e.cv, np.nan),
        "weak_share": np.where(has, e.weak_share, np.nan),
        "census": has & e.census,
        "has_estimate": has,
        "exact_k": exact_k,
        "exact_n": exact_n,
        "exact_N": exact_N,
    }


def fill_exact(
    ci_low: np.ndarray,
    ci_high: np.ndarray,
    ci_method: np.ndarray,
    exact_k: np.ndarray,
    exact_n: np.ndarray,
    exact_N: np.ndarray,
) -> None:
    """Write the exact intervals of the rows whose ``ci_method`` is exact (in place, one pass)."""
    rows = (np.asarray(ci_method, dtype=object) == EXACT) & np.isfinite(exact_k)
    if rows.any():
        lo, hi = exact_interval(exact_k[rows], exact_n[rows], exact_N[rows])
        ci_low[rows], ci_high[rows] = lo, hi
