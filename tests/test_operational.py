"""Operational faults, through the real command: an output that is also an input, two runs in
one checkout, a full or read-only disk, inputs whose names differ only by their edition.

Each test checks the exit code, a message naming the file at fault, no traceback, and that the
previous outputs are left as they were (byte for byte, no visible leftover).
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT
from test_bad_inputs import BAD, assert_user_error, run_cli


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def _prepare(src: Path, out: Path, *more: str) -> subprocess.CompletedProcess:
    return run_cli(
        "prepare", "--edition", "2023", "--input", str(src), "--out-dir", str(out), *more
    )


# -- an output that is an input ----------------------------------------------------------------
def test_tables_refuses_an_output_that_is_its_input(tmp_path):
    src = tmp_path / "export.csv"
    shutil.copyfile(BAD / "clean.csv", src)
    before = src.read_bytes()
    proc = run_cli("tables", "--edition", "2023", "--input", str(src), "--out", str(src))
    assert_user_error(proc, re.escape(str(src)), "also an input", "--out")
    assert src.read_bytes() == before
    # the XLSX written beside the CSV counts too: --out export.xlsx would overwrite itself
    xlsx = tmp_path / "t.xlsx"
    proc = run_cli("tables", "--edition", "2023", "--input", str(src), "--out", str(xlsx))
    assert_user_error(proc, re.escape(str(xlsx)), "--out")
    assert src.read_bytes() == before and not xlsx.exists()


def test_prepare_refuses_to_write_over_its_input(tmp_path):
    """An export named like its own processed file (``x-2023.parquet``, a CSV misnamed)."""
    src = tmp_path / "x-2023.parquet"
    shutil.copyfile(BAD / "clean.csv", src)
    before = src.read_bytes()
    proc = _prepare(src, tmp_path)
    assert_user_error(proc, re.escape(str(src)), "also an input")
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [src.name]


# -- names -------------------------------------------------------------------------------------
def test_processed_names_keep_the_whole_input_name(tmp_path):
    a, b = tmp_path / "export.2023.csv", tmp_path / "export.2022.csv"
    shutil.copyfile(BAD / "clean.csv", a)
    shutil.copyfile(BAD / "field-export.csv", b)
    out = tmp_path / "out"
    assert _prepare(a, out).returncode == 0
    assert _prepare(b, out).returncode == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"{stem}{suffix}"
        for stem in ("export.2023", "export.2022-2023")
        for suffix in (".parquet", ".meta.json", ".drops.csv")
    ), names


# -- one run at a time ----------------------------------------------------------------------------
HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from analysis.build.lock import checkout_lock
    with checkout_lock(Path(sys.argv[1]), "build"):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def test_second_run_in_one_checkout_waits_or_refuses(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(ROOT), "4"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        proc = _prepare(BAD / "clean.csv", tmp_path / "a", "--no-wait")
        assert_user_error(proc, rf"`barometre build` \(pid {holder.pid}\)", "one run at a time")
        assert not (tmp_path / "a").exists()
        proc = _prepare(BAD / "clean.csv", tmp_path / "b")  # waits, then runs
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert f"waiting for `barometre build` (pid {holder.pid})" in proc.stderr
        assert holder.poll() is not None  # it ran after the holder had finished
    finally:
        holder.kill()
        holder.wait()


# -- a full disk, a read-only disk ----------------------------------------------------------------
def _limit_file_size(limit: int):
    def limit_it() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_it


def _refused_write(proc: subprocess.CompletedProcess, out: Path, before: dict[str, bytes]):
    err = assert_user_error(proc, re.escape(str(out)), "cannot write", "left in place")
    assert _snapshot(out) == before
    assert not [p for p in out.iterdir() if p.name not in before], list(out.iterdir())
    return err


def test_write_failure_keeps_the_previous_dataset(tmp_path):
    """Writes fail (file-size limit, as on a full disk): exit 2, the destination named, the
    three previous files as they were and no temporary file left."""
    src, out = tmp_path / "x.csv", tmp_path / "out"
    shutil.copyfile(BAD / "clean.csv", src)
    assert _prepare(src, out).returncode == 0
    before = _snapshot(out)
    shutil.copyfile(BAD / "field-export-twice.csv", src)
    proc = subprocess.run(
        [sys.executable, "-m", "analysis.cli", "prepare", "--edition", "2023",
         "--input", str(src), "--out-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        preexec_fn=_limit_file_size(4096),
    )  # fmt: skip
    _refused_write(proc, out, before)


@contextlib.contextmanager
def _tmpfs(path: Path, size: str):
    path.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small file system needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)])
    if done.returncode != 0:
        pytest.skip("mount not permitted here")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_full_disk_and_read_only_disk(tmp_path):
    src = tmp_path / "x.csv"
    shutil.copyfile(BAD / "clean.csv", src)
    with _tmpfs(tmp_path / "disk", "2m") as out:
        assert _prepare(src, out).returncode == 0
        before = _snapshot(out)
        shutil.copyfile(BAD / "field-export-twice.csv", src)
        filler = out / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as fh:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        # leave a few kB: enough for the metadata, not for the parquet file
        with filler.open("r+b") as fh:
            fh.truncate(filler.stat().st_size - 8192)
        before["filler"] = filler.read_bytes()
        err = _refused_write(_prepare(src, out), out, before)
        assert "No space left on device" in err
        filler.unlink()
        del before["filler"]
        subprocess.run(["mount", "-o", "remount,ro", str(out)], check=True)
        err = _refused_write(_prepare(src, out), out, before)
        assert "Read-only file system" in err


# -- too small a sample: the report says so ----------------------------------------------------
def test_too_small_a_sample_gives_a_report_that_says_so(tmp_path, capsys):
    """One respondent: every chart call of a chapter shows a placeholder saying why, the
    header says it, and nothing raises (no ChartError)."""
    from analysis.build import prepare as dataset
    from analysis.report.chapters import Chapter

    paths = dataset.processed_paths(BAD / "one-respondent.csv", tmp_path, 2023)
    meta = dataset.prepare(2023, BAD / "one-respondent.csv", *paths)
    assert meta["publishable"] is False and meta["counts"]["kept"] == 1
    ch = Chapter(name="t", edition=2023, data_path=str(paths[0]))
    assert ch.too_small
    capsys.readouterr()
    ch.header()
    for qid in ("dpo_nomme", "clauses_domaines", "projets_domaines", "priorites"):
        ch.figure(qid)
    ch.by_stratum("dpo_nomme", "Oui, en interne")
    ch.evolution("dpo_nomme")
    ch.table("dpo_nomme", "Oui, en interne")
    ch.sentence("{pct} des répondants ({n}).", "dpo_nomme", "Oui, en interne")
    out = capsys.readouterr().out
    assert out.count("Échantillon trop petit pour publier") >= 7, len(out)
    assert "non publié" in out and "n.s." in out


def test_related_outputs_are_one_unit(tmp_path, monkeypatch):
    """A rename that fails half-way: the destinations already replaced get their previous
    content back, and the error names the destination, not a temporary file."""
    from analysis.build import files

    a, b = tmp_path / "t.csv", tmp_path / "t.xlsx"
    a.write_text("old csv")
    b.write_text("old xlsx")
    real_replace = os.replace

    def failing(src, dst):
        if Path(dst) == b:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", failing)
    with pytest.raises(files.WriteError) as err:
        files.atomic_group([(a, "new csv"), (b, b"new xlsx")])
    monkeypatch.undo()
    assert str(err.value).startswith(f"{b}: cannot write (No space left on device)")
    assert (a.read_text(), b.read_text()) == ("old csv", "old xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.xlsx"]
    assert files.atomic_group([(a, "new csv"), (b, b"new xlsx")]) == [a, b]
    assert (a.read_text(), b.read_text()) == ("new csv", "new xlsx")


@pytest.mark.slow
def test_one_respondent_build_gives_a_report_that_says_so(tmp_path):
    """The whole command on a one-respondent export: the build completes (no chart error),
    warns, and the PDF says the sample is too small in every chapter."""
    import repocopy

    repo = repocopy.copy_repo(tmp_path / "repo")
    shutil.copyfile(BAD / "one-respondent.csv", repo / "data" / "raw" / "export-1.csv")
    proc = repocopy.run(
        repo, "build", "--renderer", "embedded", "--jobs", "2", "--input", "data/raw/export-1.csv"
    )
    assert "sample too small to publish: 1 complete response" in proc.stderr
    from pypdf import PdfReader

    pages = [" ".join(p.extract_text().split()) for p in PdfReader(repo / repocopy.PDF).pages]
    # every chapter opens with the notice: the six chapters and the introduction at least
    text = " ".join(pages)
    assert text.count("Échantillon trop petit pour publier") >= 7
    assert sum(p.count("non publié") for p in pages) >= 20
