"""House-style charts of the report (matplotlib), from the tidy estimates frame.

Every function takes the estimates frame of ``analysis.stats.estimates`` (one row per question_id ×
item × option × stratum, columns ``edition, chapter, question_id, question, item, option,
stratum, base_n, count, pct, weighted_pct, ci_low, ci_high, suppressed``; percentages in 0–100)
or the comparison frame of ``analysis.stats.compare``, and returns a matplotlib Figure:

- ``bar_options``: single or multiple choice, horizontal bars;
- ``stacked_matrix``: a matrix question, one bar per row stacked to 100 %;
- ``ranking``: share ranking each item 1st and 1st-or-2nd;
- ``by_stratum``: one option's share across the groups, with each group's base;
- ``comparison``: previous vs current edition (dumbbell), significant differences starred.

House style: figure width 6.3 in (A4 text width), every text 9 pt in DejaVu Sans (matplotlib's
bundled font, so the output is the same on every machine), horizontal bars with labels wrapped
at ``WRAP`` characters, x axis 0–100 %, value labels through ``analysis.report.french``, no grid, no
frame. Colours: dark blue, cyan, amber, then greys — an order readable by colour-blind readers
(blue/amber is the safe diverging axis; cyan differs from dark blue in lightness).

Figures are created without pyplot (``matplotlib.figure.Figure`` on the Agg canvas): nothing
is registered in pyplot's global state, so a notebook shows a chart once (through the
figure's ``_repr_mimebundle_``, the same PNG bytes ``save`` writes) and no backend is changed.
matplotlib is imported on first use, keeping ``import analysis.report.charts`` light. seaborn is not
needed: the palette and bars are plain matplotlib.

Each figure carries what ``alt_text(fig)`` and ``caption(fig)`` need: a French alt sentence
listing the values, and a caption with source, base and the kind of percentage.
"""

from __future__ import annotations

import functools
import io
import os
import re
import tempfile
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.report import french as fmt
from analysis.report.french import ReportError
from analysis.survey import strata

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# -- house style -------------------------------------------------------------------------------

BLUE = "#323465"
CYAN = "#33bbc9"
AMBER = "#e1b44d"
GREY_DARK = "#6b6b6b"
GREY = "#a6a6a6"
GREY_LIGHT = "#d9d9d9"
TEXT = "#262626"
#: Categorical order (colour-blind-safe: blue, cyan, amber, then greys).
PALETTE: tuple[str, ...] = (BLUE, CYAN, AMBER, GREY_DARK, GREY, GREY_LIGHT)

WIDTH_IN = 6.3
FONT_PT = 9
WRAP = 45
DPI = 150
#: Segments of a stacked bar narrower than this (in points of percentage) get no value label.
MIN_SEGMENT_LABEL = 11.0
SVG_HASHSALT = "barometre-data"
SOURCE = "Observatoire Data Publica"
#: Options drawn in grey, after the ordered scale (compared case-insensitively).
NEUTRAL_OPTIONS = (
    "je ne sais pas",
    "ne sait pas",
    "ne se prononce pas",
    "non concerné",
    "non concernée",
    "sans réponse",
)
MISSING_OPTION = "sans réponse"
#: Options whose ``pct`` is a statistic (mean rank, mean, median), never drawn as a share.
STATISTIC_OPTIONS = ("rang moyen", "moyenne", "médiane")
REQUIRED = ("question_id", "item", "option", "stratum", "base_n", "pct", "suppressed")
COMPARISON_REQUIRED = (
    "question_id",
    "item",
    "option",
    "group",
    "pct_previous",
    "pct_current",
    "diff_points",
    "significant",
    "base_previous",
    "base_current",
    "edition_previous",
    "edition_current",
)

# inches: one text line, padding of a row, smallest row, bar thickness
_LINE_IN = 0.155
_PAD_IN = 0.13
_MIN_ROW_IN = 0.32
_BAR_IN = 0.17
_AXIS_IN = 0.45  # x tick labels below the axes
_LEGEND_LINE_IN = 0.2

STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": FONT_PT,
    "axes.titlesize": FONT_PT,
    "axes.labelsize": FONT_PT,
    "xtick.labelsize": FONT_PT,
    "ytick.labelsize": FONT_PT,
    "legend.fontsize": FONT_PT,
    "legend.frameon": False,
    "text.color": TEXT,
    "axes.labelcolor": TEXT,
    "axes.edgecolor": GREY,
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.spines.left": False,
    "axes.grid": False,
    "axes.unicode_minus": True,
    "xtick.color": GREY_DARK,
    "xtick.labelcolor": TEXT,
    "ytick.color": TEXT,
    "ytick.major.size": 0,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "svg.hashsalt": SVG_HASHSALT,
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
}


class ChartError(ReportError):
    """The estimates or comparison frame given to a chart is not what the chart needs."""


# -- figure class and output -------------------------------------------------------------------


@functools.cache
def _mpl():
    """matplotlib modules, imported on first use."""
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = SVG_HASHSALT
    from matplotlib import patches
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    class HouseFigure(Figure):
        """A Figure that displays itself in a notebook as the PNG ``save`` writes."""

        barometre: dict[str, Any]

        def _repr_mimebundle_(self, include=None, exclude=None):
            data = {"image/png": to_bytes(self, "png")}
            alt = getattr(self, "barometre", {}).get("alt")
            if alt:
                data["text/plain"] = alt
            return data

    return matplotlib, HouseFigure, patches, Line2D


def _metadata(kind: str, fig: Figure) -> dict[str, Any]:
    if kind == "png":
        return {"Software": None}
    if kind == "svg":
        meta: dict[str, Any] = {"Creator": None, "Date": None}
        alt = getattr(fig, "barometre", {}).get("alt")
        if alt:
            meta["Title"] = alt
        return meta
    return {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None}


def to_bytes(fig: Figure, kind: str = "png", *, dpi: int = DPI) -> bytes:
    """The figure as PNG, SVG or PDF bytes, without dates or software versions (deterministic)."""
    if kind not in ("png", "svg", "pdf"):
        raise ChartError(f"to_bytes: unknown format {kind!r}; expected 'png', 'svg' or 'pdf'")
    matplotlib = _mpl()[0]
    buf = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buf, format=kind, dpi=dpi, metadata=_metadata(kind, fig))
    return buf.getvalue()


def save(fig: Figure, path: str | os.PathLike[str], *, dpi: int = DPI) -> Path:
    """Write the figure to ``path`` (``.png``, ``.svg`` or ``.pdf``) atomically; returns the path.

    The same figure always gives the same bytes: no date, no software version, a fixed SVG
    hash salt.
    """
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("png", "svg", "pdf"):
        raise ChartError(
            f"save: {path}: unknown image format {path.suffix!r}; expected .png, .svg or .pdf"
        )
    data = to_bytes(fig, kind, dpi=dpi)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# -- input checks ------------------------------------------------------------------------------


