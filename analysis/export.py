"""Open-data export of the estimates: one long tidy CSV, and an XLSX with a sheet per chapter.

Columns, exactly (:data:`analysis.estimates.COLUMNS`)::

    edition, chapter, question_id, question, item, option, stratum, base_n, count, pct,
    weighted_pct, ci_low, ci_high, suppressed

* ``question``: question text without any ``[…]`` suffix; ``item``: matrix row label or ranked
  element (empty otherwise); ``option``: answer level, choice, rank class (``rang 1``,
  ``rang 1 ou 2``, …) or ``sans réponse``; ``stratum``: a group code of
  :data:`analysis.strata.GROUPS`.
* ``pct``, ``weighted_pct``, ``ci_low``, ``ci_high``: percentages 0–100, unrounded (shortest
  repr of the float, so the file is deterministic); weighted figures on ``ensemble`` rows only,
  empty elsewhere. On the statistic rows (``option`` = ``rang moyen``, ``moyenne``,
  ``médiane``) ``pct``/``weighted_pct`` hold that statistic, not a percentage.
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
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.codebook import CHAPTERS, Codebook
from analysis.codebook import load as load_codebook
from analysis.estimates import COLUMNS, estimate_all
from analysis.io import atomic_write

TEXT_COLUMNS = ("chapter", "question_id", "question", "item", "option", "stratum")
NUMERIC_COLUMNS = ("edition", "base_n", "count", "pct", "weighted_pct", "ci_low", "ci_high")
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
    for col in ("edition", "base_n", "count"):
        out[col] = out[col].astype("Int64")
    out["suppressed"] = out["suppressed"].astype(bool)
    return out.reset_index(drop=True)


def to_csv_text(table: pd.DataFrame) -> str:
    """CSV text of an export table: UTF-8, ``,``, ``\\n``, floats as shortest repr."""
    text = table.copy()
    for col in ("pct", "weighted_pct", "ci_low", "ci_high"):
        text[col] = [repr(float(v)) if v == v else "" for v in text[col].to_numpy()]
    text["suppressed"] = np.where(table["suppressed"], "true", "false")
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
    if value is pd.NA or value is None or (isinstance(value, float) and value != value):
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


def write_tables(
    estimates_df: pd.DataFrame, out_csv: str | Path, *, xlsx: bool = True
) -> list[Path]:
    """Write the open-data CSV (and the XLSX beside it, same stem); return the paths written.

    Row order is the estimates' (codebook, item, option, group order of ``GROUPS``).
    """
    out_csv = Path(out_csv)
    table = export_frame(estimates_df)
    written = [atomic_write(out_csv, to_csv_text(table))]
    if xlsx:
        written.append(atomic_write(out_csv.with_suffix(".xlsx"), _xlsx_bytes(table)))
    for path in written:  # temporary files are created 0600; open data is for everyone
        os.chmod(path, 0o644)
    return written


def tables_for(
    processed: str | Path | pd.DataFrame,
    edition: int,
    out_csv: str | Path,
    *,
    method: str = "observatoire",
    min_base: int = 5,
    xlsx: bool = True,
    codebook: Codebook | None = None,
) -> Path:
    """Estimate every tabulated question of a processed dataset and write the open data.

    ``processed``: the ``.parquet`` path (or the dataset itself). ``method`` picks the weight
    column (``weight_<method>``, else ``weight`` for the default method); ``codebook``
    defaults to the edition's. Returns the CSV path.
    """
    if isinstance(processed, pd.DataFrame):
        df, where = processed, f"processed dataset {edition}"
    else:
        path = Path(processed)
        if not path.is_file():
            raise ExportError(f"{path}: processed dataset not found; expected a .parquet file")
        df, where = pd.read_parquet(path), str(path)
    column = f"weight_{method}"
    if column not in df:
        if method != "observatoire" or "weight" not in df:
            raise ExportError(
                f"{where}: no weight column {column!r}; expected the weights of method "
                f"{method!r} (run `barometre prepare`)"
            )
        column = "weight"
    cb = codebook if codebook is not None else load_codebook(edition)
    estimates = estimate_all(df, cb, edition, weight=column, min_base=min_base)
    write_tables(estimates, out_csv, xlsx=xlsx)
    return Path(out_csv)
