"""The PDF read as a printer would: where things sit on the page, fonts, images, cover, back page.

The book built once per session (:func:`repocopy.built`, synthetic data) is read with pypdf: every
text run and every drawing or image is placed on its page (its height, in points from the
bottom), so the tests can tell that a caption shares its page with its figure or table, that no
page is left almost empty, that charts are vector drawings and that every font is embedded.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from pypdf import PdfReader
from repocopy import PDF, built

pytestmark = pytest.mark.slow

FIGURE_CAPTION = re.compile(r"^Figure\s+(\d+)\.")
TABLE_CAPTION = re.compile(r"^Tableau\s+(\d+)\.")
FOOTER = 60.0  # pt from the bottom: the running footer (notice and page number) lives below
TOP_MARGIN = 62.0  # pt: typst's top margin (2.2 cm)


def _mult(m, n):
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return [
        a * A + b * C,
        a * B + b * D,
        c * A + d * C,
        c * B + d * D,
        e * A + f * C + E,
        e * B + f * D + F,
    ]


@dataclass
class Page:
    number: int  # 1-based
    height: float
    texts: list[tuple[float, str]] = field(default_factory=list)  # (y, text run)
    marks: list[float] = field(default_factory=list)  # y of drawing points and placed images
    rasters: int = 0

    def lines(self) -> list[tuple[float, str]]:
        """Text runs joined into lines (same height), top to bottom, footer excluded."""
        rows: dict[float, list[str]] = {}
        for y, t in self.texts:
            if y > FOOTER:
                rows.setdefault(round(y), []).append(t)
        return [(y, "".join(rows[y]).strip()) for y in sorted(rows, reverse=True)]

    def lowest(self) -> float | None:
        ys = [y for y, _ in self.lines()] + [y for y in self.marks if y > FOOTER]
        return min(ys) if ys else None


def _analyse(reader: PdfReader) -> list[Page]:
    pages = []
    for i, p in enumerate(reader.pages):
        page = Page(i + 1, float(p.mediabox.height))

        def on_text(text, cm, tm, _font, _size, page=page):
            if text.strip():
                page.texts.append((_mult(tm, cm)[5], text))

        def on_op(op, args, cm, _tm, page=page):
            try:
                if op == b"re" and len(args) == 4:
                    y, h = float(args[1]), float(args[3])
                    page.marks += [cm[3] * y + cm[5], cm[3] * (y + h) + cm[5]]
                elif op in (b"m", b"l") and len(args) == 2:
                    page.marks.append(cm[1] * float(args[0]) + cm[3] * float(args[1]) + cm[5])
                elif op == b"Do":
                    page.marks += [cm[5], cm[5] + cm[3]]
            except (TypeError, ValueError):
                pass

        p.extract_text(visitor_text=on_text, visitor_operand_before=on_op)
        page.rasters = len(p.images)
        pages.append(page)
    return pages


@dataclass
class Pdf:
    path: Path
    reader: PdfReader
    pages: list[Page]
    chapter_starts: set[int]  # 1-based page numbers where a chapter begins


@pytest.fixture(scope="module")
def pdf(tmp_path_factory) -> Pdf:
    # BAROMETRE_TEST_BOOK=<dir>: check an already built book instead (while working on it)
    given = os.environ.get("BAROMETRE_TEST_BOOK")
    path = Path(given) / Path(PDF).name if given else built(tmp_path_factory).repo / PDF
    reader = PdfReader(path)
    starts = {
        reader.get_destination_page_number(e) + 1 for e in reader.outline if not isinstance(e, list)
    }
    return Pdf(path, reader, _analyse(reader), starts)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


def test_every_figure_caption_is_on_the_page_of_its_figure(pdf):
    found = 0
    problems = []
    for page in pdf.pages:
        for y, line in page.lines():
            if not FIGURE_CAPTION.match(_norm(line)):
                continue
            found += 1
            above = [m for m in page.marks if y < m < y + 500]
            just_above = [m for m in above if m < y + 45]
            if len(above) < 10 or not just_above:
                problems.append(f"p. {page.number}: {_norm(line)[:60]!r} has no figure above it")
    assert found >= 8, f"only {found} figure captions found"
    assert not problems, "\n".join(problems)


def test_every_table_caption_is_on_the_page_of_its_table(pdf):
    found = 0
    problems = []
    for page in pdf.pages:
        lines = page.lines()
        for k, (y, line) in enumerate(lines):
            if not TABLE_CAPTION.match(_norm(line)):
                continue
            found += 1
            rows_below = [ln for yy, ln in lines[k + 1 :] if yy < y and not TABLE_CAPTION.match(ln)]
            rule_below = [m for m in page.marks if y - 220 < m < y]
            if len(rows_below) < 2 or not rule_below:
                problems.append(f"p. {page.number}: {_norm(line)[:60]!r} has no table below it")
    assert found >= 5, f"only {found} table captions found"
    assert not problems, "\n".join(problems)


def test_table_text_is_not_hyphenated(pdf):
    """A word cut by a hyphen at a line end inside a table ("pon-déré")."""
    cut = []
    for page in pdf.pages:
        lines = page.lines()
        for k, (y, line) in enumerate(lines):
            if not TABLE_CAPTION.match(_norm(line)):
                continue
            rules = sorted((m for m in page.marks if m < y), reverse=True)
            bottom = y
            for m in rules:  # the table runs down while its row rules follow each other
                if bottom - m > 40:
                    break
                bottom = m
            for yy, runs in (
                (yy, [t for ty, t in page.texts if round(ty) == yy]) for yy, _ in lines[k + 1 :]
            ):
                if bottom <= yy < y and any(t.rstrip().endswith(("-", "\u00ad")) for t in runs):
                    cut.append(f"p. {page.number}: {' '.join(runs)[:80]!r}")
    assert not cut, "\n".join(cut)


def test_no_page_is_nearly_empty_except_before_a_chapter(pdf):
    """Body pages are at least a quarter full, unless the next page opens a chapter."""
    last = len(pdf.pages)
    problems = []
    for page in pdf.pages[1:-1]:  # the cover and the back page stand alone by design
        if page.number + 1 in pdf.chapter_starts or page.number == last:
            continue
        lowest = page.lowest()
        top, bottom = page.height - TOP_MARGIN, FOOTER
        filled = 0.0 if lowest is None else (top - lowest) / (top - bottom)
        if filled < 0.25:
            problems.append(f"p. {page.number}: {filled:.0%} full")
    assert not problems, "\n".join(problems)


def _fonts(resources, seen: set) -> list[tuple[str, object]]:
    out = []
    if resources is None:
        return out
    resources = resources.get_object()
    for _name, ref in (resources.get("/Font") or {}).items():
        font = ref.get_object()
        if id(font) in seen:
            continue
        seen.add(id(font))
        desc = font.get("/FontDescriptor")
        if desc is None and font.get("/DescendantFonts"):
            desc = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
        out.append((str(font.get("/BaseFont")), desc.get_object() if desc else None))
    for _name, ref in (resources.get("/XObject") or {}).items():
        xo = ref.get_object()
        if xo.get("/Subtype") == "/Form":
            out += _fonts(xo.get("/Resources"), seen)
    return out


def test_every_font_is_embedded_and_the_text_has_one_family(pdf):
    fonts: list[tuple[str, object]] = []
    seen: set = set()
    for p in pdf.reader.pages:
        fonts += _fonts(p.get("/Resources"), seen)
    assert fonts
    missing = [
        name
        for name, desc in fonts
        if desc is None or not any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    ]
    assert not missing, f"fonts not embedded: {missing}"
    families = {re.sub(r"^/?[A-Z]{6}\+", "", n).split("-")[0] for n, _ in fonts}
    families -= {"DejaVuSansMono"}  # code, should any be printed
    assert families == {"DejaVuSans"}, f"text fonts {families}: the charts' font is DejaVu Sans"


def test_charts_are_vector_drawings(pdf):
    rasters = {p.number: p.rasters for p in pdf.pages if p.rasters}
    assert not rasters, f"raster images on pages {rasters}"
    drawn = [p for p in pdf.pages if len(p.marks) > 100]
    assert len(drawn) >= 8, "too few pages with vector charts"


def _edition() -> dict:
    return yaml.safe_load((ROOT / "data" / "codebook" / "2023.edition.yaml").read_text("utf-8"))


def test_cover_gives_title_edition_year_partners_licence_and_the_synthetic_notice(pdf):
    meta = _edition()
    cover = _norm(pdf.reader.pages[0].extract_text())
    assert "Baromètre de la data dans les territoires" in cover
    assert f"Édition {meta['edition']}" in cover or f"{meta['number']}e édition" in cover, cover
    assert str(meta["year"]) in cover
    for partner in meta["partners"]:
        assert _norm(partner) in cover, partner
    assert "CC BY-SA 4.0" in cover
    assert "Données synthétiques" in cover  # the default build is synthetic
    info = pdf.reader.metadata
    assert info.title == "Baromètre de la data dans les territoires"
    assert info.author and "Observatoire Data Publica" in info.author


def test_back_page_says_who_made_it_how_to_cite_and_where_the_open_data_is(pdf):
    back = _norm(pdf.reader.pages[-1].extract_text())
    meta = _edition()
    assert "Pour citer ce rapport" in back
    assert meta["publisher"] in back
    assert "CC BY-SA 4.0" in back
    assert "Données ouvertes" in back and meta["open_data"] in back.replace(" ", "")
    assert "Données synthétiques" in back


def test_every_page_but_the_cover_carries_the_synthetic_notice(pdf):
    without = [
        i + 1
        for i, p in enumerate(pdf.reader.pages)
        if "Données synthétiques" not in p.extract_text()
    ]
    assert not without, f"pages without the synthetic-data notice: {without}"
