"""Interrupted and failed builds leave the last complete outputs in place.

On the session's built repository copy (tests/repocopy.py): builds killed with SIGKILL while
preparing, while executing the chapters and while rendering; a build whose chapter raises. After
each, ``_book/index.html``, the PDF and ``data/processed/*.parquet`` are byte-identical to the
last complete build, no new visible file appeared in an output directory (a killed writer's
leftovers are hidden ``.…tmp`` files or ``.…new-…`` directories), and the next build succeeds,
sweeps those leftovers and gives the same bytes. (tests/test_execute.py covers the chapter
failure of the execution engine alone; this is the whole command.)
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
import repocopy

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> repocopy.Built:
    return repocopy.built(tmp_path_factory)


def _watched(repo: Path, clock: bool = True) -> dict[str, bytes]:
    """The files a reader takes: index.html, the PDF (without its clock stamps unless
    ``clock``) and the processed datasets."""
    files = [repo / "_book" / "index.html", repo / repocopy.PDF]
    files += sorted((repo / "data" / "processed").glob("*.parquet"))
    assert len(files) == 4, files
    out = {p.relative_to(repo).as_posix(): p.read_bytes() for p in files}
    if not clock:
        out[repocopy.PDF] = repocopy.pdf_without_clock(out[repocopy.PDF])
    return out


def _all_files(repo: Path) -> set[str]:
    """Every entry under the output directories and beside them (hidden ones included)."""
    out = set()
    for d in (".", *repocopy.OUTPUT_DIRS):
        base = repo / d
        if not base.is_dir():
            continue
        entries = base.iterdir() if d == "." else base.rglob("*")
        out |= {p.relative_to(repo).as_posix() for p in entries}
    return out


def _is_hidden_temporary(rel: str) -> bool:
    parts = rel.split("/")
    return any(
        p.startswith(".") and (p.endswith(".tmp") or ".new-" in p or p.endswith(".old"))
        for p in parts
    )


def _start(repo: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        repocopy.cli(*args),
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(proc: subprocess.Popen, marker: str, timeout: float = 600) -> list[str]:
    """Read the build's progress lines until one contains ``marker``."""
    seen, t0 = [], time.monotonic()
    for line in proc.stderr:
        seen.append(line)
        if marker in line:
            return seen
        assert time.monotonic() - t0 < timeout, "".join(seen)[-2000:]
    raise AssertionError(f"the build ended before {marker!r}:\n{''.join(seen)[-2000:]}")


def _check_kept(built: repocopy.Built, before: dict[str, bytes], files_before: set[str]) -> None:
    repo = built.repo
    assert _watched(repo) == before
    new = _all_files(repo) - files_before
    visible = sorted(n for n in new if not _is_hidden_temporary(n))
    assert not visible, visible


def _recovers(built: repocopy.Built, before: dict[str, bytes], files_before: set[str]) -> None:
    """The next build completes, sweeps what the killed one left, and gives the same bytes."""
    repo = built.repo
    repocopy.run(repo, *repocopy.BUILD)
    before = dict(before, **{repocopy.PDF: repocopy.pdf_without_clock(before[repocopy.PDF])})
    assert _watched(repo, clock=False) == before
    leftovers = sorted(n for n in _all_files(repo) - files_before if _is_hidden_temporary(n))
    assert not leftovers, leftovers
    book = {k: v for k, v in built.hashes.items() if k.startswith("_book/")}
    assert repocopy.tree_hashes(repo, ("_book",)).keys() == book.keys()
    changed = {k for k, v in repocopy.tree_hashes(repo, ("_book",)).items() if book[k] != v}
    assert changed <= {repocopy.PDF}, changed  # the PDF differs by its clock stamps only


def test_killed_prepare_keeps_the_last_dataset(built):
    """``barometre prepare`` killed as soon as it starts replacing the parquet file (``build
    --force`` does not redo a prepared dataset whose input and code are unchanged)."""
    repo = built.repo
    before, files_before = _watched(repo), _all_files(repo)
    processed = repo / "data" / "processed"
    parquet = processed / (Path(repocopy.SEEDED).stem + ".parquet")
    inode = parquet.stat().st_ino
    proc = _start(repo, "prepare", "--edition", "2023", "--input", repocopy.SEEDED)
    try:
        t0 = time.monotonic()
        while not (
            list(processed.glob(f".{parquet.name}.*.tmp")) or parquet.stat().st_ino != inode
        ):
            assert proc.poll() is None, proc.stderr.read()[-2000:]
            assert time.monotonic() - t0 < 300
            time.sleep(0.002)
    finally:
        repocopy.kill_tree(proc)
    _check_kept(built, before, files_before)
    _recovers(built, before, files_before)


