"""Markdown tables of the report, in French typography, and their display in a notebook.

- ``stratum_table``: one question's percentages by group, from the tidy estimates frame of
  ``analysis.stats.estimates`` (suppressed figures as "n.s.", a "Base (n)" row or column, an
  "Ensemble pondéré" column on request). The layout fits an A4 page: at most ``MAX_COLUMNS``
  columns. With the groups as columns when they fit; otherwise, when the answers are few, the
  table is transposed (groups in rows, answers in columns); otherwise it is split into several
  tables of at most ``MAX_COLUMNS`` columns, each repeating the row labels.
- ``markdown``: any DataFrame as a pipe table (numbers through ``analysis.report.french``).
- ``with_caption`` / ``show_table``: the table followed by its Quarto caption line
  ``: Caption {#tbl-label}``, displayed in a notebook as ``text/markdown`` with a
  ``text/plain`` fallback, so that both Quarto and the embedded renderer pick it up.

Pipe tables: cells are single-line, ``|`` escaped; the dashes of the separator line give the
relative column widths pandoc uses when a line is long (labels wide, numbers narrow).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from analysis.report import french as fmt
from analysis.report.french import NBSP, ReportError
from analysis.survey import strata

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Groups of a stratum table by default: the totals, then the structure types.
DEFAULT_GROUPS: tuple[str, ...] = (
    "ensemble",
    "hors_communes_lt_3500",
    "commune",
    "epci",
    "metropole",
    "departement",
    "region",
    "autre",
)
#: At most this many columns per table (row labels included): readable at A4 width.
MAX_COLUMNS = 6
WEIGHTED_LABEL = "Ensemble pondéré"
BASE_LABEL = "Base (n)"
#: Options whose ``pct`` is a statistic (mean rank, mean, median), printed as decimals.
STATISTIC_OPTIONS = ("rang moyen", "moyenne", "médiane")
REQUIRED = ("question_id", "item", "option", "stratum", "base_n", "pct", "suppressed")
SOURCE = "Observatoire Data Publica"

_LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


class TableError(ReportError):
    """The frame given to a table is not what the table needs."""


# -- cells -------------------------------------------------------------------------------------


def cell(text: object) -> str:
    """A Markdown pipe-table cell: one line, ``|`` escaped, ordinary spaces folded."""
    text = _SPACES.sub(" ", str(text)).strip(" ")
    return text.replace("\\", "\\\\").replace("|", "\\|")


def _is_stat(option: str) -> bool:
    return " ".join(option.split()).casefold() in STATISTIC_OPTIONS


def _value(row: Any, column: str, decimals: int) -> str:
    if bool(row["suppressed"]):
        return fmt.SUPPRESSED
    value = row[column]
    if _is_stat(str(row["option"])):
        return fmt.dec(value, 1)
    return fmt.pct(value, decimals)


def _base_text(bases: Sequence[object]) -> str:
    values = sorted({int(b) for b in bases if not fmt.is_missing(b)})
    if not values:
        return fmt.MISSING
    if len(values) == 1:
        return fmt.num(values[0])
    return f"{fmt.num(values[0])}–{fmt.num(values[-1])}"


def _render(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[int],
    aligns: Sequence[str],
) -> str:
    """A pipe table; ``aligns`` items are 'l' or 'r'; ``widths`` = dashes per column."""
    n = len(header)
    for i, r in enumerate(rows):
        if len(r) != n:  # pragma: no cover - internal consistency
            raise TableError(f"table row {i} has {len(r)} cells; expected {n}")
    seps = []
    for w, a in zip(widths, aligns, strict=True):
        w = max(3, int(w))
        seps.append(":" + "-" * (w - 1) if a == "l" else "-" * (w - 1) + ":")
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "|".join(seps) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


# -- stratum table -----------------------------------------------------------------------------


def _rows_of(est: pd.DataFrame, question_id: str) -> pd.DataFrame:
    if not hasattr(est, "columns") or not hasattr(est, "loc"):
        raise TableError(f"estimates frame: expected a pandas DataFrame, got {type(est).__name__}")
    missing = [c for c in REQUIRED if c not in est.columns]
    if missing:
        raise TableError(
            f"estimates frame: missing column(s) {missing}; expected at least {list(REQUIRED)}"
        )
    rows = est.loc[est["question_id"] == question_id]
    if rows.empty:
        known = sorted(map(str, est["question_id"].dropna().unique()))
        raise TableError(
            f"estimates frame: no row for question_id {question_id!r} "
            f"(column 'question_id' holds {len(known)} ids, e.g. {known[:8]})"
        )
    rows = rows.assign(
        item=rows["item"].map(lambda v: "" if fmt.is_missing(v) else str(v)),
        option=rows["option"].astype(str),
    )
    dup = rows.duplicated(["item", "option", "stratum"], keep=False)
    if dup.any():
        first = rows.loc[dup].iloc[0]
        raise TableError(
            f"estimates frame: question_id {question_id!r} has duplicated rows for item "
            f"{first['item']!r}, option {first['option']!r}, stratum {first['stratum']!r} "
            f"(rows {list(rows.index[dup][:6])}); expected one row per item × option × stratum"
        )
    return rows


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def stratum_table(
    est: pd.DataFrame,
    question_id: str,
    option: str | None = None,
    groups: Sequence[str] = DEFAULT_GROUPS,
    weighted_total: bool = True,
    *,
    item: str | None = None,
    decimals: int = 0,
    max_columns: int = MAX_COLUMNS,
) -> str:
    """One question's percentages by group, as a pipe-Markdown table (French formatting).

    ``option=None``: every answer of the question (of ``item`` when given) in rows; ``option``
    given: that answer for every item (a matrix question: one row per item). ``groups``:
    codes of ``analysis.survey.strata.GROUPS``, in the order given; those absent from the frame are
    skipped. ``weighted_total`` adds "Ensemble pondéré" (the ``weighted_pct`` of the
    ``ensemble`` rows) when the frame has it. Suppressed cells print "n.s."; the base of each
    group is in the "Base (n)" row (or column, when transposed). Several tables separated by a
    blank line are returned when the groups must be split.
    """
    if max_columns < 3:
        raise TableError(f"stratum_table: max_columns must be at least 3, got {max_columns}")
    rows = _rows_of(est, question_id)
    if item is not None:
        rows = rows.loc[rows["item"] == str(item)]
    if option is not None:
        rows = rows.loc[rows["option"].map(_norm) == _norm(option)]
    if rows.empty:
        items = sorted(set(_rows_of(est, question_id)["item"]) - {""})
        opts = list(dict.fromkeys(_rows_of(est, question_id)["option"]))
        raise TableError(
            f"estimates frame: question_id {question_id!r} has no row with option {option!r} "
            f"and item {item!r} (options: {opts[:10]}; items: {items[:6]})"
        )
    unknown = [g for g in groups if g not in fmt.SHORT_LABELS]
    if unknown:
        raise TableError(
            f"stratum_table: unknown group(s) {unknown}; expected codes of {list(strata.GROUPS)}"
        )
    present = set(rows["stratum"])
    groups = [g for g in groups if g in present]
    if not groups:
        raise TableError(
            f"estimates frame: question_id {question_id!r} has no row for the groups asked "
            f"(column 'stratum' holds {sorted(present)})"
        )

    keys = list(dict.fromkeys(zip(rows["item"], rows["option"], strict=True)))
    many_items = len({k[0] for k in keys}) > 1
    many_options = len({k[1] for k in keys}) > 1

    def label(key: tuple[str, str]) -> str:
        it, op = key
        if not it:
            text = op
        elif many_items and many_options:
            text = f"{it} — {op}"
        elif many_items:
            text = it
        else:
            text = op
        return fmt.cap(fmt.typo(text))

    indexed = rows.set_index(["item", "option", "stratum"])
    columns: list[tuple[str, str, str]] = [(g, "pct", fmt.group_label(g)) for g in groups]
    if weighted_total and "ensemble" in groups and "weighted_pct" in rows.columns:
        ens = rows.loc[rows["stratum"] == "ensemble", "weighted_pct"]
        if ens.notna().any():
            at = groups.index("ensemble") + 1
            columns.insert(at, ("ensemble", "weighted_pct", WEIGHTED_LABEL))

    def value(key: tuple[str, str], col: tuple[str, str, str]) -> str:
        g, field, _ = col
        try:
            r = indexed.loc[(key[0], key[1], g)]
        except KeyError:
            return fmt.MISSING
        return _value({**r.to_dict(), "option": key[1]}, field, decimals)

    def base(col: tuple[str, str, str]) -> str:
        g = col[0]
        return _base_text(list(rows.loc[rows["stratum"] == g, "base_n"]))

    labels = [label(k) for k in keys]
    first_header = "Élément" if many_items and not many_options else "Réponse"
    longest = max(len(x) for x in labels)
    value_cols = len(columns)
    if value_cols + 1 <= max_columns or len(keys) + 2 > max_columns:
        # groups as columns, split into chunks when there are too many
        per = max_columns - 1
        chunks = [columns[i : i + per] for i in range(0, len(columns), per)]
        tables = []
        for chunk in chunks:
            header = [first_header] + [c[2] for c in chunk]
            body = [
                [lab] + [value(k, c) for c in chunk] for k, lab in zip(keys, labels, strict=True)
            ]
            body.append([BASE_LABEL] + [base(c) for c in chunk])
            widths = [max(26, min(longest, 100 - 14 * len(chunk)))] + [14] * len(chunk)
            tables.append(_render(header, body, widths, ["l"] + ["r"] * len(chunk)))
        return "\n\n".join(tables)
    # transposed: groups in rows, answers in columns
    header = ["Groupe", BASE_LABEL] + labels
    body = []
    for c in columns:
        body.append([c[2], base(c)] + [value(k, c) for k in keys])
    widths = [24, 9] + [14] * len(keys)
    return _render(header, body, widths, ["l", "r"] + ["r"] * len(keys))


def table_caption(
    est: pd.DataFrame,
    question_id: str,
    title: str | None = None,
    *,
    weighted_total: bool = True,
) -> str:
    """A table caption: title (default: the question), source, bases and kind of figures."""
    rows = _rows_of(est, question_id)
    if title is None:
        texts = [t for t in rows.get("question", []) if not fmt.is_missing(t) and str(t).strip()]
        title = str(texts[0]) if texts else ""
    title = _SPACES.sub(" ", str(title)).strip(" ").rstrip(" :;,")
    if title and title[-1] not in ".?!…":
        title += "."
    editions = []
    if "edition" in rows.columns:
        editions = sorted({str(e) for e in rows["edition"] if not fmt.is_missing(e)})
    source = f"Source : Baromètre de la data {fmt.join_fr(editions)}".rstrip() + f", {SOURCE}"
    kind = "pourcentages non pondérés"
    if weighted_total and "weighted_pct" in rows.columns and rows["weighted_pct"].notna().any():
        kind += f", sauf « {WEIGHTED_LABEL} »"
    parts = [source, "base : répondants de chaque groupe (ligne « Base (n) »)", kind]
    if rows["suppressed"].astype(bool).any():
        parts.append("n.s. : effectif trop faible pour publier le pourcentage")
    return fmt.typo((f"{title} " if title else "") + " ; ".join(parts) + ".")


# -- generic tables ----------------------------------------------------------------------------


def _format_any(value: object, decimals: int) -> str:
    if fmt.is_missing(value):
        return fmt.MISSING
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "oui" if value else "non"
    from numbers import Integral, Real

    if isinstance(value, Integral):
        return fmt.num(value)
    if isinstance(value, Real):
        return fmt.dec(value, decimals)
    return str(value)


def markdown(
    df: pd.DataFrame, *, index: bool = False, decimals: int = 1, widths: Sequence[int] | None = None
) -> str:
    """Any DataFrame as a pipe-Markdown table; numbers in French format, NaN as "–".

    Integers are grouped (``3 500``), other numbers get ``decimals`` decimals with a decimal
    comma, booleans print "oui"/"non". Numeric columns are right-aligned. Format percentages
    yourself with ``fmt.pct`` (the frame's strings are printed as they are).
    """
    if not hasattr(df, "columns") or not hasattr(df, "reset_index"):
        raise TableError(f"markdown: expected a pandas DataFrame, got {type(df).__name__}")
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    frame = df.reset_index() if index else df
    if len(frame.columns) == 0:
        raise TableError("markdown: the DataFrame has no column")
    header = [str(c) for c in frame.columns]
    aligns = [
        "r" if is_numeric_dtype(frame[c]) and not is_bool_dtype(frame[c]) else "l"
        for c in frame.columns
    ]
    body = [
        [_format_any(v, decimals) for v in row] for row in frame.itertuples(index=False, name=None)
    ]
    if widths is None:
        widths = [
            max(3, min(30, max([len(h)] + [len(r[i]) for r in body]))) for i, h in enumerate(header)
        ]
    elif len(widths) != len(header):
        raise TableError(f"markdown: {len(widths)} widths for {len(header)} columns")
    return _render(header, body, widths, aligns)


# -- captions and display ----------------------------------------------------------------------


def with_caption(md: str, caption: str, label: str) -> str:
    """The table(s) followed by Quarto caption lines ``: Caption {#tbl-label}``.

    ``label`` is given with or without its ``tbl-`` prefix. When ``md`` holds several tables
    (a split stratum table), each gets a caption, the following ones prefixed "Suite :" and
    labelled ``tbl-label-2``, ``tbl-label-3``…
    """
    if not isinstance(md, str) or "|" not in md:
        raise TableError(f"with_caption: expected a Markdown pipe table, got {str(md)[:60]!r}")
    if not isinstance(caption, str) or not caption.strip():
        raise TableError(f"with_caption: expected a non-empty caption, got {caption!r}")
    name = label[4:] if isinstance(label, str) and label.startswith("tbl-") else label
    if not isinstance(name, str) or not _LABEL_RE.match(name):
        raise TableError(
            f"with_caption: label {label!r} is not a valid Quarto label "
            "(expected letters, digits, '-' or '_', e.g. 'tbl-acculturation')"
        )
    text = fmt.typo(_SPACES.sub(" ", caption).strip(" "))
    blocks = [b.strip("\n") for b in re.split(r"\n\s*\n", md.strip()) if b.strip()]
    out = []
    for i, block in enumerate(blocks, start=1):
        if i == 1:
            out.append(f"{block}\n\n: {text} {{#tbl-{name}}}")
        else:
            out.append(f"{block}\n\n: Suite{NBSP}: {text} {{#tbl-{name}-{i}}}")
    return "\n\n".join(out) + "\n"


def show_table(md: str, caption: str, label: str) -> None:
    """Display the table and its caption in a notebook: ``text/markdown`` + ``text/plain``."""
    text = with_caption(md, caption, label)
    from IPython.display import display

    display({"text/markdown": text, "text/plain": text}, raw=True)


def pipe_table(header: list[str], rows: list[list[str]], align: str) -> str:
    """A Markdown pipe table of formatted cells (``align``: one ``l`` or ``r`` per column); the
    first column gets three times the width of the others; a ``|`` in a cell becomes ``/``."""
    dashes = ["-" * (36 if i == 0 else 12) for i in range(len(align))]
    lines = [
        "| " + " | ".join(header) + " |",
        "|"
        + "|".join(f":{d}" if a == "l" else f"{d}:" for a, d in zip(align, dashes, strict=True))
        + "|",
    ]
    lines += ["| " + " | ".join(str(c).replace("|", "/") for c in r) + " |" for r in rows]
    return "\n".join(lines)
