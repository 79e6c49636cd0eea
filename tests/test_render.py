"""The embedded renderer (pandoc + typst) on a small book of the project's shape."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from minibook import write_minibook
from pypdf import PdfReader

from analysis.build import execute, render
from analysis.build.book import load_book


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = write_minibook(tmp_path_factory.mktemp("book"))
    jobs = execute.jobs_for(["01-un", "02-deux"], {"data_path": "data/valeurs.json"}, root)
    execute.run(jobs, root=root, progress=lambda m: None)
    book = load_book(root)
    render.render_embedded(book, notice="Données d'essai, chiffres fictifs.", notice_short="Essai")
    return root, book


def _pdf_text(path):
    reader = PdfReader(path)
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, text.replace("\xa0", " ").replace("\u202f", " ")


def test_pdf_has_title_chapters_table_values_and_figure(rendered):
    root, book = rendered
    pdf = root / "_book" / "livre-essai.pdf"
    assert pdf.exists()
    reader, text = _pdf_text(pdf)
    assert "Livre d’essai" in text or "Livre d'essai" in text
    for title in ("Premier chapitre", "Deuxième chapitre", "Accueil"):
        assert title in text
    assert "61" in text and "39" in text and "Parts des réponses" in text
    assert "Tableau 1" in text and "Figure 1" in text  # numbered, cross-referenced
    assert "?fig-" not in text and "?tbl-" not in text
    assert "Données d’essai" in text or "Données d'essai" in text  # the cover notice
    images = sum(len(page.images) for page in reader.pages)
    assert images >= 1
    assert len(reader.pages) >= 4  # cover, contents, chapters
    assert "import json" not in text and "data_path" not in text  # echo: false


def test_html_pages_navigation_alt_text_and_tables(rendered):
    root, _ = rendered
    out = root / "_book"
    index = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    links = [a["href"] for a in index.select("nav.sidebar a")]
    assert "01-un.html" in links and "02-deux.html" in links and "livre-essai.pdf" in links
    page = BeautifulSoup((out / "01-un.html").read_text(encoding="utf-8"), "html.parser")
    imgs = page.find_all("img")
    assert imgs
    for img in imgs:
        assert img["alt"].startswith("Diagramme en barres")
        assert (out / img["src"]).exists()
    assert page.find("table") is not None and "61 %" in page.get_text()
    assert page.find(id="fig-barres") is not None and page.find(id="tbl-parts") is not None
    ref = page.find("a", href="01-un.html#fig-barres")
    assert ref is not None and ref.get_text() == "figure 1"
    assert "Paramètre : essai" in page.get_text()  # printed output kept
    assert "valeurs = json.load" not in page.get_text()  # code hidden


def test_failed_render_keeps_last_good_report(rendered, monkeypatch):
    root, book = rendered
    before = (root / "_book" / "index.html").read_bytes()

    def boom(*args, **kwargs):
        raise render.RenderError("typst exploded")

    monkeypatch.setattr(render, "_write_pdf", boom)
    with pytest.raises(render.RenderError):
        render.render_embedded(book)
    assert (root / "_book" / "index.html").read_bytes() == before
    assert (root / "_book" / "livre-essai.pdf").exists()
    assert not list(root.glob("._book.new-*"))


def test_missing_executed_chapter_is_a_clear_error(tmp_path):
    root = write_minibook(tmp_path)
    with pytest.raises(render.RenderError, match="barometre build"):
        render.render_embedded(load_book(root))


def test_cell_options_parsing():
    opts, code = render.cell_options('#| label: fig-x\n#| fig-cap: "Une légende"\nplot()')
    assert opts == {"label": "fig-x", "fig-cap": "Une légende"}
    assert code == "plot()"