def _check_frame(df: Any, required: Sequence[str], name: str) -> None:
    if not hasattr(df, "columns") or not hasattr(df, "loc"):
        raise ChartError(f"{name}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ChartError(f"{name}: missing column(s) {missing}; expected at least {list(required)}")


def _norm(text: object) -> str:
    return " ".join(str(text).split()).casefold()


_ASCII_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def _squash(text: object) -> str:
    """Runs of ordinary white space folded to one space; no-break spaces are kept."""
    return _ASCII_SPACES.sub(" ", str(text)).strip(" ")


def _item(value: object) -> str:
    return "" if fmt.is_missing(value) else str(value)


def _question_rows(est: pd.DataFrame, question_id: str, name: str = "estimates frame"):
    _check_frame(est, REQUIRED, name)
    rows = est.loc[est["question_id"] == question_id]
    if rows.empty:
        known = sorted(map(str, est["question_id"].dropna().unique()))
        raise ChartError(
            f"{name}: no row for question_id {question_id!r} "
            f"(column 'question_id' holds {len(known)} ids, e.g. {known[:8]})"
        )
    rows = rows.copy()
    rows["item"] = rows["item"].map(_item)
    rows["option"] = rows["option"].astype(str)
    dup = rows.duplicated(["item", "option", "stratum"], keep=False)
    if dup.any():
        first = rows.loc[dup].iloc[0]
        raise ChartError(
            f"{name}: question_id {question_id!r} has duplicated rows for item "
            f"{first['item']!r}, option {first['option']!r}, stratum {first['stratum']!r} "
            f"(rows {list(rows.index[dup][:6])}); expected one row per item × option × stratum"
        )
    return rows


def _group_rows(rows: pd.DataFrame, group: str, question_id: str, name: str = "estimates frame"):
    if group not in fmt.SHORT_LABELS:
        raise ChartError(f"{name}: unknown group {group!r}; expected one of {list(strata.GROUPS)}")
    sub = rows.loc[rows["stratum"] == group]
    if sub.empty:
        have = [g for g in strata.GROUPS if g in set(rows["stratum"])]
        raise ChartError(
            f"{name}: question_id {question_id!r} has no row for stratum {group!r} "
            f"(column 'stratum' holds {have})"
        )
    return sub


def _values(sub: pd.DataFrame, weighted: bool, question_id: str, group: str):
    """The percentage column to plot."""
    if not weighted:
        return sub["pct"]
    if group != "ensemble":
        raise ChartError(
            f"estimates frame: weighted percentages exist on 'ensemble' rows only, "
            f"got group {group!r} for question_id {question_id!r}"
        )
    if "weighted_pct" not in sub.columns or sub["weighted_pct"].isna().all():
        raise ChartError(
            f"estimates frame: column 'weighted_pct' is empty for question_id {question_id!r}, "
            "stratum 'ensemble'; expected weighted percentages (or use weighted=False)"
        )
    return sub["weighted_pct"]


def _ordered_options(rows: pd.DataFrame) -> list[str]:
    """Options in frame order (the estimates give codebook order), neutral ones last."""
    opts = list(dict.fromkeys(rows["option"]))
    neutral = [o for o in opts if _norm(o) in NEUTRAL_OPTIONS]
    missing = [o for o in neutral if _norm(o) == MISSING_OPTION]
    others = [o for o in neutral if o not in missing]
    return [o for o in opts if o not in neutral] + others + missing


def _is_neutral(option: str) -> bool:
    return _norm(option) in NEUTRAL_OPTIONS


def _bases_text(bases: Iterable[object]) -> str:
    values = sorted({int(b) for b in bases if not fmt.is_missing(b)})
    if not values:
        return "non renseignée"
    if len(values) == 1:
        return fmt.plural(values[0], "répondant")
    return f"de {fmt.num(values[0])} à {fmt.plural(values[-1], 'répondant')}"


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _question_text(rows: pd.DataFrame) -> str:
    if "question" in rows.columns:
        texts = [t for t in rows["question"] if not fmt.is_missing(t) and str(t).strip()]
        if texts:
            return _squash(texts[0])
    return ""


def _edition(rows: pd.DataFrame) -> str:
    if "edition" in rows.columns:
        eds = sorted({str(e) for e in rows["edition"] if not fmt.is_missing(e)})
        if eds:
            return fmt.join_fr(eds)
    return ""


# -- layout helpers ----------------------------------------------------------------------------


def wrap(label: str, width: int = WRAP) -> str:
    """A label wrapped at ``width`` characters (no-break spaces keep numbers together)."""
    text = fmt.cap(fmt.typo(_squash(label)))
    return textwrap.fill(text, width=width, break_long_words=False)


def _rows_layout(labels: Sequence[str], min_row: float = _MIN_ROW_IN) -> tuple[list[float], float]:
    """Centre of each row (inches from the top) and the total height, rows sized by their lines."""
    centres, y = [], 0.0
    for label in labels:
        h = max(min_row, (label.count("\n") + 1) * _LINE_IN + _PAD_IN)
        centres.append(y + h / 2)
        y += h
    return centres, y


def _new_axes(height: float, legend_lines: int = 0) -> tuple[Figure, Axes]:
    matplotlib, house_figure, _, _ = _mpl()
    with matplotlib.rc_context(STYLE):
        fig = house_figure(
            figsize=(WIDTH_IN, height + _AXIS_IN + legend_lines * _LEGEND_LINE_IN + 0.1),
            layout="constrained",
        )
        ax = fig.add_subplot()
    fig.get_layout_engine().set(w_pad=0.04, h_pad=0.04)
    return fig, ax


def placeholder(message: str, question: str = "") -> Figure:
    """A figure that only says why there is no chart (too small a sample): the chapter keeps
    its figure, caption and alt text, and never draws estimates that are all suppressed."""
    import textwrap

    matplotlib, house_figure, _, _ = _mpl()
    with matplotlib.rc_context(STYLE):
        fig = house_figure(figsize=(WIDTH_IN, 0.9))
        fig.text(0.5, 0.5, textwrap.fill(message, 90), ha="center", va="center", fontsize=9)
    fig.barometre = {"alt": message, "question": question, "kind": "placeholder"}
    return fig


def _style_axes(
    ax: Axes,
    labels: Sequence[str],
    centres: Sequence[float],
    total: float,
    xmax: float = 100.0,
    xmin: float = 0.0,
) -> None:
    ax.set_yticks(list(centres), list(labels))
    ax.set_ylim(total, 0)
    ax.set_xlim(xmin, xmax)
    ticks = [0, 25, 50, 75, 100]
    ax.set_xticks(ticks, [fmt.pct(t) for t in ticks])
    ax.spines["bottom"].set_bounds(0, 100)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(GREY)
    ax.tick_params(axis="y", length=0, pad=4, labelsize=FONT_PT, labelcolor=TEXT)
    ax.tick_params(axis="x", length=3, color=GREY, labelsize=FONT_PT, labelcolor=GREY_DARK)
    ax.grid(False)


def _value_label(
    ax: Axes, x: float, y: float, text: str, *, color: str = TEXT, bold: bool = False
) -> None:
    ax.text(
        x + 1.2,
        y,
        text,
        va="center",
        ha="left",
        fontsize=FONT_PT,
        color=color,
        fontweight="bold" if bold else "normal",
    )


def _finish(fig: Figure, info: dict[str, Any]) -> Figure:
    fig.barometre = info
    return fig


def _kind_label(weighted: bool) -> str:
    return "pourcentages pondérés" if weighted else "pourcentages non pondérés"


# -- charts ------------------------------------------------------------------------------------


def _infer_kind(rows: pd.DataFrame, question_id: str) -> str:
    """'single' when, for the largest group, the counts of all options add up to the base."""
    if (rows["item"] != "").any():
        raise ChartError(
            f"estimates frame: question_id {question_id!r} has items "
            f"({sorted(set(rows['item']) - {''})[:3]}…): use stacked_matrix or ranking"
        )
    if "count" in rows.columns and rows["count"].notna().all():
        sums = rows.groupby("stratum", sort=False).agg(total=("count", "sum"), n=("base_n", "max"))
        largest = sums.sort_values("n", kind="stable").iloc[-1]
        return "single" if int(largest["total"]) == int(largest["n"]) else "multiple"
    sums = rows.groupby("stratum", sort=False)["pct"].sum()
    return "single" if ((sums - 100).abs() < 0.5).all() else "multiple"


def bar_options(
    est: pd.DataFrame,
    question_id: str,
    group: str = "ensemble",
    weighted: bool = False,
    *,
    kind: str | None = None,
) -> Figure:
    """Horizontal bars of the options of a single or multiple choice question for one group.

    Single choice: options in questionnaire order ("sans réponse" last); multiple choice:
    options sorted by share, largest first ("sans réponse" last). ``kind`` ("single" or
    "multiple") is inferred when None: single when the counts of the largest group add up to
    its base. Suppressed figures (base too small) show "n.s." and no bar.
    """
    rows = _question_rows(est, question_id)
    if kind is None:
        kind = _infer_kind(rows, question_id)
    elif kind not in ("single", "multiple"):
        raise ChartError(f"bar_options: kind {kind!r}; expected 'single', 'multiple' or None")
    sub = _group_rows(rows, group, question_id)
    sub = sub.assign(_value=_values(sub, weighted, question_id, group))
    order = _ordered_options(sub)
    sub = sub.set_index("option").loc[order].reset_index()
    if kind == "multiple":
        main = sub.loc[~sub["option"].map(_is_neutral)]
        main = main.sort_values("_value", ascending=False, kind="stable", na_position="last")
        sub = _concat([main, sub.loc[sub["option"].map(_is_neutral)]])

    labels = [wrap(o) for o in sub["option"]]
    centres, total = _rows_layout(labels)
    fig, ax = _new_axes(total)
    _style_axes(ax, labels, centres, total, xmax=112)
    parts = []
    for y, (_, r) in zip(centres, sub.iterrows(), strict=True):
        if bool(r["suppressed"]):
            _value_label(ax, 0, y, fmt.SUPPRESSED, color=GREY_DARK)
            parts.append(f"{fmt.quote(r['option'])} {fmt.SUPPRESSED}")
            continue
        value = r["_value"]
        color = GREY if _is_neutral(r["option"]) else BLUE
        if not fmt.is_missing(value):
            ax.barh(y, float(value), height=_BAR_IN, color=color, linewidth=0)
        _value_label(ax, 0 if fmt.is_missing(value) else float(value), y, fmt.pct(value))
        parts.append(f"{fmt.quote(r['option'])} {fmt.pct(value)}")
    n = sub["base_n"]
    glabel = fmt.group_label(group, short=False)
    what = (
        "part des répondants citant chaque réponse"
        if kind == "multiple"
        else "répartition des réponses"
    )
    alt = (
        f"Diagramme en barres horizontales. {_question_text(sub)} "
        f"{fmt.cap(what)} ({_lower_first(glabel)}, {fmt.base(n.max())}, {_kind_label(weighted)}) : "
        f"{fmt.join_fr(parts)}."
    )
    return _finish(
        fig,
        {
            "chart": "bar_options",
            "alt": fmt.typo(alt),
            "question": _question_text(sub),
            "edition": _edition(sub),
            "bases": _bases_text(n),
            "group": group,
            "weighted": weighted,
            "suppressed": bool(sub["suppressed"].any()),
            "values": _values_map(sub["option"], sub["_value"]),
        },
    )


def _values_map(options: Iterable[object], values: Iterable[object], item: str = "") -> dict:
    """The plotted values by ``"item|option"`` (read back by the tests and the prose checks)."""
    return {
        f"{item}|{o}": float(v)
        for o, v in zip(options, values, strict=True)
        if not fmt.is_missing(v)
    }


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


def scale_colors(n: int) -> list[str]:
    """``n`` ordered colours from dark blue to amber (a colour-blind-safe diverging scale)."""
    if n <= 0:
        return []
    fixed = {1: [BLUE], 2: [BLUE, AMBER], 3: [BLUE, CYAN, AMBER], 4: [BLUE, CYAN, "#f0d9a6", AMBER]}
    if n in fixed:
        return fixed[n]
    from matplotlib.colors import LinearSegmentedColormap, to_hex

    cmap = LinearSegmentedColormap.from_list("house", [BLUE, CYAN, "#f0d9a6", AMBER])
    return [to_hex(cmap(i / (n - 1))) for i in range(n)]


def _text_color(hex_colour: str) -> str:
    """White or dark text, whichever reads better on the colour (WCAG relative luminance)."""
    from matplotlib.colors import to_rgb

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in to_rgb(hex_colour))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "white" if (1.05 / (lum + 0.05)) > ((lum + 0.05) / 0.05) else TEXT


