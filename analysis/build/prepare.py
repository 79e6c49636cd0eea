"""``barometre prepare``: an edition's export → the processed dataset, once.

Stages: ingest (codebook; personal columns dropped) → enrich (category, population, stratum) →
clean (complete responses, one per structure; drop log) → weights (all methods, once: the
chapters never import the weighting library). Outputs, written atomically beside each other:

- ``<name>.parquet``: one row per kept response (schema in docs/architecture.md);
- ``<name>.meta.json``: input hashes (export, codebook, frame, reference), ``code_version``
  (package version + hash of the analysis sources), counts, weight diagnostics — no clock time,
  no machine path, so identical inputs give identical bytes;
- ``<name>.drops.csv``: the drop log (response id, reason), spreadsheet-safe.

Inputs are refused above :data:`DEFAULT_MAX_BYTES` bytes or :data:`DEFAULT_MAX_ROWS` responses
unless the caller gives other limits (``0`` = no limit).

``<name>`` is the input file's stem, so the real and the synthetic editions never overwrite
each other. The stage is skipped when the metadata's cache key (input hash + code) still matches.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from analysis.build.book import ROOT
from analysis.build.files import atomic_write
from analysis.fingerprint import code_fingerprint, code_version, sha256_file, sha256_tree
from analysis.stats.opendata import spreadsheet_safe
from analysis.survey.processed import DatasetError

PROCESSED = "data/processed"
WEIGHT_METHODS = ("observatoire", "frame", "raking")
#: Default input limits: far above an edition's export (~1 000 rows, ~2 MB), low enough to
#: refuse a wrong file before it fills the memory (an export takes ~10× its size once read).
DEFAULT_MAX_BYTES = 200_000_000
DEFAULT_MAX_ROWS = 200_000
#: The limits applied when a caller passes None (``barometre build`` sets them from its flags).
LIMITS = {"max_bytes": DEFAULT_MAX_BYTES, "max_rows": DEFAULT_MAX_ROWS}


@dataclass
class Prepared:
    path: Path
    meta_path: Path
    drops_path: Path
    rebuilt: bool
    seconds: float
    meta: dict

    def summary(self) -> str:
        c = self.meta.get("counts", {})
        lines = [
            f"{self.path}: {c.get('kept')} responses kept of {c.get('rows_in')} "
            f"({self.seconds:.2f} s{'' if self.rebuilt else ', cached'})",
            "  dropped: "
            + ", ".join(f"{k} {v}" for k, v in sorted((c.get("dropped") or {}).items())),
            "  per stratum: "
            + ", ".join(f"{k} {v}" for k, v in (c.get("per_stratum") or {}).items()),
            f"  drop log: {self.drops_path}",
        ]
        return "\n".join(lines)


def is_synthetic(path: Path) -> bool:
    """Synthetic exports are named ``synthetique-*`` by ``barometre synth`` (documented)."""
    return path.name.startswith("synthetique")


def resolve_limits(max_bytes: int | None, max_rows: int | None) -> tuple[int | None, int | None]:
    """None → the current :data:`LIMITS`; 0 or less → no limit."""
    b = LIMITS["max_bytes"] if max_bytes is None else max_bytes
    r = LIMITS["max_rows"] if max_rows is None else max_rows
    return (b if b and b > 0 else None), (r if r and r > 0 else None)


def processed_paths(input_path: Path, out_dir: Path) -> tuple[Path, Path, Path]:
    stem = input_path.name.split(".")[0]
    return (
        out_dir / f"{stem}.parquet",
        out_dir / f"{stem}.meta.json",
        out_dir / f"{stem}.drops.csv",
    )


def prepare_cached(
    edition: int,
    input_path: Path,
    *,
    out_dir: Path | None = None,
    root: Path = ROOT,
    force: bool = False,
    method: str = "observatoire",
    max_bytes: int | None = None,
    max_rows: int | None = None,
    say: Callable[[str], None] | None = None,
) -> Prepared:
    """Prepare ``input_path`` unless its processed dataset is up to date."""
    input_path = Path(input_path)
    if not input_path.is_file():
        raise DatasetError(f"{input_path}: input export not found")
    max_bytes, max_rows = resolve_limits(max_bytes, max_rows)
    size = input_path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise DatasetError(
            f"{input_path}: file is {size} bytes; expected at most max_bytes={max_bytes} — if "
            "the export is genuine, raise the limit (--max-bytes)"
        )
    out_dir = Path(out_dir) if out_dir else root / PROCESSED
    data, meta_path, drops = processed_paths(input_path, out_dir)
    key = hashlib.sha256(
        f"{edition}\0{method}\0{sha256_file(input_path)}\0{code_fingerprint(root)}".encode()
    ).hexdigest()
    if not force and data.is_file() and meta_path.is_file() and drops.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except ValueError:
            meta = {}
        rows_in = (meta.get("counts") or {}).get("rows_in") or 0
        if (
            meta.get("cache_key") == key
            and meta.get("parquet_sha256") == sha256_file(data)
            and (max_rows is None or rows_in <= max_rows)
        ):
            if say:
                say(f"  = prepare {input_path.name}: unchanged")
            return Prepared(data, meta_path, drops, False, 0.0, meta)
    if say:
        say(f"preparing {input_path.name} (edition {edition})…")
    t0 = time.perf_counter()
    meta = prepare(
        edition,
        input_path,
        data,
        meta_path,
        drops,
        method=method,
        max_bytes=max_bytes,
        max_rows=max_rows,
        cache_key=key,
    )
    seconds = time.perf_counter() - t0
    if say:
        say(f"  ✓ {data.name}: {meta['counts']['kept']} responses kept ({seconds:.2f} s)")
    return Prepared(data, meta_path, drops, True, seconds, meta)


def prepare(
    edition: int,
    input_path: Path,
    data_path: Path,
    meta_path: Path,
    drops_path: Path,
    *,
    method: str = "observatoire",
    max_bytes: int | None = None,
    max_rows: int | None = None,
    cache_key: str = "",
) -> dict:
    """Run every stage and write the three outputs; return the metadata."""
    import pandas as pd

    from analysis.stats import weights
    from analysis.survey import clean, codebook, enrich, ingest, reference

    if method not in WEIGHT_METHODS:
        raise DatasetError(f"unknown weighting method {method!r}; expected one of {WEIGHT_METHODS}")
    max_bytes, max_rows = resolve_limits(max_bytes, max_rows)
    cb = codebook.load(edition)
    export = ingest.read_export(input_path, cb, max_bytes=max_bytes, max_rows=max_rows)
    ref = reference.load_reference()
    enriched, match_report = enrich.enrich(export.responses, export.identity, ref)
    kept, drop_log = clean.clean(enriched, cb)
    frame = reference.load_frame(edition)
    margins = region_margins(kept, ref)
    w = {}
    raking_regions = "used" if margins else "not available (respondents without a région)"
    for m in WEIGHT_METHODS:
        try:
            w[m] = weights.compute_weights(
                kept, frame.counts, method=m, region_margins=margins if m == "raking" else None
            ).to_numpy()
        except weights.WeightsError as exc:
            if m != "raking" or not margins:
                raise
            # a small sample cannot meet the région margins: rake on the stratum alone and
            # say so in the metadata, rather than refuse the whole dataset
            raking_regions = f"dropped: {exc}"
            w[m] = weights.compute_weights(kept, frame.counts, method=m).to_numpy()
    kept = kept.copy()
    kept["weight"] = w[method]
    for m in WEIGHT_METHODS:
        kept[f"weight_{m}"] = w[m]
    admin_drop = [
        c
        for c in ("category_raw", "population_raw", "last_page", "submitted", "empty_cells")
        if c in kept
    ]
    kept = kept.drop(columns=admin_drop).sort_values("response_id").reset_index(drop=True)

    buf = io.BytesIO()
    kept.to_parquet(buf, index=False, engine="pyarrow", compression="zstd")
    atomic_write(data_path, buf.getvalue())
    atomic_write(drops_path, spreadsheet_safe(drop_log).to_csv(index=False, lineterminator="\n"))

    per_stratum = kept["stratum"].value_counts().reindex(kept["stratum"].cat.categories).fillna(0)
    diag = weights.diagnostics(kept, "weight")
    meta = {
        "edition": edition,
        "source_name": input_path.name,
        "input_sha256": sha256_file(input_path),
        "encoding": export.encoding,
        "separator": export.separator,
        "heading_style": export.heading_style,
        "synthetic": is_synthetic(input_path),
        "codebook_version": cb.version,
        "codebook_sha256": sha256_file(cb.path) if cb.path else None,
        "code_version": code_version(),
        "frame_sha256": _frame_sha256(edition),
        "reference_version": ref.version,
        "reference_sha256": _reference_sha256(),
        "frame": {"counts": frame.counts, "total": frame.total, "source": frame.source},
        "weighting": {
            "default": method,
            "methods": list(WEIGHT_METHODS),
            "raking_region_margins": raking_regions,
        },
        "dropped_columns": _dropped_summary(export.dropped_columns, cb),
        "counts": {
            "rows_in": int(len(export.responses)),
            "dropped": {
                str(k): int(v) for k, v in drop_log["reason"].value_counts().sort_index().items()
            },
            "kept": int(len(kept)),
            "per_stratum": {str(k): int(v) for k, v in per_stratum.items()},
        },
        "enrichment": {
            str(k): int(v) for k, v in match_report["method"].value_counts().sort_index().items()
        },
        "weights": _jsonable(diag),
        "parquet_sha256": hashlib.sha256(buf.getvalue()).hexdigest(),
        "cache_key": cache_key,
    }
    atomic_write(meta_path, json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    del pd
    return meta


def _frame_sha256(edition: int) -> str | None:
    from analysis.survey.reference import _frame_path

    path = _frame_path(edition, None)
    return sha256_file(path) if path.is_file() else None


def _reference_sha256() -> str:
    """One hash over the reference's files (tables and VERSION.json)."""
    from analysis.survey.reference import REFERENCE_DIR

    directory = Path(REFERENCE_DIR)
    return sha256_tree([p for p in directory.iterdir() if p.is_file()], directory)


