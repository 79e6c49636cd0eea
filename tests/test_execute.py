"""The execution engine: cache keys, parallel papermill execution, failure reporting."""

from __future__ import annotations

import json

import nbformat
import pytest
from minibook import chapter_two, write_minibook

from analysis.build import execute


def _jobs(root, **params):
    base = {"data_path": "data/valeurs.json"}
    base.update(params)
    return execute.jobs_for(["01-un", "02-deux"], base, root)


def _run(root, **params):
    return {
        o.name: o.status
        for o in execute.run(_jobs(root, **params), root=root, progress=lambda m: None)
    }


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    root = write_minibook(tmp_path_factory.mktemp("book"))
    first = _run(root)
    assert first == {"01-un": "executed", "02-deux": "executed"}
    return root


def test_executed_notebooks_have_outputs_and_parameters(book):
    nb = nbformat.read(book / "executed" / "01-un.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    kinds = {k for o in outputs for k in o.get("data", {})}
    assert "text/markdown" in kinds and "image/png" in kinds
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    # no timestamps or machine paths recorded by papermill
    text = (book / "executed" / "01-un.ipynb").read_text(encoding="utf-8")
    assert "start_time" not in text and str(book) not in text


def test_unchanged_inputs_are_skipped(book):
    assert _run(book) == {"01-un": "cached", "02-deux": "cached"}


def test_parameter_change_reexecutes(book):
    assert _run(book, label="autre") == {"01-un": "executed", "02-deux": "executed"}
    assert _run(book) == {"01-un": "executed", "02-deux": "executed"}  # back to the default


def test_data_change_reexecutes(book):
    data = book / "data" / "valeurs.json"
    old = data.read_text(encoding="utf-8")
    data.write_text(json.dumps({"Oui": 60, "Non": 40}), encoding="utf-8")
    try:
        assert _run(book) == {"01-un": "executed", "02-deux": "executed"}
    finally:
        data.write_text(old, encoding="utf-8")
    assert _run(book) == {"01-un": "executed", "02-deux": "executed"}


def test_analysis_code_change_reexecutes(book):
    code = book / "analysis" / "code.py"
    code.write_text("VERSION = 2\n", encoding="utf-8")
    assert _run(book) == {"01-un": "executed", "02-deux": "executed"}
    assert _run(book) == {"01-un": "cached", "02-deux": "cached"}


def test_notebook_edit_reexecutes_only_that_chapter(book):
    nb = nbformat.read(book / "notebooks" / "02-deux.ipynb", as_version=4)
    nb.cells[1].source += "\n\nUne phrase ajoutée."
    nbformat.write(nb, book / "notebooks" / "02-deux.ipynb")
    assert _run(book) == {"01-un": "cached", "02-deux": "executed"}


def test_outputs_edited_by_hand_are_reexecuted(book):
    out = book / "executed" / "01-un.ipynb"
    out.write_text(out.read_text(encoding="utf-8").replace("Premier", "Faux"), encoding="utf-8")
    assert _run(book)["01-un"] == "executed"


def test_failing_chapter_names_chapter_cell_and_exception_and_keeps_previous(book):
    good = (book / "executed" / "02-deux.ipynb").read_bytes()
    nbformat.write(chapter_two(fail=True), book / "notebooks" / "02-deux.ipynb")
    try:
        with pytest.raises(execute.ChapterError) as err:
            _run(book)
        msg = str(err.value)
        assert "02-deux" in msg and "ValueError" in msg and "valeur attendue absente" in msg
        # execution count 4 (the injected parameters cell counts) and the failing line
        assert "cell [4]" in msg and "raise ValueError" in msg
        assert err.value.kept is not None and err.value.kept.exists()
        partial = nbformat.read(err.value.kept, as_version=4)
        assert any(
            o.get("output_type") == "error" for c in partial.cells for o in c.get("outputs", [])
        )
        assert (book / "executed" / "02-deux.ipynb").read_bytes() == good
    finally:
        nbformat.write(chapter_two(), book / "notebooks" / "02-deux.ipynb")
    assert _run(book)["02-deux"] == "executed"


def test_committed_notebooks_carry_no_outputs():
    from analysis.build.book import ROOT

    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks, "no chapter notebook in notebooks/"
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs"), f"{path.name} is committed with outputs"
                assert cell.get("execution_count") is None, f"{path.name} has execution counts"


def test_console_one_line_when_a_chapter_starts_and_one_when_it_ends_no_kernel_warning(
    tmp_path, capfd
):
    root = write_minibook(tmp_path)
    lines: list[str] = []
    execute.run(_jobs(root), root=root, n_jobs=1, force=True, progress=lines.append)
    marks = [ln.strip()[0] for ln in lines if ln.strip()[:1] in ("▶", "✓")]
    # one job at a time: each chapter's start line comes after the previous one's end line
    assert marks == ["▶", "✓", "▶", "✓"], lines
    assert all(" s)" in ln for ln in lines if ln.strip().startswith("✓"))
    err = capfd.readouterr().err  # the kernels' own stderr, inherited by this process
    assert "running over TCP" not in err and "IPKernelApp" not in err
    assert not list(root.glob("kernel*")), "IPC socket files left in the project"
