"""The Quarto path, tested without Quarto (it cannot be installed here): the book's
configuration, the files it names, and the filter that reads the generated home-page part."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from conftest import ROOT

from analysis.build import render
from analysis.build.pipeline import SYNTHETIC_NOTICE, write_cover

CONFIG = yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))
FILTER = ROOT / "analysis" / "build" / "quarto" / "generated.lua"


def test_captions_say_tableau_and_chapters_are_numbered_alike_in_pdf_and_site():
    assert CONFIG["language"]["crossref-tbl-title"] == "Tableau"
    assert CONFIG["language"]["crossref-fig-title"] == "Figure"
    html, typst = CONFIG["format"]["html"], CONFIG["format"]["typst"]
    assert html["number-sections"] is True and typst["number-sections"] is True
    index = (ROOT / "index.qmd").read_text(encoding="utf-8")
    assert index.startswith("# Avant-propos {.unnumbered}")  # the preface has no number
    assert html["columns"] >= 1000 and typst["columns"] >= 1000  # natural table widths
    assert typst["papersize"] == "a4" and typst["mainfont"] == "DejaVu Sans"


def test_the_site_links_to_the_pdf():
    tools = CONFIG["book"]["sidebar"]["tools"]
    assert any(t["href"] == CONFIG["book"]["output-file"] + ".pdf" for t in tools)


def test_no_include_shortcode_quarto_would_resolve_before_pre_render():
    for qmd in ROOT.glob("*.qmd"):
        assert "{{< include" not in qmd.read_text(encoding="utf-8"), qmd.name
    paths = [f["path"] for f in CONFIG["filters"]]
    assert all((ROOT / p).is_file() for p in paths)


def test_gitignore_has_the_entries_quarto_would_add():
    lines = {ln.strip() for ln in (ROOT / ".gitignore").read_text().splitlines()}
    assert {"/.quarto/", "**/*.quarto_ipynb", "executed/", "_book/"} <= lines


def _meta(root, synthetic: bool):
    data = root / "data" / "processed"
    data.mkdir(parents=True)
    meta = {"synthetic": synthetic, "counts": {"kept": 211}}
    (data / "x.meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return {"edition": 2023, "previous_edition": 2022, "data_path": "data/processed/x.parquet"}


def test_build_writes_every_file_quarto_includes(tmp_path):
    params = _meta(tmp_path, True)
    write_cover(tmp_path, params, SYNTHETIC_NOTICE)
    html, typst = CONFIG["format"]["html"], CONFIG["format"]["typst"]
    assert "Données synthétiques" in (tmp_path / html["include-before-body"]).read_text()
    footer = (tmp_path / typst["include-in-header"]).read_text()
    assert "Données synthétiques" in footer and "counter(page)" in footer
    assert (tmp_path / typst["font-paths"] / "DejaVuSans.ttf").is_file()
    cover = (tmp_path / "executed" / "_cover.md").read_text()
    assert "Données synthétiques" in cover and "2e\u00a0édition" in cover


def test_real_data_leaves_the_notice_files_empty(tmp_path):
    write_cover(tmp_path, _meta(tmp_path, False), "")
    assert (tmp_path / "executed" / "_notice.html").read_text() == ""
    assert (tmp_path / "executed" / "_notice.typ").read_text() == ""


def _pandoc(cwd, text: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [render._pandoc_path(), f"--lua-filter={FILTER}", "-f", "markdown", "-t", "markdown"],
        input=text,
        capture_output=True,
        text=True,
        cwd=cwd,
    )


@pytest.mark.parametrize("present", [True, False])
def test_generated_filter_reads_the_file_or_says_what_to_run(tmp_path, present):
    if present:
        (tmp_path / "executed").mkdir()
        (tmp_path / "executed" / "_cover.md").write_text("**Édition 2023.**\n")
    proc = _pandoc(tmp_path, 'Avant.\n\n::: {.generated file="executed/_cover.md"}\n:::\n')
    if present:
        assert proc.returncode == 0 and "**Édition 2023.**" in proc.stdout
    else:
        assert proc.returncode != 0
        assert "executed/_cover.md is missing: run `make notebooks`" in proc.stderr
