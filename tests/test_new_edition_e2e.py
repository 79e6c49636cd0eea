"""End-to-end: a new edition's export goes through `barometre codebook` → `frame` → `prepare`
→ `build` with no Python written (in a scratch copy of the repository); continuing questions
compare with the previous edition; a chapter naming a dropped question fails clearly; the
annex lists the new questions no chapter shows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from edition2024 import DROPPED, RENAMED, write_export
from repocopy import copy_repo, run

pytestmark = pytest.mark.slow

EXPORT = "data/raw/synthetique-2024.csv"


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    repo = copy_repo(tmp_path_factory.mktemp("repo-2024"))
    write_export(repo / EXPORT)
    return repo


def _py(repo: Path, code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_new_edition_without_python(repo):
    # 1. the codebook, drafted and linked to 2023; never overwritten without --force
    args = ("codebook", "--edition", "2024", "--input", EXPORT, "--previous-edition", "2023")
    out = run(repo, *args).stdout
    assert "dropped (in 2023, not in 2024): 3" in out and "new: 3" in out
    assert (repo / "data" / "codebook" / "2024.yaml").is_file()
    again = run(repo, *args, check=False)
    assert again.returncode == 2 and "--force" in again.stderr
    check = run(repo, "codebook", "--check", "--edition", "2024")
    assert "2024.yaml: valid" in check.stdout
    # 2. the frame and the processed dataset
    run(repo, "frame", "--edition", "2024")
    prepared = run(repo, "prepare", "--edition", "2024", "--input", EXPORT).stdout
    assert "synthetique-2024" in prepared
    # 3. continuing questions compare with 2023, reworded options through their mapping
    (qid, (old, new)), = RENAMED.items()  # fmt: skip
    got = _py(
        repo,
        "import json\n"
        "from analysis.build import prepare\n"
        "from analysis.report.chapters import chapter\n"
        "prev = prepare.prepare_cached(2023, __import__('pathlib').Path("
        "'data/raw/synthetique-2023.csv'))\n"
        "r = chapter('cybersecurite', edition=2024, previous_edition=2023,"
        " data_path='data/processed/synthetique-2024.parquet',"
        " previous_path=str(prev.path))\n"
        f"c = r.comparison[r.comparison['question_id'] == {qid!r}]\n"
        "print(json.dumps(sorted(set(zip(c['option'], c['previous_option'])))))\n",
    )
    pairs = {tuple(p) for p in json.loads(got.splitlines()[-1])}
    assert (new, old) in pairs
    # 4. a chapter naming a question the edition dropped fails: notebook, cell, question
    nb = nbformat.read(repo / "notebooks" / "06-cybersecurite.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(f'r.figure("{DROPPED[-1]}")'))
    nbformat.write(nb, repo / "notebooks" / "98-essai.ipynb")
    err = _py(
        repo,
        "from analysis.build import execute\n"
        "params = {'edition': 2024, 'previous_edition': None, "
        "'data_path': 'data/processed/synthetique-2024.parquet', 'previous_path': None,"
        " 'scope': ['all'], 'min_base': 5}\n"
        "try:\n"
        "    execute.run(execute.jobs_for(['98-essai'], params), n_jobs=1)\n"
        "except execute.ChapterError as exc:\n"
        "    print(exc)\n",
    )
    (repo / "notebooks" / "98-essai.ipynb").unlink()
    assert "chapter '98-essai' failed at cell" in err
    assert f'r.figure("{DROPPED[-1]}")' in err
    assert f"question {DROPPED[-1]!r} is not asked in edition 2024" in err
    # 5. the whole book: the chapters' sections on questions 2024 no longer asks stop the build,
    # each named; the researcher deletes those cells (no Python written) and builds again
    build = ("build", "--edition", "2024", "--previous-edition", "2023", "--input", EXPORT,
             "--previous-input", "data/raw/synthetique-2023.csv", "--renderer", "embedded",
             "--jobs", "2")  # fmt: skip
    first = run(repo, *build, check=False)
    assert first.returncode == 2
    assert any(f"question {q!r} is not asked in edition 2024" in first.stderr for q in DROPPED)
    assert "remove this call" in first.stderr
    for path in sorted((repo / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        kept = [c for c in nb.cells if not any(f'"{q}"' in c.source for q in DROPPED)]
        if len(kept) < len(nb.cells):
            nb.cells = kept
            nbformat.write(nb, path)
    run(repo, *build)
    assert (repo / "_book" / "barometre-data-territoires.pdf").stat().st_size > 10_000
    executed = nbformat.read(repo / "executed" / "99-notice-technique.ipynb", as_version=4)
    outputs = [
        "".join(o.get("data", {}).get("text/markdown", ""))
        for c in executed.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    ]
    annex = next(o for o in outputs if "{#tbl-questions-non-presentees}" in o)
    assert "Vos agents utilisent-ils des outils" in annex  # new questions
    assert "Pour quels usages ces outils" in annex
    assert "faire face à une cyberattaque" not in annex  # shown by its chapter
