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
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from analysis.build import execute
from analysis.build.book import BUILD, EXECUTED, ROOT, Book, load_book
from analysis.build.files import atomic_write
from analysis.fingerprint import sha256_tree
from analysis.report import annex, captions

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


def edition_facts(edition: int) -> dict:
    """The edition's facts (``data/codebook/<edition>.edition.yaml``) as renderer variables."""
    from analysis.survey.edition import EditionError, load_edition

    try:
        ed = load_edition(edition)
    except EditionError:
        return {}
    return {
        "edition": ed.edition,
        "ordinal": ed.ordinal,
        "year": ed.year,
        "publisher": ed.publisher,
        "partners": list(ed.partners),
        "licence": ed.licence,
        "licence-url": ed.licence_url,
        "report-url": ed.report_url,
        "open-data": ed.open_data,
        "fieldwork": ed.fieldwork,
        "questions": ed.questions,
    }


KEY_FIGURES_LABEL = "tbl-chiffres-cles"


def _notebook_markdown(path: Path) -> tuple[str, list[str]]:
    """An executed chapter's title (first ``#`` heading) and its Markdown outputs."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return path.stem, []
    title, outputs = path.stem, []
    for cell in nb.get("cells", []):
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        if cell.get("cell_type") == "markdown" and title == path.stem:
            m = re.search(r"^#\s+(.+?)\s*(\{[^}]*\})?\s*$", src, re.M)
            if m:
                title = m.group(1)
        for out in cell.get("outputs", []):
            md = out.get("data", {}).get("text/markdown")
            if md:
                outputs.append("".join(md) if isinstance(md, list) else md)
    return title, outputs


def write_cover(root: Path, params: dict, notice: str, book: Book | None = None) -> None:
    """``executed/_cover.md``, included by ``index.qmd`` (both renderers): the notice, what the
    edition is, and — on the site only — the key figures and links to the chapters, the PDF and
    the open data."""
    lines = []
    if notice:  # the PDF's first page (every site page has it above its text already)
        lines += [
            ':::: {.content-visible when-format="typst"}',
            "::: {.callout-warning}",
            f"**{notice}**",
            ":::",
            "::::",
            "",
        ]
    meta = Path(root / params["data_path"]).with_suffix(".meta.json")
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = {}
    facts = edition_facts(params["edition"])
    kept = info.get("counts", {}).get("kept")
    lines.append(
        f"Édition {params['edition']}"
        + (f" ({facts['ordinal']} du baromètre)" if facts.get("ordinal") else "")
        + (
            f", comparée à l'édition {params['previous_edition']}"
            if params.get("previous_path")
            else ""
        )
        + (f" : {kept} structures répondantes après nettoyage" if kept else "")
        + "."
    )
    if book is not None:
        lines += ["", *_home_links(root, book, facts)]
    atomic_write(root / EXECUTED / "_cover.md", "\n".join(lines) + "\n")
    write_quarto_includes(root, notice, SYNTHETIC_NOTICE_SHORT if notice else "")


def write_quarto_includes(root: Path, notice: str, notice_short: str) -> None:
    """What ``_quarto.yml`` includes on every page: the notice in the PDF's footer (with the
    page number) and at the top of every HTML page; the charts' font files for typst."""
    import html

    from analysis.build import render as rnd

    esc = rnd._typst_escape
    footer = (
        '#set page(footer: context [#set text(size: 7.5pt, fill: rgb("#5c5c5c"))\n'
        f'{esc(notice_short)} #h(1fr) #counter(page).display("1")])\n'
        if notice_short
        else ""
    )
    atomic_write(root / EXECUTED / "_notice.typ", footer)
    banner = f'<div class="callout callout-warning" role="note">{html.escape(notice)}</div>\n'
    atomic_write(root / EXECUTED / "_notice.html", banner if notice else "")
    fonts = root / EXECUTED / "fonts"
    fonts.mkdir(parents=True, exist_ok=True)
    for f in sorted(rnd.chart_fonts().glob("DejaVuSans*.ttf")):
        if not (fonts / f.name).is_file():
            shutil.copyfile(f, fonts / f.name)


def _home_links(root: Path, book: Book, facts: dict) -> list[str]:
    """The site's home page: key findings, chapters, downloads (HTML only)."""
    out = [':::: {.content-visible when-format="html"}']
    chapters = []
    key_table = None
    for k, ch in enumerate(book.notebook_chapters, start=1):
        title, outputs = _notebook_markdown(root / ch.path)
        chapters.append(f"- [{k}\u00a0{title}]({ch.path})")
        for md in outputs:
            if key_table is None and f"{{#{KEY_FIGURES_LABEL}}}" in md:
                key_table = md
                key_chapter = ch.path
    if key_table is not None:
        table = re.sub(r"^:\s.*\{#tbl-[^}]*\}\s*$", "", key_table, flags=re.M).strip()
        out += [
            "",
            "## Chiffres clés",
            "",
            table,
            "",
            f"Chaque chiffre est détaillé, avec sa base et sa méthode, dans [l'introduction]"
            f"({key_chapter}) et le chapitre qui le concerne.",
        ]
    out += ["", "## Chapitres", "", "::: {.chapters}", *chapters, ":::", "", "## Télécharger", ""]
    out.append(f"- [Le rapport complet en PDF]({book.pdf_name})")
    if facts.get("open-data"):
        out.append(
            f"- [Les données ouvertes : chaque chiffre publié, en CSV]({facts['open-data']})"
        )
    if facts.get("report-url"):
        out.append(f"- [Le rapport publié de l'édition {facts['edition']}]({facts['report-url']})")
    out += ["", "::::"]
    return out


def render_key(book: Book) -> str:
    from analysis.build import render as rnd

    root = book.root
    files = [root / "_quarto.yml", *(root / c.path for c in book.chapters)]
    files += [p for p in (root / EXECUTED).glob("_*.md")]
    files += [Path(rnd.__file__)]
    files += [p for p in rnd.TEMPLATES.glob("*")]
    files += sorted((root / "data" / "codebook").glob("*.edition.yaml"))  # cover, back page
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
        facts = edition_facts(cfg.edition)
        rnd.render_embedded(book, notice=notice[0], notice_short=notice[1], facts=facts)
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
    jobs = execute.jobs_for([c.stem for c in book.notebook_chapters], params, cfg.root)
    outcomes = execute.run(
        jobs,
        n_jobs=cfg.jobs,
        force=cfg.force,
        root=cfg.root,
        progress=say,
        postprocess=captions.apply_to_notebook,
        depends=annex.cache_dependency,
    )
    write_cover(cfg.root, params, notice[0], book)  # the home page quotes executed chapters
    rendered = None if cfg.execute_only else render(book, cfg, notice, say)
    return BuildResult(prepared, outcomes, rendered, time.perf_counter() - t0)
