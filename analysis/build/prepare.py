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

``<name>`` is the input file's whole name without its extension, followed by ``-<edition>``
unless the edition is already one of its words (``synthetique-2023.csv`` → ``synthetique-2023``,
``export.2022.csv`` prepared as 2023 → ``export.2022-2023``), so two inputs in one directory, or
one input prepared as two editions, never share a processed file. An output path that is also
the input is refused. The three outputs are written as one unit (:func:`analysis.io.
atomic_group`): all or none, and a write error names the destination and leaves the previous
files in place.

Refused (exit 2, naming the file and the headings): an export from which no structure can be
classified (neither the enrichment columns nor any SIRET or structure name, or none found in
the reference), and an export without any complete response. A sample smaller than
:data:`MIN_PUBLISHABLE` complete responses is prepared, but the metadata says
``"publishable": false`` and the command warns (the report says so instead of drawing charts). The stage is skipped when the metadata's cache key (input hash + code) still matches.
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
from analysis.build.files import atomic_group, sweep_stale
from analysis.fingerprint import code_fingerprint, code_version, sha256_file, sha256_tree
from analysis.survey.processed import DatasetError

PROCESSED = "data/processed"
WEIGHT_METHODS = ("observatoire", "frame", "raking")
#: Default input limits: far above an edition's export (~1 000 rows, ~2 MB), low enough to
#: refuse a wrong file before it fills the memory (an export takes ~10× its size once read).
DEFAULT_MAX_BYTES = 200_000_000
DEFAULT_MAX_ROWS = 200_000
#: The limits applied when a caller passes None (``barometre build`` sets them from its flags).
LIMITS = {"max_bytes": DEFAULT_MAX_BYTES, "max_rows": DEFAULT_MAX_ROWS}
#: Fewer complete responses than this and no figure can be published (the report's default
#: ``min_base``: a percentage needs a base of at least 5 respondents).
MIN_PUBLISHABLE = 5
#: Columns computed for the cleaning rule and never written (they may hold a SIREN or a name).
INTERNAL_COLUMNS = ("identity_key", "identified_by")


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


def processed_name(input_path: Path, edition: int | None = None) -> str:
    """``<whole input name without its extension>[-<edition>]`` (see the module docstring)."""
    import re

    name = Path(input_path).name
    stem = name[: -len(Path(name).suffix)] if Path(name).suffix else name
    if edition is not None and not re.search(rf"(?<!\d){edition}(?!\d)", stem):
        stem = f"{stem}-{edition}"
    return stem


def processed_paths(
    input_path: Path, out_dir: Path, edition: int | None = None
) -> tuple[Path, Path, Path]:
    stem = processed_name(input_path, edition)
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
    data, meta_path, drops = processed_paths(input_path, out_dir, edition)
    refuse_overlap([input_path], [data, meta_path, drops], "--out-dir")
    for p in (data, meta_path, drops):  # what a killed writer left, even if nothing is redone
        if p.parent.is_dir():
            sweep_stale(p.parent, f".{p.name}.")
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
        warning = too_small(meta, input_path)
        if warning:
            say(f"  {warning}")
    return Prepared(data, meta_path, drops, True, seconds, meta)


