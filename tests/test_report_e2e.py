"""End-to-end: `barometre build` of the whole book, then the PDF and the HTML are opened.

Each build runs in a scratch copy of the repository (tracked files only), so the developer's
outputs are never touched: once on the embedded synthetic editions (always), once on the real
2023 export with the published 2022 aggregates (when ../shared is present).
"""

from __future__ import annotations

import csv
import re
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import AGGREGATES_2022, REAL_2023
from pypdf import PdfReader
from repocopy import copy_repo, run

from analysis.report import french as fmt
from analysis.report.findings import FINDINGS

pytestmark = pytest.mark.slow

CHAPTERS = {
    "00-introduction": "Introduction",
    "01-motivations": "Utiliser les données : motivations et obstacles",
    "02-organisation": "Gérer les données : organisation et outils",
    "03-gouvernance": "La gouvernance des données",
    "04-environnement": "Numérique responsable et données pour la transition écologique",
    "05-ia": "L’intelligence artificielle",
    "06-cybersecurite": "La cybersécurité",
    "99-notice-technique": "Notice technique",
}
PDF = "barometre-data-territoires.pdf"


def run_cli(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return run(repo, *args)


def _normalise(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u00ad", "")
    return re.sub(r"\s+", " ", text.replace("’", "'"))


class Built:
    def __init__(self, repo: Path, input_: str):
        self.repo = repo
        self.input = input_
        self.book = repo / "_book"
        self.reader = PdfReader(self.book / PDF)
        self.pages = [_normalise(p.extract_text()) for p in self.reader.pages]

    def chapter_pages(self) -> dict[str, tuple[int, int]]:
        """Chapter title → (first page, last page) from the PDF outline (0-based)."""
        starts = []
        for entry in self.reader.outline:
            if isinstance(entry, list):
                continue
            # chapters are numbered in the outline ("1 Introduction"), as in the text
            title = re.sub(r"^\d+(\.\d+)*\s+", "", _normalise(entry.title))
            starts.append((title, self.reader.get_destination_page_number(entry)))
        out = {}
        for i, (title, start) in enumerate(starts):
            end = starts[i + 1][1] - 1 if i + 1 < len(starts) else len(self.pages) - 1
            out[title] = (start, max(start, end))
        return out


def _build(tmp_path_factory, name: str, *args: str) -> Built:
    repo = copy_repo(tmp_path_factory.mktemp(name))
    run_cli(repo, "build", "--renderer", "embedded", *args)
    return repo


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Built:
    repo = _build(tmp_path_factory, "synthetic")
    return Built(repo, "data/raw/synthetique-2023.csv")


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> Built:
    if not (REAL_2023.exists() and AGGREGATES_2022.exists()):
        pytest.skip("needs the real data in ../shared/data beside the repository")
    repo = _build(
        tmp_path_factory,
        "real",
        "--input",
        str(REAL_2023),
        "--previous-aggregates",
        str(AGGREGATES_2022),
    )
    return Built(repo, str(REAL_2023))


@pytest.fixture(params=["synthetic", "real"])
def built(request) -> Built:
    return request.getfixturevalue(request.param)


def test_every_chapter_is_present_not_empty_and_has_a_figure(built):
    spans = built.chapter_pages()
    for title in CHAPTERS.values():
        key = _normalise(title)
        assert key in spans, f"chapter {title!r} missing from the PDF outline {list(spans)}"
        first, last = spans[key]
        text = " ".join(built.pages[first : last + 1])
        assert len(text) > 600, f"chapter {title!r} is (almost) empty"
        # charts are vector drawings: a figure is known by its caption
        assert re.search(r"Figure \d+\.", text), f"chapter {title!r} has no figure"
    assert "Sommaire" in built.pages[1]


def test_pdf_states_bases_and_has_no_leftovers(built):
    text = " ".join(built.pages)
    assert text.count("Base : ") >= 40  # bases stated beside the figures and tables
    for leftover in ("?fig-", "?tbl-", "{pct}", "{wpct}", "{base}", "Traceback", "NaN", "nan %"):
        assert leftover not in text, leftover


def test_introduction_key_findings_equal_the_open_data_export(built, tmp_path):
    out = tmp_path / "tables.csv"
    run_cli(built.repo, "tables", "--edition", "2023", "--input", built.input, "--out", str(out))
    with out.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["stratum"] == "ensemble"]
    spans = built.chapter_pages()
    first, last = spans["Introduction"]
    intro = " ".join(built.pages[first : last + 1])
    table = intro[intro.index("Les chiffres clés") :]
    checked = 0
    for f in FINDINGS:
        if not f.intro:
            continue
        sel = [
            r
            for r in rows
            if r["question_id"] == f.question and r["option"] == f.option and r["item"] == f.item
        ]
        assert len(sel) == 1, (f.id, f.option)
        r = sel[0]
        expected = _normalise(
            f"{fmt.pct(float(r['pct']))} ({fmt.num(int(r['count']))} sur {fmt.num(int(r['base_n']))})"
        )
        start = _normalise(fmt.cap(f.label))[:25]
        assert start in table, f"key finding {f.label!r} not in the introduction"
        segment = table[table.index(start) :][:400]
        assert expected in segment, f"{f.id}: expected {expected!r} in {segment!r}"
        checked += 1
    assert 6 <= checked <= 8


def test_real_report_is_lean(real):
    """≤ 45 figures, one « L'essentiel » per chapter, no file name printed."""
    n_figures = sum(len(p.images) for p in real.reader.pages)
    assert n_figures <= 45, n_figures
    text = " ".join(real.pages)
    assert ".csv" not in text
    spans = real.chapter_pages()
    for name, title in CHAPTERS.items():
        first, last = spans[_normalise(title)]
        chapter_text = " ".join(real.pages[first : last + 1])
        expected = 0 if name in ("00-introduction", "99-notice-technique") else 1
        assert chapter_text.count("L'essentiel") == expected, title


def test_html_images_exist_and_have_alt_text(built):
    pages = sorted(built.book.glob("*.html"))
    assert {p.stem for p in pages} >= {"index", *CHAPTERS}
    n_img = 0
    for page in pages:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for img in soup.find_all("img"):
            n_img += 1
            assert (built.book / img["src"]).is_file(), f"{page.name}: broken image {img['src']}"
            assert img.get("alt", "").strip(), f"{page.name}: image without alt text"
        for a in soup.find_all("a", href=True):
            href = a["href"].split("#")[0]
            if href and not href.startswith(("http:", "https:", "mailto:")):
                assert (built.book / href).exists(), f"{page.name}: broken link {a['href']}"
    assert n_img >= len(CHAPTERS)


def test_no_personal_data_in_the_book(built):
    mail = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
    for path in built.book.rglob("*"):
        if path.suffix in (".html", ".typ", ".md"):
            found = mail.findall(path.read_text(encoding="utf-8"))
            assert not found, f"{path.name}: e-mail address(es) {found[:3]}"
    text = " ".join(built.pages)
    assert not mail.findall(text)


def test_synthetic_report_says_so_on_cover_and_every_chapter(synthetic):
    assert "Données synthétiques" in synthetic.pages[0]
    spans = synthetic.chapter_pages()
    for title in CHAPTERS.values():
        first, last = spans[_normalise(title)]
        text = " ".join(synthetic.pages[first : last + 1])
        assert "Données synthétiques" in text, title
    index = (synthetic.book / "index.html").read_text(encoding="utf-8")
    assert "Données synthétiques" in index


def test_real_report_does_not_claim_synthetic_data(real):
    assert "synthétique" not in " ".join(real.pages).lower()


def test_scope_restricted_report_is_coherent(synthetic):
    """`--scope epci metropole`: figures, prose and notice follow the restricted population."""
    run_cli(synthetic.repo, "build", "--renderer", "embedded", "--scope", "epci", "metropole")
    scoped = Built(synthetic.repo, synthetic.input)
    text = " ".join(scoped.pages)
    assert "Périmètre : les EPCI (hors métropoles) et métropoles" in text
    spans = scoped.chapter_pages()
    first, last = spans["Introduction"]
    intro = " ".join(scoped.pages[first : last + 1])
    composition = intro[intro.index("Répondants par strate") :][:600]
    assert "Communes" not in composition and "Départements" not in composition
    assert "EPCI (hors métropoles)" in composition and "Métropoles" in composition
    first, last = spans["Notice technique"]
    notice = " ".join(scoped.pages[first : last + 1])
    assert "Communes < 3 500" not in notice.split("Diagnostic des pondérations")[0][-2000:]
