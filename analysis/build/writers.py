"""Writers of the build stage's data outputs: open-data tables, synthetic exports and drafted
codebooks.

The lower stages compute content (the export table, its XLSX, a synthetic export's CSV text);
this module writes it atomically (:mod:`analysis.build.files`), so that an interrupted run
leaves the previous files in place.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.build.files import atomic_group, atomic_write
from analysis.stats import estimates, opendata
from analysis.survey import synth
from analysis.survey.codebook import Codebook
from analysis.survey.codebook import load as load_codebook


def write_tables(
    estimates_df: pd.DataFrame, out_csv: str | Path, *, xlsx: bool = True
) -> list[Path]:
    """Write the open-data CSV (and the XLSX beside it, same stem); return the paths written.

    Row order is the estimates' (codebook, item, option, group order of ``GROUPS``).
    """
    out_csv = Path(out_csv)
    table = opendata.export_frame(estimates_df)
    files = [(out_csv, opendata.to_csv_text(table))]
    if xlsx:
        files.append((out_csv.with_suffix(".xlsx"), opendata.xlsx_bytes(table)))
    written = atomic_group(files)  # the CSV and its XLSX together, or neither
    for path in written:  # temporary files are created 0600; open data is for everyone
        os.chmod(path, 0o644)
    return written


def tables_for(
    processed: str | Path | pd.DataFrame,
    edition: int,
    out_csv: str | Path,
    *,
    method: str = "frame",
    min_base: int = 5,
    xlsx: bool = True,
    codebook: Codebook | None = None,
    interval: str = "logit",
    frame: Any = None,
) -> Path:
    """Estimate every tabulated question of a processed dataset and write the open data.

    ``processed``: the ``.parquet`` path (or the dataset itself). ``method``: ``frame``
    (design-based on ``data/frames/<edition>.yaml``, docs/estimation.md), ``raking`` (the same
    with the ``weight_raking`` column) or ``observatoire`` (the published weights: column
    ``weight_observatoire``, else ``weight``). ``interval``: ``logit`` or ``beta`` for groups of
    several strata (``frame``, ``raking``). ``codebook`` defaults to the edition's, ``frame``
    (``{stratum: N}``) to ``data/frames/<edition>.yaml``. Returns the CSV path.
    """
    if isinstance(processed, pd.DataFrame):
        df, where = processed, f"processed dataset {edition}"
    else:
        path = Path(processed)
        if not path.is_file():
            raise opendata.ExportError(
                f"{path}: processed dataset not found; expected a .parquet file"
            )
        df, where = pd.read_parquet(path), str(path)
    if method not in estimates.METHODS:
        raise opendata.ExportError(f"method {method!r}; expected one of {list(estimates.METHODS)}")
    column = f"weight_{method}"
    if method == "frame":
        column = None  # design weights N_h / n_h from the frame
    elif column not in df:
        if method != "observatoire" or "weight" not in df:
            raise opendata.ExportError(
                f"{where}: no weight column {column!r}; expected the weights of method "
                f"{method!r} (run `barometre prepare`)"
            )
        column = "weight"
    cb = codebook if codebook is not None else load_codebook(edition)
    try:
        est = estimates.estimate_all(
            df,
            cb,
            edition,
            weight=column,
            min_base=min_base,
            method=method,
            interval=interval,
            frame=frame,
        )
    except estimates.EstimatesError as exc:
        raise opendata.ExportError(f"{where}: {exc}") from None
    write_tables(est, out_csv, xlsx=xlsx)
    return Path(out_csv)


def write_synthetic_export(edition: int, n: int = 400, seed: int = 1, *, out: str | Path) -> Path:
    """Generate a synthetic export and write it atomically to ``out``; return ``out``.

    Name it ``synthetique-*.csv``: the pipeline flags a dataset as synthetic by that prefix.
    """
    out = Path(out)
    if out.exists() and out.is_dir():
        raise synth.SynthError(f"{out}: is a directory; expected a CSV file path")
    frame = synth.generate(edition, n, seed)
    return atomic_write(out, synth.to_csv(frame).encode("utf-8"))


def write_codebook(result, directory: str | Path | None = None, *, force: bool = False) -> Path:
    """Write a drafted codebook (:func:`analysis.survey.draft.draft`) as
    ``<directory>/<edition>.yaml`` (default ``data/codebook``); never over an existing file
    (it may hold a person's corrections) unless ``force``."""
    from analysis.survey import draft
    from analysis.survey.codebook import CODEBOOK_DIR

    path = Path(directory or CODEBOOK_DIR) / f"{result.codebook['edition']}.yaml"
    if path.exists() and not force:
        raise draft.DraftError(
            f"{path} exists: it may hold a person's corrections — pass --force to replace it, "
            "or --out <directory> to draft elsewhere"
        )
    return atomic_write(path, draft.codebook_text(result))
