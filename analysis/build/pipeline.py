"""``barometre build``: prepare the data, execute the chapters, render the book.

Each stage is skipped when its inputs are unchanged:

1. *prepare* — each edition's export becomes a processed dataset (``analysis.build.prepare``), unless
   the dataset's recorded input hashes still match;
2. *execute* — chapter notebooks whose cache key changed are run by papermill
   (``analysis.build.execute``);
3. *render* — Quarto when it is on PATH (or asked for), otherwise the embedded renderer
   (``analysis.build.render``), unless the executed notebooks and the book sources are unchanged.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from analysis.build import execute
from analysis.build.book import BUILD, EXECUTED, ROOT, Book, load_book
from analysis.build.files import atomic_write
from analysis.fingerprint import sha256_tree
from analysis.report import captions

DEFAULT_EDITION = 2023
DEFAULT_PREVIOUS_EDITION = 2022
DEFAULT_INPUT = "data/raw/synthetique-2023.csv"
DEFAULT_PREVIOUS_INPUT = "data/raw/synthetique-2022.csv"
SYNTHETIC_NOTICE = (
    "Données synthétiques : ce rapport est produit à partir de réponses simulées, "
    "à des fins de démonstration et de test. Ses chiffres ne décrivent pas les collectivités."
)
SYNTHETIC_NOTICE_SHORT = "Données synthétiques — chiffres fictifs"


@dataclass
class BuildConfig:
    edition: int = DEFAULT_EDITION
    previous_edition: int | None = DEFAULT_PREVIOUS_EDITION
    input: str = DEFAULT_INPUT
    previous_input: str | None = DEFAULT_PREVIOUS_INPUT
    previous_aggregates: str | None = None
    scope: list[str] = field(default_factory=lambda: ["all"])
    min_base: int = 5
    renderer: str = "auto"
    jobs: int | None = None
    force: bool = False
    execute_only: bool = False
    max_bytes: int | None = None  # input limits (None: the defaults of analysis.build.prepare)
    max_rows: int | None = None
    root: Path = ROOT


@dataclass
class BuildResult:
    prepared: list[str]
    outcomes: list[execute.Outcome]
    rendered: str | None  # "quarto" | "embedded" | None (cached or skipped)
    seconds: float


def _rel(path: str | Path, root: Path) -> str:
    p = Path(path)
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(p.resolve())


def prepare_inputs(cfg: BuildConfig, say: Callable[[str], None]) -> tuple[dict, list[str]]:
    """Processed datasets for the edition and the previous one; returns notebook parameters."""
    from analysis.build import prepare as dataset

    root = cfg.root
    done: list[str] = []
    limits = {"max_bytes": cfg.max_bytes, "max_rows": cfg.max_rows, "force": cfg.force}
    current = dataset.prepare_cached(
        cfg.edition,
        root / cfg.input if not Path(cfg.input).is_absolute() else Path(cfg.input),
        root=root,
        say=say,
        **limits,
    )
    if current.rebuilt:
        done.append(str(cfg.edition))
    params = {
        "edition": cfg.edition,
        "previous_edition": cfg.previous_edition,
        "data_path": _rel(current.path, root),
        "previous_path": None,
        "scope": list(cfg.scope),
        "min_base": cfg.min_base,
    }
    if cfg.previous_aggregates:
        params["previous_path"] = _rel(cfg.previous_aggregates, root)
    elif cfg.previous_input and cfg.previous_edition:
        prev_in = Path(cfg.previous_input)
        prev_in = prev_in if prev_in.is_absolute() else root / prev_in
        previous = dataset.prepare_cached(
            cfg.previous_edition, prev_in, root=root, say=say, **limits
        )
        if previous.rebuilt:
            done.append(str(cfg.previous_edition))
        params["previous_path"] = _rel(previous.path, root)
    return params, done


def report_notice(params: dict, root: Path) -> tuple[str, str]:
    """The notice shown on the cover and every page when the data is synthetic."""
    meta = Path(root / params["data_path"]).with_suffix(".meta.json")
    try:
        synthetic = bool(json.loads(meta.read_text(encoding="utf-8")).get("synthetic"))
    except (OSError, ValueError):
        synthetic = "synthetique" in params["data_path"]
    return (SYNTHETIC_NOTICE, SYNTHETIC_NOTICE_SHORT) if synthetic else ("", "")


def write_cover(root: Path, params: dict, notice: str) -> None:
    """``executed/_cover.md``: included by ``index.qmd`` (both renderers)."""
    lines = []
    if notice:
        lines += ["::: {.callout-warning}", f"**{notice}**", ":::", ""]
    meta = Path(root / params["data_path"]).with_suffix(".meta.json")
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = {}
    kept = info.get("counts", {}).get("kept")
    lines.append(
        f"Édition {params['edition']}"
        + (
            f", comparée à l'édition {params['previous_edition']}"
            if params.get("previous_path")
            else ""
        )
        + (f" : {kept} structures répondantes après nettoyage" if kept else "")
        + "."
    )
    atomic_write(root / EXECUTED / "_cover.md", "\n".join(lines) + "\n")


def render_key(book: Book) -> str:
    from analysis.build import render as rnd

    root = book.root
    files = [root / "_quarto.yml", *(root / c.path for c in book.chapters)]
    files += [p for p in (root / EXECUTED).glob("_*.md")]
    files += [Path(rnd.__file__)]
    files += [p for p in rnd.TEMPLATES.glob("*")]
    return sha256_tree([f for f in files if f.exists()], root)


def render(
    book: Book, cfg: BuildConfig, notice: tuple[str, str], say: Callable[[str], None]
) -> str | None:
    from analysis.build import render as rnd

    which = cfg.renderer
    if which == "auto":
        which = "quarto" if rnd.quarto_available() else "embedded"
    if which == "quarto" and not rnd.quarto_available():
        raise rnd.RenderError("--renderer quarto: `quarto` is not on PATH")
    key = f"{which}:{render_key(book)}"
    stamp = book.root / BUILD / "cache" / "render.json"
    out = book.root / book.output_dir
    if (
        not cfg.force
        and stamp.is_file()
        and (out / "index.html").is_file()
        and (out / book.pdf_name).is_file()
    ):
        try:
            if json.loads(stamp.read_text(encoding="utf-8")).get("key") == key:
                say(f"  = render ({which}): unchanged, {out.name}/ is up to date")
                return None
        except ValueError:
            pass
    say(f"rendering with {which}…")
    t0 = time.perf_counter()
    if which == "quarto":
        rnd.render_quarto(book)
    else:
        rnd.render_embedded(book, notice=notice[0], notice_short=notice[1])
    atomic_write(stamp, json.dumps({"key": key}) + "\n")
    say(
        f"  ✓ {out.name}/index.html and {out.name}/{book.pdf_name} ({time.perf_counter() - t0:.1f} s)"
    )
    return which


def build(cfg: BuildConfig, say: Callable[[str], None] | None = None) -> BuildResult:
    say = say or (lambda m: print(m, file=sys.stderr, flush=True))
    t0 = time.perf_counter()
    book = load_book(cfg.root)
    params, prepared = prepare_inputs(cfg, say)
    notice = report_notice(params, cfg.root)
    write_cover(cfg.root, params, notice[0])
    jobs = execute.jobs_for([c.stem for c in book.notebook_chapters], params, cfg.root)
    outcomes = execute.run(
        jobs,
        n_jobs=cfg.jobs,
        force=cfg.force,
        root=cfg.root,
        progress=say,
        postprocess=captions.apply_to_notebook,
    )
    rendered = None if cfg.execute_only else render(book, cfg, notice, say)
    return BuildResult(prepared, outcomes, rendered, time.perf_counter() - t0)
