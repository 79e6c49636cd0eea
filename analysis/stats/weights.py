"""Survey weights: the published post-stratification, a frame post-stratification, raking.

Three methods, all on the ``stratum`` column (:data:`analysis.survey.strata.STRATA`):

``observatoire`` (default, the column ``weight``)
    Exactly the 2023 published "Total pondéré". The weight of stratum *h* is
    ``(N_h / N) / (n_h / n)`` where ``N`` is the total of **all** frame strata (36 318 in
    2023, communes < 3 500 hab. included) and ``n`` the number of **all** respondents
    (191, "autre" included). Communes < 3 500 hab. and "autre" weigh 0 even though the former
    are counted in ``N``: that is what the published tables did. The weights therefore do not
    sum to ``n`` nor to ``N``; only ratios of weighted sums (percentages) are meaningful. The
    weighted population is *collectivités and EPCI excluding communes < 3 500 hab.*

``frame`` (column ``weight_frame``)
    Post-stratification on every frame stratum, communes < 3 500 hab. included, "autre" = 0:
    ``w_h = N_h / n_h``. The weights sum to the frame total when every frame stratum has a
    respondent. The population it represents is *all collectivités and EPCI* — a different
    population from ``observatoire``: figures weighted one way or the other are not comparable.

``raking`` (column ``weight_raking``)
    Iterative proportional fitting with ``balance`` on the stratum margins (the frame) and,
    when given, region margins; optional trimming. With the stratum margin only, it equals
    ``frame``. ``balance`` is imported lazily (it takes seconds to import) and always called
    with ``transformations=None``: its default transformations lump small categories together
    and would give wrong weights for strata of a few respondents.

:func:`diagnostics` gives, per stratum and overall, the number of respondents, the weights,
their share of the weighted total, Kish's design effect and the effective sample size.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis.survey.strata import STRATA

METHODS = ("observatoire", "frame", "raking")
#: Strata the published (observatoire) weighting gives a zero weight.
OBSERVATOIRE_ZERO = ("commune_lt_3500", "autre")
#: Human-readable description of the population each method represents (French, for reports).
POPULATIONS = {
    "observatoire": "collectivités et EPCI hors communes de moins de 3 500 hab. "
    "(pondération publiée par l'Observatoire)",
    "frame": "ensemble des collectivités et EPCI, communes de moins de 3 500 hab. comprises",
    "raking": "ensemble des collectivités et EPCI, communes de moins de 3 500 hab. comprises "
    "(calage sur marges)",
}


class WeightsError(ValueError):
    """Weights cannot be computed from the given sample and frame."""


# -- inputs -----------------------------------------------------------------------------------
def frame_counts_of(frame: Mapping[str, int] | Any) -> tuple[dict[str, float], float]:
    """``(counts, total)`` of a frame given as a ``{stratum: count}`` dict or a frame object.

    A frame object has ``counts`` (a dict) and, optionally, ``total`` (else the sum of counts).
    """
    counts = getattr(frame, "counts", frame)
    if not isinstance(counts, Mapping):
        raise WeightsError(
            f"frame: expected a {{stratum: count}} mapping or an object with .counts, "
            f"got {type(frame).__name__}"
        )
    out: dict[str, float] = {}
    for key, value in counts.items():
        if key not in STRATA or key == "autre":
            raise WeightsError(
                f"frame: stratum {key!r} is not a frame stratum; expected one of "
                f"{[s for s in STRATA if s != 'autre']}"
            )
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if not np.isfinite(number) or number < 0:
            raise WeightsError(
                f"frame: count of stratum {key!r} is {value!r}; expected a number >= 0"
            )
        out[key] = number
    total = float(getattr(frame, "total", sum(out.values())))
    if total <= 0:
        raise WeightsError(f"frame: total is {total!r}; expected a positive number")
    return out, total


def _check_strata(strata: pd.Series, where: str = "strata") -> pd.Series:
    values = strata.astype("object")
    bad = ~values.isin(STRATA)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise WeightsError(
            f"{where}: row {strata.index[pos]!r} has stratum {values.iloc[pos]!r}; "
            f"expected one of {list(STRATA)}"
        )
    return values


# -- post-stratification ----------------------------------------------------------------------
def stratum_weights(
    sizes: Mapping[str, int], frame_counts: Mapping[str, int] | Any, method: str = "observatoire"
) -> dict[str, float]:
    """Weight of each stratum from sample sizes ``{stratum: n_h}`` (post-stratification).

    ``observatoire``: ``(N_h/N)/(n_h/n)``, 0 for communes < 3 500 hab., "autre" and any
    stratum without a frame count. ``frame``: ``N_h/n_h``, "autre" = 0; a stratum with
    respondents but no frame count is an error.
    """
    counts, total = frame_counts_of(frame_counts)
    n = float(sum(sizes.values()))
    out: dict[str, float] = {}
    for stratum, n_h in sizes.items():
        if n_h <= 0:
            continue
        if method == "observatoire":
            if stratum in OBSERVATOIRE_ZERO or stratum not in counts:
                out[stratum] = 0.0
            else:
                out[stratum] = (counts[stratum] / total) / (n_h / n)
        elif method == "frame":
            if stratum == "autre":
                out[stratum] = 0.0
            elif stratum not in counts:
                raise WeightsError(
                    f"frame: stratum {stratum!r} has {n_h} respondent(s) but no frame count; "
                    f"expected a count for it in the frame ({sorted(counts)})"
                )
            else:
                out[stratum] = counts[stratum] / n_h
        else:
            raise WeightsError(
                f"post-stratification method {method!r}; expected 'observatoire' or 'frame'"
            )
    return out


def post_stratify(
    strata: pd.Series, frame_counts: Mapping[str, int] | Any, method: str = "observatoire"
) -> pd.Series:
    """Post-stratification weights of respondents (one stratum per row), aligned on ``strata``.

    See the module docstring for ``method`` (``"observatoire"`` or ``"frame"``).
    """
    values = _check_strata(strata)
    sizes = values.value_counts().to_dict()
    per_stratum = stratum_weights(sizes, frame_counts, method)
    return values.map(per_stratum).astype("float64").rename(f"weight_{method}")


# -- raking -----------------------------------------------------------------------------------
@contextlib.contextmanager
def _quiet_balance() -> Iterator[None]:
    """Silence balance during an import or a call, and undo its import-time logging setup.

    Importing balance logs a banner at INFO and removes the root logger's handlers; its calls
    log delegation notices at WARNING. Both are noise in a report build.
    """
    root_handlers = logging.root.handlers[:]
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)
        for handler in root_handlers:
            if handler not in logging.root.handlers:
                logging.root.addHandler(handler)


def rake(
    df: pd.DataFrame,
    frame_counts: Mapping[str, int] | Any,
    region_margins: Mapping[str, float] | None = None,
    *,
    trim: float | None = None,
    stratum_col: str = "stratum",
    region_col: str = "region_code",
    max_iteration: int = 1000,
) -> pd.Series:
    """Raking weights (balance, ``transformations=None``) on stratum and optional region margins.

    Rows of stratum "autre" get 0. Frame strata without respondents are dropped from the
    margins (they cannot be represented); region margins are rescaled to the same total as the
    stratum margins. ``trim`` caps weights at ``trim`` × mean weight (balance's
    ``weight_trimming_mean_ratio``), the excess being redistributed; weights sum to the total of
    the represented frame strata.
    """
    strata = _check_strata(df[stratum_col], stratum_col)
    counts, _ = frame_counts_of(frame_counts)
    rows = strata.ne("autre").to_numpy()
    present = set(strata[rows])
    missing = sorted(present - set(counts))
    if missing:
        raise WeightsError(
            f"raking: stratum {missing[0]!r} has respondents but no frame count; expected a "
            f"count for it in the frame ({sorted(counts)})"
        )
    margins: dict[str, dict[str, float]] = {
        "stratum": {s: c for s, c in counts.items() if s in present and c > 0}
    }
    total = sum(margins["stratum"].values())
    if not region_margins:
        # Raking on a single margin is post-stratification: closed form, no balance import.
        sizes = strata[rows].astype(str).value_counts()
        weights = pd.Series(0.0, index=df.index, name="weight_raking")
        weights[rows] = (
            strata[rows]
            .astype(str)
            .map({s: margins["stratum"][s] / sizes[s] for s in sizes.index})
            .to_numpy(dtype="float64")
        )
        if trim is not None:
            mean = weights[rows].mean()
            weights[rows] = np.minimum(weights[rows], trim * mean)
            weights[rows] *= total / weights[rows].sum()
        return weights
    sample = pd.DataFrame({"stratum": strata[rows].astype(str).to_numpy()})
    if region_margins:
        regions = df.loc[rows, region_col] if region_col in df else pd.Series(dtype=object)
        if len(regions) != rows.sum() or regions.isna().any():
            pos = int(np.flatnonzero(regions.isna().to_numpy())[0]) if len(regions) else 0
            raise WeightsError(
                f"raking: column {region_col!r} is missing or empty at row "
                f"{df.index[rows][pos]!r}; expected a region code for every weighted respondent "
                f"when region margins are given"
            )
        regions = regions.astype(str)
        unknown = sorted(set(regions) - {str(k) for k in region_margins})
        if unknown:
            raise WeightsError(
                f"raking: region {unknown[0]!r} in column {region_col!r} has no margin; expected "
                f"one of {sorted(str(k) for k in region_margins)}"
            )
        kept = {str(k): float(v) for k, v in region_margins.items() if str(k) in set(regions)}
        scale = total / sum(kept.values())
        margins["region"] = {k: v * scale for k, v in kept.items()}
        sample["region"] = regions.to_numpy()
    # The target: one row per cell of the product of the margins, weighted so that every margin
    # is reproduced exactly (raking only looks at margins). balance's own ``target_margins``
    # realises the margins as a rounded synthetic frame and loses precision.
    cells = pd.MultiIndex.from_product([sorted(m) for m in margins.values()], names=list(margins))
    target = cells.to_frame(index=False)
    target_w = np.ones(len(target)) * total
    for var, margin in margins.items():
        target_w *= target[var].map(margin).to_numpy() / total
    with _quiet_balance():
        from balance.weighting_methods.rake import rake as balance_rake

        result = balance_rake(
            sample,
            pd.Series(np.ones(len(sample))),
            target,
            pd.Series(target_w),
            variables=list(margins),
            transformations=None,
            na_action="drop",
            max_iteration=max_iteration,
            weight_trimming_mean_ratio=trim,
        )
    fitted = np.asarray(result["weight"], dtype="float64")
    if trim is None:
        for var, margin in margins.items():
            got = pd.Series(fitted).groupby(sample[var].to_numpy()).sum()
            want = pd.Series(margin).reindex(got.index)
            gap = ((got - want).abs() / want).max()
            if gap > 1e-3:
                worst = (got - want).abs().div(want).idxmax()
                raise WeightsError(
                    f"raking: the {var} margins cannot be met by this sample ({var} {worst!r}: "
                    f"{got[worst]:.1f} instead of {want[worst]:.1f}); expected margins the "
                    f"sample can reproduce (every {var} category needs respondents of the strata "
                    f"that make up its total)"
                )
    weights = pd.Series(0.0, index=df.index, name="weight_raking")
    weights[rows] = fitted
    return weights


# -- entry point ------------------------------------------------------------------------------
def compute_weights(
    df: pd.DataFrame,
    frame_counts: Mapping[str, int] | Any,
    method: str = "observatoire",
    region_margins: Mapping[str, float] | None = None,
    trim: float | None = None,
    *,
    stratum_col: str = "stratum",
) -> pd.Series:
    """Weights of the respondents of ``df`` (aligned on its index) by ``method``.

    ``frame_counts``: ``{stratum: count}`` or a frame object (``.counts``, ``.total``).
    ``region_margins`` and ``trim`` are used by ``raking`` only (see :func:`rake`).
    """
    if method not in METHODS:
        raise WeightsError(f"weighting method {method!r}; expected one of {METHODS}")
    if stratum_col not in df:
        raise WeightsError(f"data: no column {stratum_col!r}; expected the respondents' stratum")
    if method == "raking":
        return rake(df, frame_counts, region_margins, trim=trim, stratum_col=stratum_col).rename(
            "weight"
        )
    return post_stratify(df[stratum_col], frame_counts, method).rename("weight")


# -- diagnostics ------------------------------------------------------------------------------
def effective_n(weights: pd.Series | np.ndarray) -> float:
    """Kish effective sample size ``(Σw)² / Σw²`` (NaN when every weight is 0)."""
    w = np.asarray(weights, dtype="float64")
    sq = float(np.square(w).sum())
    return float(w.sum() ** 2 / sq) if sq > 0 else float("nan")


def design_effect(weights: pd.Series | np.ndarray) -> float:
    """Kish design effect ``n Σw² / (Σw)²`` over the respondents with a positive weight.

    Zero-weight respondents are out of the weighted population (e.g. communes < 3 500 hab.
    for ``observatoire``) and are not counted in ``n``.
    """
    w = np.asarray(weights, dtype="float64")
    n_eff = effective_n(w)
    return float((w > 0).sum() / n_eff) if n_eff == n_eff else float("nan")


def diagnostics(
    df: pd.DataFrame, weight_col: str = "weight", *, stratum_col: str = "stratum"
) -> pd.DataFrame:
    """Per stratum (report order) and overall (last row, ``stratum="ensemble"``) weight summary.

    Columns: ``stratum``, ``n`` (respondents), ``n_weighted`` (with a positive weight),
    ``weight`` (mean weight), ``weight_min``, ``weight_max``, ``weighted_total`` (Σw),
    ``share`` (Σw of the stratum / Σw overall), ``deff`` (Kish, over positive weights),
    ``n_eff`` (Kish effective sample size).
    """
    for col in (weight_col, stratum_col):
        if col not in df:
            raise WeightsError(f"data: no column {col!r}; expected it for weight diagnostics")
    strata = _check_strata(df[stratum_col], stratum_col)
    w = df[weight_col].astype("float64")
    frame = pd.DataFrame({"stratum": strata.to_numpy(), "w": w.to_numpy()})
    frame["w2"] = frame["w"] ** 2
    frame["pos"] = frame["w"] > 0
    g = frame.groupby("stratum", sort=False).agg(
        n=("w", "size"),
        n_weighted=("pos", "sum"),
        weight=("w", "mean"),
        weight_min=("w", "min"),
        weight_max=("w", "max"),
        weighted_total=("w", "sum"),
        w2=("w2", "sum"),
    )
    g = g.reindex([s for s in STRATA if s in g.index])
    total_w = float(frame["w"].sum())
    overall = pd.DataFrame(
        {
            "n": [len(frame)],
            "n_weighted": [int(frame["pos"].sum())],
            "weight": [frame["w"].mean()],
            "weight_min": [frame["w"].min()],
            "weight_max": [frame["w"].max()],
            "weighted_total": [total_w],
            "w2": [frame["w2"].sum()],
        },
        index=["ensemble"],
    )
    out = pd.concat([g, overall])
    out["share"] = out["weighted_total"] / total_w if total_w > 0 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        out["n_eff"] = np.where(out["w2"] > 0, out["weighted_total"] ** 2 / out["w2"], np.nan)
        out["deff"] = out["n_weighted"] / out["n_eff"]
    out = out.drop(columns="w2").rename_axis("stratum").reset_index()
    out["n"] = out["n"].astype("int64")
    out["n_weighted"] = out["n_weighted"].astype("int64")
    return out[
        [
            "stratum",
            "n",
            "n_weighted",
            "weight",
            "weight_min",
            "weight_max",
            "weighted_total",
            "share",
            "deff",
            "n_eff",
        ]
    ]
