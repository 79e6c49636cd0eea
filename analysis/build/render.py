"""Rendering the book: with Quarto when it is installed, otherwise with the embedded renderer.

The embedded renderer uses the engines Quarto itself uses — pandoc (``pypandoc_binary``) and
typst (the ``typst`` wheel) — on the executed notebooks listed in ``_quarto.yml``:

- code is hidden (``echo: false``), the papermill parameter cells are dropped;
- ``text/markdown`` outputs (tables) are kept as Markdown, so they reach the HTML and the PDF;
- figures take their ``label``, ``fig-cap`` and ``fig-alt`` from the cell options (``#|``);
- cross-references ``@fig-…``, ``@tbl-…``, ``@sec-…`` become links (HTML) or typst references;
- ``{{< include file >}}`` shortcodes of ``.qmd`` pages are resolved.

It writes ``_book/index.html`` and one page per chapter, plus ``_book/<output-file>.pdf``. The
whole output directory is built aside and swapped in only when complete, so a failed render
keeps the last good report.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from analysis.build.book import BUILD, Book
from analysis.build.files import atomic_dir

TEMPLATES = Path(__file__).resolve().parent / "templates"
CROSSREF = re.compile(r"(?<![\w@.])@((?:fig|tbl|sec)-[A-Za-z0-9_-]+)")
INCLUDE = re.compile(r"\{\{<\s*include\s+(\S+)\s*>\}\}")
#: ``::: {.generated file="…"}`` ``:::`` — a generated file's Markdown, read at render time
#: (Quarto: analysis/build/quarto/generated.lua)
GENERATED = re.compile(r'^:::+\s*\{\.generated\s+file="([^"]+)"\}\s*\n:::+\s*$', re.M)
TBL_CAPTION = re.compile(r"^:\s+(.*?)\s*\{#(tbl-[A-Za-z0-9_-]+)\}\s*$", re.M)
HEADING_ID = re.compile(r"^(#{1,6})\s+(.*?)\s*\{#(sec-[A-Za-z0-9_-]+)[^}]*\}\s*$", re.M)


class RenderError(RuntimeError):
    """The report could not be rendered."""


@dataclass
class Figure:
    label: str | None
    caption: str
    alt: str
    path: str  # relative to the output directory


@dataclass
class Page:
    """One chapter, as a list of blocks: Markdown text or figures."""

    stem: str
    title: str
    blocks: list[str | Figure] = field(default_factory=list)
    href: str = ""


# -- reading chapters -------------------------------------------------------------------------
def cell_options(source: str) -> tuple[dict, str]:
    """Quarto cell options (``#| key: value`` lines at the top of a cell) and the remaining code."""
    lines = source.splitlines()
    opts_lines = []
    for line in lines:
        if line.startswith("#|"):
            opts_lines.append(line[3:] if line[2:3] == " " else line[2:])
        else:
            break
    try:
        opts = (yaml.safe_load("\n".join(opts_lines)) or {}) if opts_lines else {}
    except yaml.YAMLError as exc:
        raise RenderError(f"bad cell options {opts_lines!r}: {exc}") from exc
    return (opts if isinstance(opts, dict) else {}), "\n".join(lines[len(opts_lines) :])


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def read_notebook(path: Path, assets: Path, asset_prefix: str) -> Page:
    """Turn an executed notebook into a Page; images are written under ``assets``."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RenderError(f"{path}: cannot read the executed notebook: {exc}") from exc
    page = Page(stem=path.stem, title="")
    n_img = 0
    for cell in nb.get("cells", []):
        source = _text(cell.get("source", ""))
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell.get("cell_type") == "markdown":
            page.blocks.append(source)
            continue
        if cell.get("cell_type") != "code" or tags & {"parameters", "injected-parameters"}:
            continue
        opts, _ = cell_options(source)
        if opts.get("output") is False or opts.get("include") is False:
            continue
        fig_label = opts.get("label") if str(opts.get("label", "")).startswith("fig-") else None
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                if out.get("name") == "stdout" and _text(out.get("text", "")).strip():
                    page.blocks.append("```\n" + _text(out["text"]).rstrip() + "\n```")
                continue
            if kind == "error":
                tb = "\n".join(out.get("traceback", []))
                tb = re.sub(r"\x1b\[[0-9;]*m", "", tb)
                page.blocks.append("```\n" + tb + "\n```")
                continue
            data = out.get("data", {})
            if "text/markdown" in data:
                page.blocks.append(_text(data["text/markdown"]))
            elif "image/png" in data or "image/svg+xml" in data:
                n_img += 1
                ext = "png" if "image/png" in data else "svg"
                name = f"{path.stem}-{n_img}.{ext}"
                target = assets / name
                target.parent.mkdir(parents=True, exist_ok=True)
                if ext == "png":
                    target.write_bytes(base64.b64decode(_text(data["image/png"])))
                else:
                    target.write_text(_text(data["image/svg+xml"]), encoding="utf-8")
                label = fig_label if n_img == 1 or fig_label is None else f"{fig_label}-{n_img}"
                caption = str(opts.get("fig-cap") or "")
                alt = str(opts.get("fig-alt") or caption)
                page.blocks.append(Figure(label, caption, alt, f"{asset_prefix}/{name}"))
            elif "text/html" in data:
                page.blocks.append("```{=html}\n" + _text(data["text/html"]) + "\n```")
            elif "text/plain" in data:
                page.blocks.append("```\n" + _text(data["text/plain"]) + "\n```")
    page.title = _first_heading(page.blocks) or page.stem
    return page


def read_qmd(path: Path, root: Path) -> Page:
    text = path.read_text(encoding="utf-8")
    meta: dict = {}
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            meta = yaml.safe_load(text[3:end]) or {}
            text = text[end + 4 :]

    def include(m: re.Match) -> str:
        target = (path.parent / m.group(1)).resolve()
        if not target.exists():
            target = (root / m.group(1)).resolve()
        if not target.exists():
            raise RenderError(
                f"{path}: {m.group(1)} is missing — run `make notebooks` (or `barometre build`) "
                "first"
            )
        return target.read_text(encoding="utf-8")

    text = re.sub(r"<!--.*?-->\s*", "", text, flags=re.S)  # notes to the page's editors
    text = INCLUDE.sub(include, text)
    text = GENERATED.sub(include, text)
    title = str(meta.get("title") or "")
    if title and not re.search(r"^#\s", text, re.M):
        text = f"# {title} {{.unnumbered}}\n\n{text.lstrip()}"
    page = Page(stem=path.stem, title=title, blocks=[text])
    page.title = page.title or _first_heading(page.blocks) or path.stem
    return page


def _first_heading(blocks: list) -> str | None:
    for b in blocks:
        if isinstance(b, str):
            m = re.search(r"^#\s+(.+?)\s*(\{[^}]*\})?\s*$", b, re.M)
            if m:
                return m.group(1)
    return None


# -- numbering and cross-references -------------------------------------------------------------
def number_targets(pages: list[Page]) -> dict[str, tuple[str, str]]:
    """label → (French text, href) for every figure, table and section, in book order."""
    targets: dict[str, tuple[str, str]] = {}
    n_fig = n_tbl = 0
    for page in pages:
        for b in page.blocks:
            if isinstance(b, Figure):
                n_fig += 1
                if b.label:
                    targets[b.label] = (f"figure {n_fig}", f"{page.href}#{b.label}")
                continue
            for m in TBL_CAPTION.finditer(b):
                n_tbl += 1
                targets[m.group(2)] = (f"tableau {n_tbl}", f"{page.href}#{m.group(2)}")
            for m in HEADING_ID.finditer(b):
                targets[m.group(3)] = (f"« {m.group(2)} »", f"{page.href}#{m.group(3)}")
    return targets


CONTENT_VISIBLE = re.compile(
    r"^(:{3,})\s*\{\.content-visible\s+when-format=\"(\w+)\"\}\s*\n(.*?)^\1\s*$", re.M | re.S
)
EXECUTED_LINK = re.compile(r"\]\((?:\./)?executed/([\w-]+)\.ipynb(#[^)]*)?\)")


def for_format(text: str, target: str) -> str:
    """Quarto's ``.content-visible when-format="…"`` divs: kept (unwrapped) for their format only;
    links to executed chapters (``executed/X.ipynb``, as Quarto resolves them) become pages."""
    text = CONTENT_VISIBLE.sub(lambda m: m.group(3) if m.group(2) == target else "", text)
    return EXECUTED_LINK.sub(lambda m: f"]({m.group(1)}.html{m.group(2) or ''})", text)


def to_markdown(page: Page, target: str, refs: dict[str, tuple[str, str]]) -> str:
    parts: list[str] = []
    for b in page.blocks:
        if isinstance(b, Figure):
            parts.append(_figure(b, target, refs))
        else:
            text = for_format(b, target)
            if target == "html":
                text = TBL_CAPTION.sub(
                    lambda m: (
                        f": {refs.get(m.group(2), ('', ''))[0].capitalize()} : "
                        f"{m.group(1)} {{#{m.group(2)}}}"
                    ),
                    text,
                )
            parts.append(_crossrefs(text, target, refs))
    return "\n\n".join(p.strip("\n") for p in parts) + "\n"


def _crossrefs(text: str, target: str, refs: dict[str, tuple[str, str]]) -> str:
    def sub(m: re.Match) -> str:
        label = m.group(1)
        if label not in refs:
            return f"?{label}"
        if target == "typst":
            return f"`@{label}`{{=typst}}"
        label_text, href = refs[label]
        return f"[{label_text}]({href})"

    return CROSSREF.sub(sub, text)


def _figure(fig: Figure, target: str, refs: dict[str, tuple[str, str]]) -> str:
    caption = _crossrefs(fig.caption, target, refs)
    if target == "typst":
        ident = f"#{fig.label}" if fig.label else ""
        return f"![{caption}]({fig.path}){{{ident}}}"
    number = refs.get(fig.label or "", ("", ""))[0].capitalize()
    cap_html = html.escape(f"{number} : {fig.caption}" if number else fig.caption)
    ident = f' id="{fig.label}"' if fig.label else ""
    return (
        "```{=html}\n"
        f'<figure{ident}><img src="{html.escape(fig.path)}" alt="{html.escape(fig.alt)}" loading="lazy">'
        f"<figcaption>{cap_html}</figcaption></figure>\n```"
    )


# -- the embedded renderer ------------------------------------------------------------------------
@functools.cache
def _pandoc_path() -> str:
    """The pandoc of the ``pypandoc_binary`` wheel (locked version, with the typst writer).

    Taken directly: pypandoc's own search may settle on an older pandoc on PATH (Debian's 2.17
    has no typst writer) when asking the bundled one its version fails on a busy machine."""
    import pypandoc

    bundled = Path(pypandoc.__file__).resolve().parent / "files" / "pandoc"
    return str(bundled) if bundled.is_file() else pypandoc.get_pandoc_path()


def _pandoc(text: str, to: str, args: list[str]) -> str:
    """Run pandoc once (directly: pypandoc would spawn it three times per conversion)."""
    proc = subprocess.run(
        [
            _pandoc_path(),
            # raw HTML has no place in the PDF, and reading it makes pandoc 2.5× slower
            "--from=markdown-citations" + ("-raw_html" if to == "typst" else ""),
            f"--to={to}",
            "--wrap=none",
            # pipe tables keep natural column widths (no fixed widths from their dashes,
            # which printed one header over another)
            "--columns=10000",
            *args,
        ],
        input=text.encode("utf-8"),
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RenderError(f"pandoc failed ({to}): {proc.stderr.decode('utf-8', 'replace')}")
    return proc.stdout.decode("utf-8")


def render_embedded(
    book: Book, notice: str = "", notice_short: str = "", facts: dict | None = None
) -> Path:
    """Render the book to HTML and PDF with pandoc and typst; return the output directory."""
    root = book.root
    out_dir = root / book.output_dir
    missing = [c.path for c in book.chapters if not (root / c.path).exists()]
    if missing:
        raise RenderError(
            f"cannot render: missing chapter file(s) {missing} — run `barometre build` "
            "(it executes the notebooks first)"
        )
    with atomic_dir(out_dir) as tmp:
        pages: list[Page] = []
        for ch in book.chapters:
            src = root / ch.path
            page = (
                read_notebook(src, tmp / "figures", "figures")
                if ch.is_notebook
                else read_qmd(src, root)
            )
            page.href = "index.html" if not pages else f"{page.stem}.html"
            pages.append(page)
        refs = number_targets(pages)
        # pandoc runs are independent processes, run in parallel: first each page's typst (the
        # PDF's critical path), then the HTML pages, while typst compiles the PDF here
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            typ = [pool.submit(_pandoc, to_markdown(p, "typst", refs), "typst", []) for p in pages]
            html = _write_html(book, pages, refs, tmp, notice, pool, facts)
            _write_pdf(book, [f.result() for f in typ], tmp, notice, notice_short, facts)
            for f in html:
                f.result()
    return out_dir


def _number(i: int, page: Page) -> str:
    """The chapter number shown for page ``i`` (the home page has none), as in the PDF."""
    return str(i) if i else ""


def _nav_title(i: int, page: Page) -> str:
    num = _number(i, page)
    title = html.escape(_strip_md(page.title))
    return f'<span class="num">{num}</span> {title}' if num else title


TYPST_TABLE_COLUMNS = re.compile(r"^(\s*)columns: (\d+),$", re.M)  # in pandoc's #table(
TABLE_OPEN = re.compile(r"<table(?=[\s>])")


def _scrolling_tables(body: str) -> str:
    """Each table in a box that scrolls sideways on a narrow screen (and can be focused to)."""
    body = TABLE_OPEN.sub(
        '<div class="table-scroll" role="region" tabindex="0" aria-label="Tableau"><table',
        body,
    )
    return body.replace("</table>", "</table></div>")


def _write_html(
    book: Book,
    pages: list[Page],
    refs: dict,
    out: Path,
    notice: str,
    pool=None,
    facts: dict | None = None,
) -> list:
    facts = facts or {}
    tmpl = TEMPLATES / "book.html"
    jobs = []
    for i, page in enumerate(pages):
        current = ' class="current" aria-current="page"'
        nav = (
            "<ol>"
            + "".join(
                f'<li><a href="{p.href}"{current if p is page else ""}>{_nav_title(k, p)}</a></li>'
                for k, p in enumerate(pages)
            )
            + "</ol>"
        )
        prev_link = (
            f'<a href="{pages[i - 1].href}">← {html.escape(_strip_md(pages[i - 1].title))}</a>'
            if i
            else "<span></span>"
        )
        next_link = (
            f'<a href="{pages[i + 1].href}">{html.escape(_strip_md(pages[i + 1].title))} →</a>'
            if i + 1 < len(pages)
            else "<span></span>"
        )
        md = to_markdown(page, "html", refs)
        if i == 0 and book.title:
            md = "```{=html}\n" + _home_header(book, facts) + "\n```\n\n" + md
        args = [
            "--standalone",
            f"--template={tmpl}",
            *(["--toc", "--toc-depth=2"] if i else []),  # the home page needs no contents
            *(["--number-sections", f"--number-offset={i - 1}"] if _number(i, page) else []),
            f"--metadata=pagetitle:{_strip_md(page.title)}",
            f"--variable=booktitle:{book.title}",
            f"--variable=author:{book.author}",
            f"--variable=lang:{book.lang}",
            f"--variable=nav:{nav}",
            f"--variable=pager:{prev_link}{next_link}",
            f"--variable=pdf:{book.pdf_name}",
        ]
        for key in ("licence", "licence-url", "open-data", "year", "publisher"):
            if facts.get(key):
                args.append(f"--variable={key}:{facts[key]}")
        if notice:
            args.append(f"--variable=notice:{html.escape(notice)}")
        jobs.append((out / page.href, md, args))

    def one(job: tuple[Path, str, list[str]]) -> None:
        path, md, args = job
        path.write_text(_scrolling_tables(_pandoc(md, "html5", args)), encoding="utf-8")

    if pool is None:
        for job in jobs:
            one(job)
        return []
    return [pool.submit(one, job) for job in jobs]


def _home_header(book: Book, facts: dict) -> str:
    esc = html.escape
    sub = f"<p class='subtitle'>{esc(book.subtitle)}</p>" if book.subtitle else ""
    edition = " · ".join(esc(str(x)) for x in (facts.get("ordinal"), facts.get("year")) if x)
    by = esc(facts.get("publisher") or book.author)
    partners = facts.get("partners") or []
    with_ = (
        f"<p class='partners'>Avec le soutien et en partenariat avec {esc(', '.join(partners))}</p>"
        if partners
        else ""
    )
    return (
        "<header class='book-title'>"
        + (f"<p class='edition'>{edition}</p>" if edition else "")
        + f"<h1 class='title'>{esc(book.title)}</h1>{sub}"
        + f"<p class='author'>{by}</p>{with_}</header>"
    )


BODY = "BAROMETRE-BODY-7f3a"  # stands for the body in the template's own pandoc run


def _write_pdf(
    book: Book,
    chapters: list[str],
    out: Path,
    notice: str,
    notice_short: str,
    facts: dict | None = None,
) -> None:
    """The PDF from each page's typst (converted apart, in parallel) inside the template."""
    import typst

    args = [
        "--standalone",
        f"--template={TEMPLATES / 'book.typ'}",
        f"--variable=title:{book.title}",
        f"--variable=subtitle:{book.subtitle}",
        f"--variable=author:{book.author}",
        f"--variable=date:{book.date}",
        f"--variable=lang:{book.lang}",
    ]
    facts = dict(facts or {})
    facts.setdefault("year", book.date)
    facts.setdefault("publisher", book.author)
    for key, value in facts.items():
        for v in value if isinstance(value, list | tuple) else [value]:
            if v not in (None, ""):
                args.append(f"--variable={key}:{_typst_escape(str(v))}")
    if notice:
        args.append(f"--variable=notice:{_typst_escape(notice)}")
    if notice_short:
        args.append(f"--variable=notice-short:{_typst_escape(notice_short)}")
    wrapper = _pandoc(BODY, "typst", args)
    source = wrapper.replace(BODY, "\n\n".join(chapters), 1)
    # typst's French supplement for images is "Fig."; the report says "Figure"
    source = source.replace("#figure(image(", "#figure(supplement: [Figure], image(")
    # tables: the first (label) column gets twice the room of a number column, so that
    # labels do not wrap into slivers (long headers of number columns wrap instead)
    source = TYPST_TABLE_COLUMNS.sub(
        lambda m: f"{m.group(1)}columns: (2fr,{' 1fr,' * (int(m.group(2)) - 1)}),", source
    )
    typ = out / f".{book.output_file}.typ"
    typ.write_text(source, encoding="utf-8")
    try:
        # a fixed timestamp: the PDF's dates and identifiers do not change from one render
        # to the next (reproducible outputs); the charts' font (matplotlib's DejaVu Sans) is
        # the text's, from the same files on every machine
        typst.compile(
            str(typ),
            output=str(out / book.pdf_name),
            root=str(out),
            timestamp=0,
            font_paths=[str(chart_fonts())],
        )
    except Exception as exc:  # typst raises its own error type with the diagnostics
        keep = book.root / BUILD / f"{book.output_file}.typ"
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(typ, keep)
        raise RenderError(f"typst failed to compile the PDF ({keep} kept): {exc}") from exc
    finally:
        typ.unlink(missing_ok=True)


def chart_fonts() -> Path:
    """matplotlib's own font files (DejaVu Sans): the charts are drawn in them."""
    from importlib.util import find_spec

    # located without importing matplotlib (0.2 s): the no-op build stays light
    spec = find_spec("matplotlib")
    return Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"


def _strip_md(text: str) -> str:
    return re.sub(r"[*_`]", "", text)


def _typst_escape(text: str) -> str:
    return re.sub(r"([#\[\]$*_`<>@\\])", r"\\\1", text)


# -- Quarto ---------------------------------------------------------------------------------------
def quarto_available() -> bool:
    return shutil.which("quarto") is not None


def render_quarto(book: Book) -> Path:
    """Run ``quarto render`` at the project root (its pre-render step finds the cache fresh)."""
    proc = subprocess.run(["quarto", "render"], cwd=book.root, check=False)
    if proc.returncode != 0:
        raise RenderError(f"quarto render failed with exit code {proc.returncode}")
    return book.root / book.output_dir