def same_file(a: Path, b: Path) -> bool:
    """The same path, once resolved (or the same file on disk, through links)."""
    a, b = Path(a), Path(b)
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def refuse_overlap(inputs, outputs, option: str) -> None:
    """Refuse an output path that is also an input (or another output): writing it would
    destroy what the run reads."""
    outputs = [Path(o) for o in outputs]
    for out in outputs:
        for inp in inputs:
            if inp is not None and same_file(out, Path(inp)):
                raise DatasetError(
                    f"{out}: this output is also an input of the run; expected an output path "
                    f"distinct from every input — choose another {option}"
                )
    for i, a in enumerate(outputs):
        for b in outputs[i + 1 :]:
            if same_file(a, b):
                raise DatasetError(
                    f"{a}: two outputs of the run would be this one file; expected distinct "
                    f"outputs — choose another {option}"
                )


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
    refuse_overlap([input_path], [data_path, meta_path, drops_path], "output path")
    export = ingest.read_export(input_path, cb, max_bytes=max_bytes, max_rows=max_rows)
    _classifiable(export, cb, input_path)
    ref = reference.load_reference()
    try:
        enriched, match_report = enrich.enrich(export.responses, export.identity, ref)
    except enrich.EnrichError as exc:
        raise DatasetError(f"{input_path}: {exc}") from exc
    _matched_someone(export, enriched, match_report, cb, input_path)
    kept, drop_log = clean.clean(enriched, cb)
    if kept.empty:
        q = cb[clean.COMPLETION_QUESTION]
        heading = export.headings.get(q.id, q.columns[0].heading).strip()
        dropped = drop_log["reason"].value_counts()
        raise DatasetError(
            f"{input_path}, column {heading[:80]!r}: no complete response: 0 of "
            f"{len(export.responses)} responses answered the last question of the "
            f"questionnaire ({int(dropped.get('incomplete', 0))} incomplete); expected at least "
            "one complete response — export all the responses (LimeSurvey: 'All responses', "
            "not only the incomplete ones)"
        )
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
    admin_drop += [c for c in INTERNAL_COLUMNS if c in kept]
    kept = kept.drop(columns=admin_drop).sort_values("response_id").reset_index(drop=True)

    buf = io.BytesIO()
    kept.to_parquet(buf, index=False, engine="pyarrow", compression="zstd")
    from analysis.stats.opendata import spreadsheet_safe  # pandas: imported when writing

    drops_text = spreadsheet_safe(drop_log).to_csv(index=False, lineterminator="\n")

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
        "identified_by": {
            str(k): int(v) for k, v in enriched["identified_by"].value_counts().sort_index().items()
        }
        if "identified_by" in enriched
        else {},
        "publishable": bool(len(kept) >= MIN_PUBLISHABLE),
        "weights": _jsonable(diag),
        "parquet_sha256": hashlib.sha256(buf.getvalue()).hexdigest(),
        "cache_key": cache_key,
    }
    meta_text = json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    atomic_group([(data_path, buf.getvalue()), (meta_path, meta_text), (drops_path, drops_text)])
    del pd
    return meta


def too_small(meta: dict, source: Path) -> str | None:
    """The warning for a sample too small to publish, or None."""
    if meta.get("publishable", True):
        return None
    n = (meta.get("counts") or {}).get("kept", 0)
    return (
        f"warning: {source}: sample too small to publish: {n} complete "
        f"response{'s' if n != 1 else ''} kept, at least {MIN_PUBLISHABLE} needed for any "
        "figure (--min-base); the report says so instead of showing figures"
    )


def _classifiable(export, cb, source: Path) -> None:
    """Refuse an export from which no structure can be classified: neither the authors'
    structure types nor any SIRET or structure name."""
    r, ident = export.responses, export.identity
    has_type = r["category_raw"].notna().any() if "category_raw" in r else False
    has_identity = any(
        c in ident and ident[c].astype("string").str.strip().fillna("").ne("").any()
        for c in ("siret", "structure_name")
    )
    if has_type or has_identity:
        return
    shown = [cb[q].columns[0].heading.strip() for q in ("category_raw", "siret", "structure_name")]
    raise DatasetError(
        f"{source}: no structure can be classified: the export has no structure type (column "
        f"{shown[0]!r}) and no SIRET or structure name (columns {shown[1]!r}, {shown[2]!r}), "
        "so every respondent would count as 'autre' with no weight; expected the enrichment "
        "columns or the identity columns — export the responses with the questions "
        "'Quel est le nom de votre structure ?' and 'Quel est votre numéro SIRET ?'"
    )


def _matched_someone(export, enriched, report, cb, source: Path) -> None:
    """Without structure types, refuse when no SIRET or name was found in the reference."""
    if export.responses["category_raw"].notna().any():
        return
    if report["method"].isin(["siren", "name"]).any():
        return
    n = len(report)
    raise DatasetError(
        f"{source}: no structure can be classified: none of the {n} SIRET or structure names "
        "was found in the reference of collectivités, and the export has no structure type "
        f"(column {cb['category_raw'].columns[0].heading!r}); expected SIRET numbers or names "
        "of communes, EPCI, départements or régions — check the identity columns"
    )


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
