"""A scratch copy of the repository, built once per test session, for the end-to-end tests of
privacy, atomicity and reproducibility (tests/test_privacy.py, test_atomic.py,
test_reproducible.py).

The copy holds the tracked files only; the developer's own outputs are never touched. Its input
is the embedded synthetic 2023 export with planted personal data (:data:`SECRETS`): fake
e-mails, names and phone numbers in the identity columns, in an extra "Téléphone" column and
inside free-text answers, and hostile HTML in a free-text answer. The build is the real command
(``python -m analysis.cli build --renderer embedded --jobs 2 --input …``), then ``tables``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from conftest import ROOT

from analysis.survey.codebook import load

#: The seeded export, relative to the copy (its name marks it synthetic).
SEEDED = "data/raw/synthetique-secrets-2023.csv"
TABLES = "data/exports/tables-2023.csv"
PDF = "_book/barometre-data-territoires.pdf"
OUTPUT_DIRS = ("_book", "executed", "data/processed", "data/exports")
FIRST, LAST = "Zéphyrine", "Quintalbert"
EMAIL = "zephyrine.quintalbert@exemple-secret.fr"
PHONES = ("06 98 76 54 32", "+33 6 98 76 54 33", "01.98.76.54.34")
JOB = "Cheffe du projet Hirondelle"
SCRIPT = "<script>alert('barometre')</script>"
#: Strings that must not appear in any output (any case, with or without accents).
SECRETS = (FIRST, LAST, EMAIL, "exemple-secret", "98 76 54", "98.76.54", "Hirondelle")
FREE_TEXT = f"Contact : {FIRST} {LAST}, {PHONES[0]} / {PHONES[1]} / {PHONES[2]}, écrire à {EMAIL}"
#: How many complete responses get the planted identity and text.
PLANTED = 12


def copy_repo(dest: Path) -> Path:
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for f in filter(None, files):
        src = ROOT / f.decode()
        if src.is_file():
            target = dest / f.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    return dest


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "analysis.cli", *args]


def run(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(cli(*args), cwd=repo, capture_output=True, text=True, timeout=1200)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


BUILD = ("build", "--renderer", "embedded", "--jobs", "2", "--input", SEEDED)
TABLES_CMD = ("tables", "--edition", "2023", "--input", SEEDED, "--out", TABLES)


def seed_export(repo: Path) -> Path:
    """Write the seeded export beside the embedded one."""
    cb = load(2023)
    src = repo / "data" / "raw" / "synthetique-2023.csv"
    with src.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]

    def col(qid: str) -> int:
        return header.index(cb[qid].columns[0].heading)

    complete = [r for r in rows[1:] if r[col("numerique_responsable")]]
    texts = [header.index(c.heading) for q in cb.of_type("text") for c in q.columns]
    header.append("Téléphone")
    for k, r in enumerate(rows[1:]):
        r.append(PHONES[k % len(PHONES)])
    planted = 0
    for r in complete:
        filled = [i for i in texts if r[i]]
        if not filled:
            continue
        r[col("courriel")], r[col("prenom")], r[col("nom")] = EMAIL, FIRST, LAST
        r[col("fonction")] = JOB
        r[filled[0]] = FREE_TEXT
        if len(filled) > 1:
            r[filled[1]] = f"{SCRIPT} <b>{LAST}</b>"
        planted += 1
        if planted == PLANTED:
            break
    assert planted == PLANTED, planted
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    out = repo / SEEDED
    out.write_text(buf.getvalue(), encoding="utf-8")
    return out


_PDF_CLOCK = (
    (re.compile(rb"D:\d{14}(?:Z|[+-]\d\d'?\d\d'?)?"), b"D:0"),
    (re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"), b"T0"),
    (re.compile(rb"/ID\s*\[\s*[(<][^)>]*[)>]\s*[(<][^)>]*[)>]\s*\]"), b"/ID[]"),
    (re.compile(rb"<xmpMM:InstanceID>[^<]*</xmpMM:InstanceID>"), b"<xmpMM:InstanceID/>"),
)


def pdf_without_clock(data: bytes) -> bytes:
    """The PDF with its creation/modification dates, /ID and XMP instance id blanked: what
    the renderer stamps from the clock (typst is given no fixed timestamp); the rest kept."""
    for pattern, repl in _PDF_CLOCK:
        data = pattern.sub(repl, data)
    return data


def tree_hashes(repo: Path, dirs: tuple[str, ...] = OUTPUT_DIRS) -> dict[str, str]:
    """sha256 of every file under the output directories (hidden temporary files included)."""
    out = {}
    for d in dirs:
        base = repo / d
        if base.is_dir():
            for p in sorted(base.rglob("*")):
                if p.is_file():
                    out[p.relative_to(repo).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@dataclass
class Built:
    repo: Path
    hashes: dict[str, str]
    seconds: float
    tables_seconds: float


_BUILT: dict[str, Built] = {}


def built(tmp_path_factory, name: str = "a") -> Built:
    """The copy ``name``, seeded, built and tabulated: once per session and name."""
    if name not in _BUILT:
        repo = copy_repo(tmp_path_factory.mktemp(f"repo-{name}"))
        seed_export(repo)
        t0 = time.perf_counter()
        run(repo, *BUILD)
        t1 = time.perf_counter()
        run(repo, *TABLES_CMD)
        t2 = time.perf_counter()
        _BUILT[name] = Built(repo, tree_hashes(repo), t1 - t0, t2 - t1)
    return _BUILT[name]


# -- processes -------------------------------------------------------------------------------------
def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc), children first."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL a build and every process it started (notebook workers, kernels), by id."""
    pids = [proc.pid, *descendants(proc.pid)]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=60)