@pytest.mark.parametrize(
    ("marker", "delay", "force"),
    [
        ("executing", 5.0, True),  # chapters running in worker processes and kernels
        ("rendering with", 1.0, False),  # the book being written aside
    ],
    ids=["execute", "render"],
)
def test_killed_build_keeps_the_last_complete_report(built, marker, delay, force):
    repo = built.repo
    before, files_before = _watched(repo), _all_files(repo)
    if not force:  # only the rendering is due: drop its stamp
        (repo / ".build" / "cache" / "render.json").unlink()
    proc = _start(repo, *repocopy.BUILD, *(("--force",) if force else ()))
    try:
        seen = _wait_for(proc, marker)
        time.sleep(delay)
        assert proc.poll() is None, "".join(seen)[-2000:]  # still running: killed mid-way
    finally:
        repocopy.kill_tree(proc)
    _check_kept(built, before, files_before)
    _recovers(built, before, files_before)


def test_failing_chapter_keeps_the_book(built):
    repo = built.repo
    before, files_before = _watched(repo), _all_files(repo)
    book_before = repocopy.tree_hashes(repo, ("_book", "data/processed"))
    source = repo / "notebooks" / "05-ia.ipynb"
    original = source.read_bytes()
    nb = nbformat.reads(original.decode("utf-8"), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('raise RuntimeError("chapitre en échec (test)")'))
    source.write_text(nbformat.writes(nb), encoding="utf-8")
    try:
        proc = repocopy.run(repo, *repocopy.BUILD, check=False)
    finally:
        source.write_bytes(original)
    err = proc.stderr
    assert proc.returncode == 2, err[-3000:]
    last = err.strip().splitlines()
    message = err[err.index("error: ") :]
    assert "Traceback" not in message, message
    assert "chapter '05-ia' failed" in message and "chapitre en échec (test)" in message
    assert "previous report and executed notebooks are left untouched" in message
    assert last, err
    _check_kept(built, before, files_before)
    assert repocopy.tree_hashes(repo, ("_book", "data/processed")) == book_before
    failed = repo / ".build" / "failed" / "05-ia.ipynb"
    assert failed.is_file() and "chapitre en échec" in failed.read_text(encoding="utf-8")
    # restored: the chapter runs again and the book is the same
    repocopy.run(repo, *repocopy.BUILD)
    assert repocopy.tree_hashes(repo, ("_book", "data/processed")) == book_before
    stamp = json.loads((repo / ".build" / "cache" / "render.json").read_text(encoding="utf-8"))
    assert stamp["key"].startswith("embedded:")


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_stops_every_worker_and_kernel_and_one_build_at_a_time(built):
    """A second build in the same checkout refuses while one runs (``--no-wait``); SIGTERM to
    the running build stops it with its workers and kernels, and the outputs are kept."""
    repo = built.repo
    before, files_before = _watched(repo), _all_files(repo)
    proc = _start(repo, *repocopy.BUILD, "--force")
    try:
        seen = _wait_for(proc, "executing")
        time.sleep(4.0)
        second = repocopy.run(repo, *repocopy.BUILD, "--no-wait", check=False)
        assert second.returncode == 2, second.stderr[-2000:]
        assert re.search(rf"`barometre build` \(pid {proc.pid}\)", second.stderr)
        assert "one run at a time" in second.stderr and "Traceback" not in second.stderr
        tree = repocopy.descendants(proc.pid)
        assert len(tree) >= 2, "".join(seen)[-2000:]  # notebook workers and their kernels
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        rest = proc.stderr.read()
    finally:
        repocopy.kill_tree(proc)
    assert proc.returncode == 143, rest[-2000:]
    assert "terminated" in rest and "Traceback" not in rest, rest[-2000:]
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in tree) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in tree if _alive(p)]
    assert os.getpid() not in tree
    _check_kept(built, before, files_before)
    _recovers(built, before, files_before)
