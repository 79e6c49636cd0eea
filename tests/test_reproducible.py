"""Same inputs, same outputs: two builds give byte-identical data, tables, figures and pages.

Synthetic (slow, always): two scratch copies of the repository at different paths, built in
separate processes (different hash seeds) from the same seeded synthetic export
(tests/repocopy.py), then ``barometre tables``. Real (when ../shared is present): ``prepare``
and the open-data tables twice on the real 2023 export, in subprocesses with different hash
seeds. The processed dataset's metadata records the hashes of its inputs (export, codebook,
frame, reference) and the code version.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import repocopy
from conftest import ROOT
from pypdf import PdfReader

from analysis.fingerprint import sha256_file, sha256_tree


@pytest.fixture(scope="module")
def two(tmp_path_factory) -> tuple[repocopy.Built, repocopy.Built]:
    return repocopy.built(tmp_path_factory, "a"), repocopy.built(tmp_path_factory, "b")


def _part(built: repocopy.Built, prefix: str, suffix: str = "") -> dict[str, str]:
    return {k: v for k, v in built.hashes.items() if k.startswith(prefix) and k.endswith(suffix)}


@pytest.mark.slow
def test_processed_data_is_byte_identical(two):
    a, b = two
    processed = _part(a, "data/processed/")
    names = {Path(k).name for k in processed}
    stem = Path(repocopy.SEEDED).stem
    assert {f"{stem}.parquet", f"{stem}.meta.json", f"{stem}.drops.csv"} <= names
    assert processed == _part(b, "data/processed/")


@pytest.mark.slow
def test_tables_csv_and_xlsx_are_byte_identical(two):
    a, b = two
    tables = _part(a, "data/exports/")
    assert {Path(k).suffix for k in tables} == {".csv", ".xlsx"}
    assert tables == _part(b, "data/exports/")


@pytest.mark.slow
def test_figures_pages_and_executed_notebooks_are_byte_identical(two):
    a, b = two
    figures = _part(a, "_book/figures/", ".svg")
    assert len(figures) >= 20
    assert figures == _part(b, "_book/figures/", ".svg")
    pages = {k: v for k, v in _part(a, "_book/").items() if k != repocopy.PDF}
    assert pages == {k: v for k, v in _part(b, "_book/").items() if k != repocopy.PDF}
    executed = _part(a, "executed/")
    assert len(executed) >= 9 and executed.keys() == _part(b, "executed/").keys()
    for rel in executed:
        assert _notebook(a.repo / rel) == _notebook(b.repo / rel), rel


def _notebook(path: Path) -> dict:
    """An executed notebook, with the id papermill draws at random for the cell it injects
    (the one difference left between two executions; see analysis/build/execute.py)."""
    if path.suffix != ".ipynb":
        return {"bytes": path.read_bytes()}
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "injected-parameters"
    return nb


@pytest.mark.slow
def test_pdf_has_the_same_text_and_differs_by_its_clock_stamps_only(two):
    a, b = two
    pdf_a, pdf_b = (x.repo / repocopy.PDF for x in two)
    text_a = [p.extract_text() for p in PdfReader(pdf_a).pages]
    text_b = [p.extract_text() for p in PdfReader(pdf_b).pages]
    assert len(text_a) > 10 and text_a == text_b
    assert repocopy.pdf_without_clock(pdf_a.read_bytes()) == repocopy.pdf_without_clock(
        pdf_b.read_bytes()
    )


@pytest.mark.slow
def test_metadata_records_inputs_and_code(two):
    a, _ = two
    repo = a.repo
    stem = Path(repocopy.SEEDED).stem
    text = (repo / "data" / "processed" / f"{stem}.meta.json").read_text(encoding="utf-8")
    meta = json.loads(text)
    assert meta["input_sha256"] == sha256_file(repo / repocopy.SEEDED)
    assert meta["codebook_sha256"] == sha256_file(repo / "data" / "codebook" / "2023.yaml")
    assert meta["frame_sha256"] == sha256_file(repo / "data" / "frames" / "2023.yaml")
    reference = [p for p in (repo / "data" / "reference").iterdir() if p.is_file()]
    assert meta["reference_sha256"] == sha256_tree(reference, repo / "data" / "reference")
    sources = [
        p
        for p in (repo / "analysis").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in (".py", ".html", ".typ")
    ]
    expected = f"{metadata.version('barometre')}+{sha256_tree(sources, repo)[:12]}"
    assert meta["code_version"] == expected
    assert meta["reference_version"].startswith("@etalab/decoupage-administratif@")
    assert meta["synthetic"] is True
    # nothing that varies between machines or runs
    assert str(repo) not in text and "/tmp" not in text
    assert not re.search(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d", text)


# -- the real 2023 export ---------------------------------------------------------------------------
_REAL_RUN = """
import sys
from pathlib import Path
from analysis.build import prepare as dataset
from analysis.build import writers
src, out = Path(sys.argv[1]), Path(sys.argv[2])
meta = dataset.prepare(2023, src, out / "r.parquet", out / "r.meta.json", out / "r.drops.csv")
writers.tables_for(out / "r.parquet", 2023, out / "tables.csv")
"""


@pytest.mark.real
def test_real_prepare_and_tables_are_byte_identical(real_2023, tmp_path):
    runs = []
    for seed in ("1", "2"):
        out = tmp_path / f"run{seed}"
        out.mkdir()
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run(
            [sys.executable, "-c", _REAL_RUN, str(real_2023), str(out)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir()})
    assert set(runs[0]) == {"r.parquet", "r.meta.json", "r.drops.csv", "tables.csv", "tables.xlsx"}
    assert runs[0] == runs[1]
    meta = json.loads((tmp_path / "run1" / "r.meta.json").read_text(encoding="utf-8"))
    assert meta["input_sha256"] == sha256_file(real_2023)
    assert meta["counts"]["kept"] == 191  # the published cleaning rule (README)
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{12}", meta["code_version"])
