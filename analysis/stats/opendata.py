"""Open-data export of the estimates: one long tidy CSV, and an XLSX with a sheet per chapter.

Columns, exactly (:data:`analysis.stats.estimates.COLUMNS`, documented for readers in
docs/open-data.md)::

    edition, chapter, question_id, question, item, option, stratum, base_n, group_n, count,
    pct, weighted_pct, ci_low, ci_high, ci_method, deff, n_eff, cv, reliable, suppressed

* ``question``: question text without any ``[…]`` suffix; ``item``: matrix row label or ranked
  element (empty otherwise); ``option``: answer level, choice, rank class (``rang 1``,
  ``rang 1 ou 2``, …) or ``sans réponse``; ``stratum``: a group code of
  :data:`analysis.survey.strata.GROUPS`.
* ``pct``, ``weighted_pct``, ``ci_low``, ``ci_high``: percentages 0–100, unrounded (shortest
  repr of the float, so the file is deterministic); population estimates where the method gives
  them (every group but ``autre`` with ``frame``; ``ensemble`` with ``observatoire``), empty
  elsewhere. ``deff``, ``n_eff``, ``cv``: floats likewise (``cv`` is ``inf`` at 0 %; empty in
  the XLSX). ``ci_method``: text. On the statistic rows (``option`` = ``rang moyen``, ``moyenne``,
  ``médiane``) ``pct``/``weighted_pct`` hold that statistic, not a percentage.
* ``reliable``: ``true``/``false`` (the publication rule of docs/estimation.md).
* ``suppressed``: ``true`` when ``base_n`` is below the disclosure threshold; the numbers are
  kept, the report prints "n.s." in their place.

Every text cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) is
prefixed with ``'`` so that spreadsheets do not evaluate it; numeric columns are left alone.
Files are written atomically (temporary file beside the destination, then ``os.replace``);
the XLSX carries fixed document dates and fixed ZIP entry dates, so identical estimates give
byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import numpy as np
import pandas as pd

from analysis.stats.estimates import COLUMNS
from analysis.survey.codebook import CHAPTERS

TEXT_COLUMNS = ("chapter", "question_id", "question", "item", "option", "stratum", "ci_method")
NUMERIC_COLUMNS = (
    "edition",
    "base_n",
    "group_n",
    "count",
    "pct",
    "weighted_pct",
    "ci_low",
    "ci_high",
    "deff",
    "n_eff",
    "cv",
)
FLOAT_COLUMNS = ("pct", "weighted_pct", "ci_low", "ci_high", "deff", "n_eff", "cv")
BOOL_COLUMNS = ("reliable", "suppressed")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Date stamped in the XLSX (document properties and ZIP entries): deterministic output.
FIXED_DATE = dt.datetime(2000, 1, 1, 0, 0, 0)


class ExportError(ValueError):
    """The estimates cannot be exported as they are."""


def neutralise(value: object) -> object:
    """Prefix a text cell that a spreadsheet would read as a formula with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a DataFrame whose text cells starting with :data:`FORMULA_PREFIXES` are
    prefixed with ``'`` (spreadsheets then show them as text); numbers are left alone."""
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            continue
        text = values.astype("string")
        risky = text.str.startswith(FORMULA_PREFIXES).fillna(False).astype(bool)
        if risky.any():
            out[col] = text.where(~risky, "'" + text)
    return out


def xlsx_bytes(table: pd.DataFrame) -> bytes:
    """The XLSX workbook of an export table (one sheet per chapter, fixed dates)."""
    return _xlsx_bytes(table)


def export_frame(estimates: pd.DataFrame) -> pd.DataFrame:
    """The export table: exact columns, neutralised text, checked numbers."""
    missing = [c for c in COLUMNS if c not in estimates]
    if missing:
        raise ExportError(
            f"estimates: no column {missing[0]!r}; expected the columns {list(COLUMNS)}"
        )
    out = estimates[list(COLUMNS)].copy()
    for col in TEXT_COLUMNS:
        text = out[col].astype("object").where(out[col].notna(), "").astype(str)
        risky = text.str.startswith(FORMULA_PREFIXES)
        out[col] = text.where(~risky, "'" + text)
    for col in NUMERIC_COLUMNS:
        values = pd.to_numeric(out[col], errors="coerce")
        bad = values.isna() & out[col].notna()
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise ExportError(
                f"estimates: row {pos}, column {col!r} has {out[col].iloc[pos]!r}; "
                f"expected a number or empty"
            )
        out[col] = values
    for col in ("edition", "base_n", "group_n", "count"):
        out[col] = out[col].astype("Int64")
    for col in BOOL_COLUMNS:
        out[col] = out[col].astype(bool)
    return out.reset_index(drop=True)


def to_csv_text(table: pd.DataFrame) -> str:
    """CSV text of an export table: UTF-8, ``,``, ``\\n``, floats as shortest repr."""
    text = table.copy()
    for col in FLOAT_COLUMNS:
        text[col] = [repr(float(v)) if v == v else "" for v in text[col].to_numpy()]
    for col in BOOL_COLUMNS:
        text[col] = np.where(table[col], "true", "false")
    return text.to_csv(index=False, lineterminator="\n")


def _sheets(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    chapters = list(dict.fromkeys(table["chapter"]))
    known = [c for c in CHAPTERS if c in chapters]
    others = [c for c in chapters if c not in CHAPTERS]
    sheets = []
    for chapter in [*known, *others]:
        name = (chapter or "sans_chapitre").lstrip("'")[:31]
        for bad in "[]:*?/\\":
            name = name.replace(bad, "_")
        sheets.append((name, table[table["chapter"] == chapter]))
    return sheets or [("estimations", table)]


def _cell(value: object) -> object:
    if value is pd.NA or value is None:
        return None
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _xlsx_bytes(table: pd.DataFrame) -> bytes:
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook(write_only=True)
    wb.properties.created = FIXED_DATE
    wb.properties.modified = FIXED_DATE
    wb.properties.creator = "barometre"
    for name, rows in _sheets(table):
        ws = wb.create_sheet(title=name)
        ws.freeze_panes = "A2"
        ws.append(list(COLUMNS))
        for record in rows.astype("object").itertuples(index=False, name=None):
            ws.append([_cell(v) for v in record])
    raw = io.BytesIO()
    # ExcelWriter directly: openpyxl's save_workbook would stamp "modified" with the clock.
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    # ZIP entries carry the clock too: rewrite them with a fixed date.
    fixed = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    return fixed.getvalue()
