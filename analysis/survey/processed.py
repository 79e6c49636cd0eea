"""The processed dataset of an edition, read back: one row per kept response, with its metadata.

``barometre prepare`` (:mod:`analysis.build.prepare`) writes ``<name>.parquet`` and
``<name>.meta.json`` side by side; the chapters, the open-data export and the notes read them
through :func:`load` and :func:`load_meta`. The schema is in docs/architecture.md.
"""

from __future__ import annotations

import json
from pathlib import Path


class DatasetError(ValueError):
    """A processed dataset could not be produced or read."""


def load(path: str | Path):
    """Read a processed dataset (for the chapter notebooks)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: processed dataset not found — run `barometre prepare`")
    return pd.read_parquet(path)


def load_meta(path: str | Path) -> dict:
    """The metadata written beside a processed dataset (``<name>.meta.json``)."""
    meta = Path(path).with_suffix(".meta.json")
    try:
        return json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{meta}: cannot read the dataset's metadata: {exc}") from exc