def level_colors(options: Sequence[str]) -> dict[str, str]:
    """Colour of each level of a scale: ordered levels blue → amber, neutral levels grey."""
    ordered = [o for o in options if not _is_neutral(o)]
    colours = dict(zip(ordered, scale_colors(len(ordered)), strict=True))
    greys = iter((GREY, GREY_LIGHT, GREY_DARK))
    for o in options:
        if _is_neutral(o):
            colours[o] = GREY_LIGHT if _norm(o) == MISSING_OPTION else next(greys)
    return colours


def _legend(fig: Figure, handles: list, labels: list[str], ncols: int) -> None:
    fig.legend(
        handles,
        labels,
        loc="outside upper center",
        ncols=ncols,
        frameon=False,
        fontsize=FONT_PT,
        handlelength=1.2,
        handleheight=0.9,
        columnspacing=1.4,
        borderaxespad=0.2,
    )


def _legend_shape(labels: Sequence[str]) -> tuple[list[str], int, int]:
    """Wrapped legend labels, number of columns and number of text lines of the legend."""
    longest = max((len(x) for x in labels), default=0)
    total = sum(len(x) for x in labels) + 6 * len(labels)
    if total <= 95:
        ncols, width = len(labels), 95
    elif longest <= 28 and len(labels) <= 3:
        ncols, width = len(labels), 28
    else:
        ncols, width = 2, 40
    wrapped = [wrap(x, width) for x in labels]
    rows = -(-len(labels) // ncols)
    lines = 0
    for r in range(rows):
        chunk = wrapped[r::rows] if ncols > 1 else wrapped[r : r + 1]
        lines += max(x.count("\n") + 1 for x in chunk) if chunk else 1
    # matplotlib fills legend columns top to bottom
    return wrapped, ncols, max(lines, rows)


def stacked_matrix(
    est: pd.DataFrame,
    question_id: str,
    group: str = "ensemble",
    weighted: bool = False,
    *,
    sort: bool = True,
) -> Figure:
    """A matrix question: one bar per row (item) stacked to 100 % by scale level.

    Levels keep their order (the first, most positive, on the left) in a diverging scale from
    dark blue to amber; "Je ne sais pas" and "sans réponse" are grey, on the right. With
    ``sort`` the rows are sorted by the share of the first level, largest first. Segments of
    at least ``MIN_SEGMENT_LABEL`` points carry their value.
    """
    rows = _question_rows(est, question_id)
    sub = _group_rows(rows, group, question_id)
    sub = sub.assign(_value=_values(sub, weighted, question_id, group))
    if (sub["item"] == "").all():
        raise ChartError(
            f"estimates frame: question_id {question_id!r} has no items (column 'item' is "
            "empty); stacked_matrix needs a matrix question — use bar_options"
        )
    options = _ordered_options(sub)
    items = list(dict.fromkeys(sub["item"]))
    table = sub.pivot(index="item", columns="option", values="_value").reindex(
        index=items, columns=options
    )
    supp = sub.groupby("item", sort=False)["suppressed"].any().reindex(items)
    first = next((o for o in options if not _is_neutral(o)), options[0])
    if sort:
        key = table[first].where(~supp.astype(bool))
        items = list(key.sort_values(ascending=False, kind="stable", na_position="last").index)
        table = table.loc[items]
    colours = level_colors(options)

    labels = [wrap(i) for i in items]
    centres, total = _rows_layout(labels)
    leg_labels, ncols, leg_lines = _legend_shape(options)
    fig, ax = _new_axes(total, leg_lines)
    _style_axes(ax, labels, centres, total, xmax=100)
    _, _, patches, _ = _mpl()
    parts = []
    for y, item in zip(centres, items, strict=True):
        if bool(supp[item]):
            _value_label(ax, 0, y, fmt.SUPPRESSED, color=GREY_DARK)
            parts.append(f"{item} {fmt.SUPPRESSED}")
            continue
        left = 0.0
        for o in options:
            v = table.at[item, o]
            if fmt.is_missing(v) or v <= 0:
                continue
            ax.barh(
                y,
                float(v),
                left=left,
                height=_BAR_IN * 1.25,
                color=colours[o],
                linewidth=0.6,
                edgecolor="white",
            )
            if v >= MIN_SEGMENT_LABEL:
                ax.text(
                    left + v / 2,
                    y,
                    fmt.pct(v),
                    ha="center",
                    va="center",
                    fontsize=FONT_PT,
                    color=_text_color(colours[o]),
                )
            left += float(v)
        parts.append(f"{item} {fmt.pct(table.at[item, first])}")
    handles = [patches.Patch(facecolor=colours[o], edgecolor="none") for o in options]
    _legend(fig, handles, leg_labels, ncols)
    n = sub["base_n"]
    glabel = fmt.group_label(group, short=False)
    alt = (
        f"Diagramme en barres empilées à 100 %. {_question_text(sub)} "
        f"Réponses possibles : {fmt.join_fr(fmt.quote(o) for o in options)}. "
        f"Part de la réponse {fmt.quote(first)} pour chaque ligne ({_lower_first(glabel)}, "
        f"{fmt.base(n.max())}, {_kind_label(weighted)}) : {fmt.join_fr(parts)}."
    )
    return _finish(
        fig,
        {
            "chart": "stacked_matrix",
            "alt": fmt.typo(alt),
            "question": _question_text(sub),
            "edition": _edition(sub),
            "bases": _bases_text(n),
            "group": group,
            "weighted": weighted,
            "suppressed": bool(supp.any()),
            "values": {
                f"{it}|{o}": float(table.at[it, o])
                for it in items
                for o in options
                if not fmt.is_missing(table.at[it, o])
            },
        },
    )


def ranking(
    est: pd.DataFrame,
    question_id: str,
    group: str = "ensemble",
    weighted: bool = False,
    *,
    first: str = "rang 1",
    second: str = "rang 1 ou 2",
) -> Figure:
    """A ranking question: for each item, the share ranking it 1st and 1st-or-2nd.

    Two bars per item (dark blue: 1st; cyan: 1st or 2nd), items sorted by the 1st-rank share.
    """
    rows = _question_rows(est, question_id)
    sub = _group_rows(rows, group, question_id)
    sub = sub.assign(
        _value=_values(sub, weighted, question_id, group), _opt=sub["option"].map(_norm)
    )
    wanted = {_norm(first): "first", _norm(second): "second"}
    sub = sub.loc[sub["_opt"].isin(wanted) & (sub["item"] != "")]
    found = set(sub["_opt"])
    if found != set(wanted):
        raise ChartError(
            f"estimates frame: question_id {question_id!r}, stratum {group!r} lacks option(s) "
            f"{sorted(set(wanted) - found)} in column 'option'; expected ranking rows "
            f"{first!r} and {second!r} per item"
        )
    sub = sub.assign(_which=sub["_opt"].map(wanted))
    table = sub.pivot(index="item", columns="_which", values="_value")
    supp = sub.groupby("item", sort=False)["suppressed"].any()
    items = list(dict.fromkeys(sub["item"]))
    table = table.reindex(items)
    order = table.sort_values(
        ["first", "second"], ascending=False, kind="stable", na_position="last"
    )
    items = list(order.index)

    labels = [wrap(i) for i in items]
    centres, total = _rows_layout(labels, min_row=0.46)
    fig, ax = _new_axes(total, 1)
    _style_axes(ax, labels, centres, total, xmax=112)
    _, _, patches, _ = _mpl()
    bar = 0.15
    parts = []
    for y, item in zip(centres, items, strict=True):
        if bool(supp[item]):
            _value_label(ax, 0, y, fmt.SUPPRESSED, color=GREY_DARK)
            parts.append(f"{item} {fmt.SUPPRESSED}")
            continue
        for offset, which, colour in (
            (-bar / 2 - 0.01, "first", BLUE),
            (bar / 2 + 0.01, "second", CYAN),
        ):
            v = table.at[item, which]
            if not fmt.is_missing(v):
                ax.barh(y + offset, float(v), height=bar, color=colour, linewidth=0)
            _value_label(ax, 0 if fmt.is_missing(v) else float(v), y + offset, fmt.pct(v))
        parts.append(
            f"{item} {fmt.pct(table.at[item, 'first'])} ({fmt.pct(table.at[item, 'second'])})"
        )
    labels_leg = ["Classé en 1re position", "Classé en 1re ou 2e position"]
    handles = [patches.Patch(facecolor=BLUE), patches.Patch(facecolor=CYAN)]
    _legend(fig, handles, labels_leg, 2)
    n = sub["base_n"]
    glabel = fmt.group_label(group, short=False)
    alt = (
        f"Diagramme en barres horizontales. {_question_text(sub)} "
        f"Part des répondants classant chaque élément en 1re position, et entre parenthèses en "
        f"1re ou 2e position ({_lower_first(glabel)}, {fmt.base(n.max())}, "
        f"{_kind_label(weighted)}) : {fmt.join_fr(parts)}."
    )
    return _finish(
        fig,
        {
            "chart": "ranking",
            "alt": fmt.typo(alt),
            "question": _question_text(sub),
            "edition": _edition(sub),
            "bases": _bases_text(n),
            "group": group,
            "weighted": weighted,
            "suppressed": bool(supp.any()),
            "values": {
                f"{it}|{name}": float(table.at[it, which])
                for it in items
                for which, name in (("first", first), ("second", second))
                if not fmt.is_missing(table.at[it, which])
            },
        },
    )


_AGGREGATES = ("ensemble", "hors_communes_lt_3500", "commune")


def by_stratum(
    est: pd.DataFrame,
    question_id: str,
    option: str,
    item: str | None = None,
    *,
    groups: Sequence[str] | None = None,
    weighted_total: bool = False,
) -> Figure:
    """One option's share across groups (bars), each labelled with its base n.

    ``groups`` defaults to every group of ``analysis.survey.strata.GROUPS`` present, in that order; a
    thin line separates the overall groups from the strata. Suppressed figures show "n.s.".
    ``weighted_total`` adds a cyan "Ensemble, pondéré" bar with its 95 % confidence interval.
    """
    rows = _question_rows(est, question_id)
    if _norm(option) in STATISTIC_OPTIONS:
        raise ChartError(
            f"by_stratum: option {option!r} of question_id {question_id!r} is a statistic, not a "
            f"percentage; expected an answer option (statistics: {list(STATISTIC_OPTIONS)})"
        )
    item_key = "" if item is None else str(item)
    sel = rows.loc[(rows["option"].map(_norm) == _norm(option)) & (rows["item"] == item_key)]
    if sel.empty:
        opts = sorted(set(rows.loc[rows["item"] == item_key, "option"]))
        items = sorted(set(rows["item"]) - {""})
        raise ChartError(
            f"estimates frame: question_id {question_id!r} has no row with option {option!r} "
            f"and item {item_key!r} (options: {opts[:10]}; items: {items[:6]})"
        )
    present = set(sel["stratum"])
    if groups is None:
        groups = [g for g in strata.GROUPS if g in present]
    else:
        for g in groups:
            _group_rows(sel, g, question_id)
    sel = sel.set_index("stratum")

    entries: list[dict[str, Any]] = []
    for g in groups:
        r = sel.loc[g]
        entries.append(
            {
                "group": g,
                "label": fmt.group_label(g),
                "value": r["pct"],
                "n": r["base_n"],
                "suppressed": bool(r["suppressed"]),
                "ci": None,
                "colour": BLUE,
            }
        )
        if weighted_total and g == "ensemble":
            if "weighted_pct" not in sel.columns or fmt.is_missing(r["weighted_pct"]):
                raise ChartError(
                    f"estimates frame: question_id {question_id!r}, option {option!r}: no "
                    "'weighted_pct' on the 'ensemble' row; expected one for weighted_total=True"
                )
            ci = None
            if {"ci_low", "ci_high"} <= set(sel.columns) and not (
                fmt.is_missing(r["ci_low"]) or fmt.is_missing(r["ci_high"])
            ):
                ci = (float(r["ci_low"]), float(r["ci_high"]))
            entries.append(
                {
                    "group": "ensemble",
                    "label": "Ensemble, pondéré",
                    "value": r["weighted_pct"],
                    "n": r["base_n"],
                    "suppressed": bool(r["suppressed"]),
                    "ci": ci,
                    "colour": CYAN,
                }
            )

    labels = [wrap(f"{e['label']} ({fmt.base(e['n'])})") for e in entries]
    centres, total = _rows_layout(labels)
    fig, ax = _new_axes(total)
    _style_axes(ax, labels, centres, total, xmax=112)
    parts = []
    for y, e in zip(centres, entries, strict=True):
        if e["suppressed"]:
            _value_label(ax, 0, y, fmt.SUPPRESSED, color=GREY_DARK)
            parts.append(f"{e['label']} {fmt.SUPPRESSED} ({fmt.base(e['n'])})")
            continue
        v = e["value"]
        end = 0.0 if fmt.is_missing(v) else float(v)
        if not fmt.is_missing(v):
            ax.barh(y, end, height=_BAR_IN, color=e["colour"], linewidth=0)
        if e["ci"] is not None:
            lo, hi = e["ci"]
            ax.plot([lo, hi], [y, y], color=GREY_DARK, linewidth=1.0, solid_capstyle="butt")
            ax.plot([lo, lo], [y - 0.05, y + 0.05], color=GREY_DARK, linewidth=1.0)
            ax.plot([hi, hi], [y - 0.05, y + 0.05], color=GREY_DARK, linewidth=1.0)
            end = max(end, hi)
        _value_label(ax, end, y, fmt.pct(v))
        text = f"{e['label']} {fmt.pct(v)} ({fmt.base(e['n'])}"
        if e["ci"] is not None:
            text += f", intervalle de confiance à 95 % {fmt.ci(*e['ci'])}"
        parts.append(text + ")")
    # separate the overall groups from the strata
    kinds = [e["group"] in _AGGREGATES for e in entries]
    for i in range(1, len(entries)):
        if kinds[i - 1] and not kinds[i]:
            boundary = (centres[i - 1] + centres[i]) / 2
            ax.axhline(boundary, color=GREY_LIGHT, linewidth=0.8, xmin=0, xmax=100 / 112)
    item_text = f" pour {fmt.quote(item_key)}" if item_key else ""
    alt = (
        f"Diagramme en barres horizontales. {_question_text(sel)} Part de la réponse "
        f"{fmt.quote(str(sel['option'].iloc[0]))}{item_text} selon le type de structure "
        f"(pourcentages non pondérés sauf mention) : {fmt.join_fr(parts)}."
    )
    return _finish(
        fig,
        {
            "chart": "by_stratum",
            "alt": fmt.typo(alt),
            "question": _question_text(sel),
            "edition": _edition(sel),
            "bases": "répondants de chaque groupe (n indiqué pour chacun)",
            "group": None,
            "weighted": False,
            "weighted_total": weighted_total,
            "suppressed": any(e["suppressed"] for e in entries),
        },
    )


#: Types of structure with fewer respondents are drawn pale and hatched (a fragile figure).
FEW_RESPONDENTS = 10


def by_type(
    est: pd.DataFrame,
    question_id: str,
    option: str,
    item: str | None = None,
    *,
    types: Sequence[str],
    frame_counts: dict[str, int] | None = None,
    few: int = FEW_RESPONDENTS,
) -> Figure:
    """One answer's share of respondents, overall and by type of structure.

    Rows: "Ensemble des répondants (191)", then each type labelled with its respondents and
    its national count ("Métropoles (18 sur 21)"). A bar is the share of the type's
    respondents giving the answer; its line, the 95 % interval of the share in the type's whole
    population (the design-based estimates' ``ci_low``/``ci_high``, when their ``ci_method``
    is set). Types with fewer than ``few`` respondents are pale and hatched. The answer plotted
    is named in the alt text and the caption.
    """
    rows = _question_rows(est, question_id)
    item_key = "" if item is None else str(item)
    sel = rows.loc[(rows["option"].map(_norm) == _norm(option)) & (rows["item"] == item_key)]
    if sel.empty:
        opts = sorted(set(rows.loc[rows["item"] == item_key, "option"]))
        raise ChartError(
            f"estimates frame: question_id {question_id!r} has no row with option {option!r} "
            f"and item {item_key!r} (options: {opts[:10]})"
        )
    sel = sel.set_index("stratum")
    frame_counts = frame_counts or {}
    entries: list[dict[str, Any]] = []
    for g in ["ensemble", *types]:
        if g not in sel.index:
            continue
        r = sel.loc[g]
        n = int(r["base_n"])
        if g != "ensemble" and n == 0:
            continue
        ci = None
        if g != "ensemble" and "ci_method" in sel.columns:
            method = r["ci_method"]
            if (
                isinstance(method, str)
                and method
                and not (fmt.is_missing(r["ci_low"]) or fmt.is_missing(r["ci_high"]))
            ):
                ci = (float(r["ci_low"]), float(r["ci_high"]))
        if g == "ensemble":
            label = f"Ensemble des répondants ({fmt.num(n)})"
        elif frame_counts.get(g):
            label = f"{fmt.group_label(g)} ({fmt.num(n)} sur {fmt.num(frame_counts[g])})"
        else:
            label = f"{fmt.group_label(g)} ({fmt.num(n)})"
        entries.append(
            {
                "group": g,
                "label": label,
                "value": float(r["pct"]),
                "count": int(r["count"]),
                "n": n,
                "few": g != "ensemble" and n < few,
                "suppressed": bool(r["suppressed"]),
                "ci": ci,
            }
        )
    labels = [wrap(e["label"]) for e in entries]
    centres, total = _rows_layout(labels)
    fig, ax = _new_axes(total)
    _style_axes(ax, labels, centres, total, xmax=112)
    parts = []
    values: dict[str, float] = {}
    for y, e in zip(centres, entries, strict=True):
        if e["suppressed"]:
            _value_label(ax, 0, y, fmt.SUPPRESSED, color=GREY_DARK)
            parts.append(f"{e['label']} {fmt.SUPPRESSED}")
            continue
        v = e["value"]
        values[e["group"]] = v
        colour = BLUE if e["group"] == "ensemble" else CYAN
        if e["few"]:
            ax.barh(
                y, v, height=_BAR_IN, color="#e6f6f8", edgecolor=CYAN, hatch="////", linewidth=0.6
            )
        else:
            ax.barh(y, v, height=_BAR_IN, color=colour, linewidth=0)
        end = v
        if e["ci"] is not None:
            lo, hi = e["ci"]
            ax.plot([lo, hi], [y, y], color=GREY_DARK, linewidth=1.0, solid_capstyle="butt")
            ax.plot([lo, lo], [y - 0.05, y + 0.05], color=GREY_DARK, linewidth=1.0)
            ax.plot([hi, hi], [y - 0.05, y + 0.05], color=GREY_DARK, linewidth=1.0)
            end = max(end, hi)
        _value_label(
            ax,
            end,
            y,
            fmt.pct(v),
            color=GREY_DARK if e["few"] else TEXT,
            bold=e["group"] == "ensemble",
        )
        text = f"{e['label']} : {fmt.pct(v)}"
        if e["ci"] is not None:
            text += f" (population : {fmt.ci(*e['ci'])})"
        if e["few"]:
            text += ", moins de 10 répondants"
        parts.append(text)
    if len(entries) > 1:
        boundary = (centres[0] + centres[1]) / 2
        ax.axhline(boundary, color=GREY_LIGHT, linewidth=0.8, xmin=0, xmax=100 / 112)
    answer = f"{fmt.quote(str(sel['option'].iloc[0]))}" + (
        f" pour {fmt.quote(item_key)}" if item_key else ""
    )
    alt = (
        f"Diagramme en barres horizontales. Part des répondants ayant répondu {answer}, "
        f"pour l'ensemble puis par type de structure : {'; '.join(parts)}."
    )
    return _finish(
        fig,
        {
            "chart": "by_type",
            "alt": fmt.typo(alt),
            "question": _question_text(sel.reset_index()),
            "edition": _edition(sel.reset_index()),
            "bases": _bases_text([entries[0]["n"]]) if entries else "",
            "answer": answer,
            "group": "ensemble",
            "weighted": False,
            "intervals": any(e["ci"] is not None for e in entries),
            "few": any(e["few"] for e in entries),
            "suppressed": any(e["suppressed"] for e in entries),
            "values": values,
        },
    )


#: Columns of ``analysis.stats.compare.compare_editions`` → the names used here.
COMPARE_RENAMES = {
    "stratum": "group",
    "pct": "pct_current",
    "previous_pct": "pct_previous",
    "base_n": "base_current",
    "previous_base_n": "base_previous",
    "previous_edition": "edition_previous",
}


def comparison_frame(cmp: Any, *, current_edition: int | str | None = None) -> pd.DataFrame:
    """The comparison frame with the column names of ``COMPARISON_REQUIRED``."""
    name = "comparison frame"
    if not hasattr(cmp, "columns") or not hasattr(cmp, "loc"):
        raise ChartError(f"{name}: expected a pandas DataFrame, got {type(cmp).__name__}")
    renames = {
        k: v for k, v in COMPARE_RENAMES.items() if k in cmp.columns and v not in cmp.columns
    }
    if renames:
        cmp = cmp.rename(columns=renames)
    if "edition_current" not in cmp.columns:
        if "edition" in cmp.columns:
            cmp = cmp.assign(edition_current=cmp["edition"])
        elif current_edition is not None:
            cmp = cmp.assign(edition_current=current_edition)
        elif "edition_previous" in cmp.columns:
            try:
                nxt = cmp["edition_previous"].astype("int64") + 1
            except (TypeError, ValueError) as exc:
                raise ChartError(
                    f"{name}: column 'edition_previous' is not a year ({exc}); "
                    "pass current_edition="
                ) from exc
            cmp = cmp.assign(edition_current=nxt)
    _check_frame(cmp, COMPARISON_REQUIRED, name)
    return cmp


def comparison(
    cmp: pd.DataFrame,
    question_id: str,
    group: str = "ensemble",
    *,
    option: str | None = None,
    item: str | None = None,
    include_missing: bool = False,
    current_edition: int | str | None = None,
) -> Figure:
    """Previous vs current edition as a dumbbell per row, significant differences starred.

    Rows are the (item, option) pairs of the comparison frame for the group, filtered by
    ``option`` / ``item`` when given, "sans réponse" left out unless ``include_missing``; sorted
    by the current share. Grey dot: previous edition; dark blue dot: current edition; right
    column: the difference in points, bold with ★ when ``significant``; "n.s." and no dots
    where ``suppressed``.

    ``cmp`` has the columns of ``COMPARISON_REQUIRED``, or those of
    ``analysis.stats.compare.compare_editions`` (``stratum``, ``pct``, ``previous_pct``, ``base_n``,
    ``previous_base_n``, ``previous_edition``…), renamed here. The current edition is the
    ``edition_current`` (or ``edition``) column, else ``current_edition``, else the previous
    edition + 1 (the barometer is yearly).
    """
    name = "comparison frame"
    cmp = comparison_frame(cmp, current_edition=current_edition)
    rows = cmp.loc[cmp["question_id"] == question_id]
    if rows.empty:
        known = sorted(map(str, cmp["question_id"].dropna().unique()))
        raise ChartError(f"{name}: no row for question_id {question_id!r} (e.g. {known[:8]})")
    rows = rows.assign(item=rows["item"].map(_item), option=rows["option"].astype(str))
    if group not in set(rows["group"]):
        raise ChartError(
            f"{name}: question_id {question_id!r} has no row for group {group!r} "
            f"(column 'group' holds {sorted(set(rows['group']))})"
        )
    rows = rows.loc[rows["group"] == group]
    if option is not None:
        rows = rows.loc[rows["option"].map(_norm) == _norm(option)]
    if item is not None:
        rows = rows.loc[rows["item"] == str(item)]
    if not include_missing:
        rows = rows.loc[rows["option"].map(_norm) != MISSING_OPTION]
    if rows.empty:
        raise ChartError(
            f"{name}: question_id {question_id!r}, group {group!r}: no row left with option "
            f"{option!r} and item {item!r}"
        )
    rows = rows.sort_values("pct_current", ascending=False, kind="stable", na_position="last")
    many_items = rows["item"].nunique() > 1
    many_options = rows["option"].nunique() > 1

    def label(r) -> str:
        if r["item"] and many_options:
            return f"{r['item']} — {r['option']}"
        return (
            r["item"]
            if (r["item"] and many_items) or (r["item"] and not many_options)
            else r["option"]
        )

    names = [label(r) for _, r in rows.iterrows()]
    labels = [wrap(x, WRAP - 5) for x in names]
    centres, total = _rows_layout(labels)
    prev_ed = fmt.join_fr(sorted({str(e) for e in rows["edition_previous"]}))
    cur_ed = fmt.join_fr(sorted({str(e) for e in rows["edition_current"]}))
    fig, ax = _new_axes(total + 0.15, 1)
    low = min(rows[["pct_previous", "pct_current"]].min(skipna=True).min(), 100)
    xmin = -14.0 if low < 14 else 0.0
    _style_axes(ax, labels, centres, total + 0.15, xmax=140, xmin=xmin)
    ax.set_ylim(total, -0.15)
    _, _, _, line2d = _mpl()
    ax.text(140, -0.075, "Écart", ha="right", va="center", fontsize=FONT_PT, color=GREY_DARK)
    parts = []
    any_suppressed = False
    for y, name_, (_, r) in zip(centres, names, rows.iterrows(), strict=True):
        p, c = r["pct_previous"], r["pct_current"]
        sig = bool(r["significant"]) if not fmt.is_missing(r["significant"]) else False
        if "suppressed" in r.index and not fmt.is_missing(r["suppressed"]) and r["suppressed"]:
            ax.text(
                140, y, fmt.SUPPRESSED, ha="right", va="center", fontsize=FONT_PT, color=GREY_DARK
            )
            parts.append(f"{fmt.quote(name_)} {fmt.SUPPRESSED}")
            any_suppressed = True
            continue
        if not (fmt.is_missing(p) or fmt.is_missing(c)):
            ax.plot(
                [p, c], [y, y], color=GREY_LIGHT, linewidth=2.2, solid_capstyle="round", zorder=1
            )
        if not fmt.is_missing(p):
            ax.scatter([p], [y], s=34, color=GREY, zorder=2, linewidths=0)
        if not fmt.is_missing(c):
            ax.scatter([c], [y], s=34, color=BLUE, zorder=3, linewidths=0)
        known = [float(v) for v in (p, c) if not fmt.is_missing(v)]
        lo, hi = (min(known), max(known)) if known else (0.0, 0.0)
        left_val, right_val = (
            (p, c) if (fmt.is_missing(c) or (not fmt.is_missing(p) and p <= c)) else (c, p)
        )
        ax.text(
            lo - 2.2,
            y,
            fmt.pct(left_val),
            ha="right",
            va="center",
            fontsize=FONT_PT,
            color=GREY_DARK if left_val is p else TEXT,
        )
        ax.text(
            hi + 2.2,
            y,
            fmt.pct(right_val),
            ha="left",
            va="center",
            fontsize=FONT_PT,
            color=GREY_DARK if right_val is p else TEXT,
        )
        diff = fmt.points(r["diff_points"]) + (" ★" if sig else "")
        ax.text(
            140,
            y,
            diff,
            ha="right",
            va="center",
            fontsize=FONT_PT,
            color=TEXT,
            fontweight="bold" if sig else "normal",
        )
        parts.append(
            f"{fmt.quote(name_)} {fmt.pct(p)} en {prev_ed} et {fmt.pct(c)} en {cur_ed} "
            f"({fmt.points(r['diff_points'])}{', écart significatif' if sig else ''})"
        )
    handles = [
        line2d([], [], marker="o", linestyle="", markersize=6, color=GREY),
        line2d([], [], marker="o", linestyle="", markersize=6, color=BLUE),
        line2d([], [], marker="$★$", linestyle="", markersize=8, color=TEXT),
    ]
    legend = [prev_ed, cur_ed, "écart significatif au seuil de 5 %"]
    _legend(fig, handles, [wrap(x, 60) for x in legend], 3)
    question = ""
    if "question" in rows.columns:
        question = _question_text(rows)
    glabel = fmt.group_label(group, short=False)
    alt = (
        f"Diagramme en haltères comparant {prev_ed} et {cur_ed}. {question} "
        f"({_lower_first(glabel)}, pourcentages non pondérés) : {fmt.join_fr(parts)}."
    )
    bases = (
        f"{_bases_text(rows['base_previous'])} en {prev_ed} et "
        f"{_bases_text(rows['base_current'])} en {cur_ed}"
    )
    return _finish(
        fig,
        {
            "chart": "comparison",
            "alt": fmt.typo(_squash(alt)),
            "question": question,
            "edition": f"{prev_ed} et {cur_ed}",
            "bases": bases,
            "group": group,
            "weighted": False,
            "significance": True,
            "suppressed": any_suppressed,
        },
    )


# -- alt text and caption ----------------------------------------------------------------------


def _info(fig: Figure) -> dict[str, Any]:
    info = getattr(fig, "barometre", None)
    if not isinstance(info, dict):
        raise ChartError(
            f"expected a figure made by analysis.report.charts (with its data summary), got {type(fig).__name__}"
        )
    return info


def alt_text(fig: Figure) -> str:
    """The French alternative text of a chart: its kind, the question, the values and the base."""
    return _info(fig)["alt"]


def caption(fig: Figure, title: str | None = None) -> str:
    """The figure caption: title (default: the question), source, base and kind of figures.

    e.g. "Comment … ? Source : Baromètre de la data 2023, Observatoire Data Publica ;
    base : 191 répondants ; pourcentages non pondérés."
    """
    info = _info(fig)
    title = info["question"] if title is None else title
    title = _squash(title)
    title = title.rstrip(" :;,\u00a0\u202f")
    if title and title[-1] not in ".?!…":
        title += "."
    several = " et " in str(info["edition"])
    source = (
        f"Sources : Baromètres de la data {info['edition']}"
        if several
        else f"Source : Baromètre de la data {info['edition']}".rstrip()
    )
    group = info.get("group")
    base_text = info["bases"]
    if group and group != "ensemble":
        base_text += f" ({_lower_first(fmt.group_label(group, short=False))})"
    label = "bases" if info.get("chart") == "comparison" else "base"
    parts = [f"{source}, {SOURCE}", f"{label} : {base_text}"]
    if info.get("weighted_total"):
        parts.append(
            "pourcentages non pondérés, sauf « Ensemble, pondéré » (intervalle de confiance à 95 %)"
        )
    else:
        parts.append(_kind_label(bool(info.get("weighted"))))
    if info.get("suppressed"):
        parts.append("n.s. : effectif trop faible pour publier le pourcentage")
    if info.get("significance"):
        parts.append("★ : écart significatif au seuil de 5 %")
    text = (f"{title} " if title else "") + " ; ".join(parts) + "."
    return fmt.typo(text)


def counts_bar(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    edition: int | str,
    what: str,
    value_fmt=None,
    base: int | None = None,
) -> Figure:
    """Horizontal bars of counts (e.g. respondents per stratum), each labelled with its value.

    ``value_fmt`` formats the labels (default: ``fmt.num``; e.g. ``fmt.pct`` for shares);
    ``base`` is the number stated as the base (default: the sum of the values).
    """
    value_fmt = value_fmt or fmt.num
    wrapped = [wrap(lbl) for lbl in labels]
    centres, total = _rows_layout(wrapped)
    fig, ax = _new_axes(total)
    vmax = max([*values, 1])
    ax.barh(centres, values, height=_BAR_IN, color=BLUE)
    for y, v in zip(centres, values, strict=True):
        ax.text(
            v + vmax * 0.012, y, fmt.num(v), va="center", ha="left", fontsize=FONT_PT, color=TEXT
        )
    ax.set_yticks(list(centres), wrapped)
    ax.set_ylim(total, 0)
    ax.set_xlim(0, vmax * 1.12)
    ax.set_xticks([])
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0, pad=4, labelsize=FONT_PT, labelcolor=TEXT)
    n = int(sum(values)) if base is None else int(base)
    pairs = fmt.join_fr([f"{lbl} : {value_fmt(v)}" for lbl, v in zip(labels, values, strict=True)])
    return _finish(
        fig,
        {
            "chart": "counts",
            "question": title,
            "edition": str(edition),
            "bases": f"{fmt.num(n)} {what}",
            "weighted": False,
            "alt": fmt.typo(f"Diagramme en barres horizontales, {_lower_first(title)} ({pairs})."),
        },
    )