def region_margins(kept, ref) -> dict[str, float] | None:
    """Collectivités per région in the reference, for raking — when every weighted respondent
    has a région (exports with SIRET); None otherwise (the real 2023 export has no région)."""
    if "region_code" not in kept:
        return None
    weighted = kept["stratum"].astype(str) != "autre"
    regions = kept.loc[weighted, "region_code"]
    if regions.isna().any() or regions.empty:
        return None
    counts = (
        ref.communes["region"]
        .astype(str)
        .value_counts()
        .add(ref.epci["region"].astype(str).value_counts(), fill_value=0)
        .add(ref.departements["region"].astype(str).value_counts(), fill_value=0)
        .add(ref.regions["code"].astype(str).value_counts(), fill_value=0)
    )
    return {str(k): float(v) for k, v in counts.sort_index().items()}


def _dropped_summary(dropped, cb) -> dict:
    """How many export columns were dropped at ingestion, by kind (never their content)."""
    from analysis.survey.codebook import normalise_heading

    kinds = {normalise_heading(c.heading): q.type for q in cb.questions for c in q.columns}
    out: dict[str, int] = {}
    for heading in dropped:
        kind = kinds.get(normalise_heading(heading), "personal (by pattern)")
        out[kind] = out.get(kind, 0) + 1
    return dict(sorted(out.items()))


def _jsonable(obj):
    """Diagnostics (DataFrame / dict / numpy scalars) as plain JSON values."""
    import numpy as np
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        return json.loads(obj.to_json(orient="records", double_precision=10))
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
