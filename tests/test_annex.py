"""The annex of the questions no chapter shows (analysis.report.annex)."""

from __future__ import annotations

import nbformat
import pandas as pd

from analysis.report import annex
from analysis.survey.codebook import TABULATED, load


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell('# "acculturation" in prose is not a call')]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)


def test_shown_ids_come_from_the_chapters_code_cells(tmp_path):
    _notebook(tmp_path / "01-un.ipynb", "r.figure(\"ia_projets\")\nr.table('hebergement')")
    _notebook(tmp_path / "99-notice-technique.ipynb", 'r.figure("priorites")')
    assert annex.shown_question_ids(tmp_path) >= {"ia_projets", "hebergement"}
    assert not {"priorites", "acculturation"} & annex.shown_question_ids(tmp_path)
    cb = load(2023)
    unshown = annex.unshown_questions(cb, annex.shown_question_ids(tmp_path))
    assert [q.id for q in unshown] == [
        q.id for q in cb.of_type(*TABULATED) if q.id not in ("ia_projets", "hebergement")
    ]


def test_the_committed_chapters_leave_out_what_the_annex_lists():
    cb = load(2023)
    shown = annex.shown_question_ids()
    unshown = {q.id for q in annex.unshown_questions(cb, shown)}
    tabulated = {q.id for q in cb.of_type(*TABULATED)}
    assert unshown and unshown < tabulated
    assert unshown == tabulated - shown


class _Chapter:
    """What unshown_rows reads of a chapter: its codebook and its estimates."""

    codebook = load(2023)
    edition = 2023
    estimates = pd.DataFrame(
        {
            "question_id": ["hebergement"] * 3 + ["priorites"] * 3,
            "stratum": ["ensemble"] * 6,
            "item": ["", "", "", "Le pilotage", "Le pilotage", "La qualité"],
            "option": [
                "Sur des serveurs internes",
                "Je ne sais pas",
                "sans réponse",
                "rang 1",
                "rang 1 ou 2",
                "rang 1",
            ],  # fmt: skip
            "base_n": [50, 50, 50, 40, 40, 40],
            "pct": [30.0, 10.0, 60.0, 20.0, 70.0, 25.0],
            "suppressed": [False] * 6,
        }
    )


def test_rows_give_the_leading_answer_without_non_response():
    shown = {q.id for q in _Chapter.codebook.questions} - {"hebergement", "priorites"}
    rows = {r["question"].id: r for r in annex.unshown_rows(_Chapter(), shown)}
    assert set(rows) == {"hebergement", "priorites"}
    assert (rows["hebergement"]["answer"], rows["hebergement"]["pct"]) == (
        "Sur des serveurs internes", 30.0)  # fmt: skip
    assert rows["priorites"]["answer"] == "La qualité (classé premier)"
    assert rows["priorites"]["base"] == 40


def test_the_annex_cache_dependency_follows_the_other_chapters(tmp_path):
    """The build engine adds this text to the annex notebook's cache key (and nothing for a
    notebook without the annex), so a chapter that starts showing a question re-runs it."""
    from analysis.build import execute

    _notebook(tmp_path / "01-un.ipynb", 'r.figure("ia_projets")')
    notice = tmp_path / "99-notice-technique.ipynb"
    _notebook(notice, "annex.show_unshown(r)")
    before = annex.cache_dependency(notice)
    assert annex.cache_dependency(tmp_path / "01-un.ipynb") == ""
    job = execute.Job("99-notice-technique", notice, tmp_path / "out.ipynb", {})
    key = execute.cache_key(job, "code", tmp_path, annex.cache_dependency)
    _notebook(tmp_path / "01-un.ipynb", 'r.figure("ia_projets")', 'r.figure("hebergement")')
    assert annex.cache_dependency(notice) != before
    assert execute.cache_key(job, "code", tmp_path, annex.cache_dependency) != key
    assert execute.cache_key(job, "code", tmp_path) == execute.cache_key(job, "code", tmp_path)
