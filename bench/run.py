"""Benchmark of the build: ``make bench`` → a table on stdout and ``bench/results.json``.

Every build scenario runs in a scratch copy of the repository (``bench/.work/repo``) so that
the developer's own outputs and caches are left alone. Figures are wall-clock seconds, median
and min–max over ``--runs`` runs (default 3).

- ``floor``: papermill executing one notebook that only imports pandas, matplotlib and
  seaborn — the unavoidable cost of a kernel; ``floor_build`` = notebooks × floor / jobs;
- ``cold_build``: ``barometre build`` with empty caches and outputs (HTML + PDF);
- ``noop_rebuild``: the same build again, nothing changed;
- ``one_chapter_edited``: one notebook's prose changed;
- ``data_changed``: one answer of the input export changed (every chapter re-executes);
- ``prepare_*``: prepare + tables in-process (imports warm) on the real 2023 export (when
  ``../shared`` is present) and on synthetic exports of 1×, 10× and 100× its size (the
  design-based tables need a frame at least as large as the sample: the synthetic k× exports
  are estimated on the 2023 frame scaled by k);
- ``estimates_real``: the design-based estimates (``method="frame"``) of every question × option
  × group of the real export, in-process, the processed dataset already read (target ≤ 1 s).
  ``python bench/run.py --only estimates_real`` runs this measure alone (no scratch copy);
- ``chapters``: each notebook's execution time minus the floor, and its kernel's peak memory;
- ``render_cached``: a build whose notebooks are all cached but whose book is rendered again
  (the render stamp removed): the embedded renderer on the whole book, HTML + PDF.
  ``python bench/run.py --only render_cached`` runs this measure alone (in the scratch copy);
- ``notes_2000``: ``barometre notes`` for about 2 000 synthetic respondents (figures + one PDF
  each, ``--jobs`` processes; the export is prepared beforehand, untimed): seconds and notes
  per second. ``--only notes`` runs this measure alone (merged into ``results.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
REPO = WORK / "repo"
PY = sys.executable
REAL = ROOT.parent / "shared" / "data" / "enquete-2023" / "reponses-2023.csv"
REAL_SIZE = 200  # responses analysed per edition, about (191 kept in 2023)

FLOOR_NB = nbformat.v4.new_notebook(
    cells=[nbformat.v4.new_code_cell("import pandas\nimport matplotlib.pyplot\nimport seaborn")],
    metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
)


def stats(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def timed(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench: command failed: {' '.join(cmd)}")
    return seconds


def copy_repo() -> None:
    """A scratch copy of the tracked files (and the git-ignored executed outputs: none)."""
    if REPO.exists():
        shutil.rmtree(REPO)
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for f in filter(None, files):
        src = ROOT / f.decode()
        if src.is_file() and not src.is_relative_to(ROOT / "bench"):
            dst = REPO / f.decode()
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def build_cmd() -> list[str]:
    return [PY, "-m", "analysis.cli", "build", "--renderer", "embedded"]


def clean_outputs() -> None:
    for d in ("_book", ".build", "executed", "data/processed"):
        shutil.rmtree(REPO / d, ignore_errors=True)


def n_chapters() -> int:
    return len(list((REPO / "notebooks").glob("*.ipynb")))


def floor(runs: int) -> list[float]:
    nb = WORK / "floor.ipynb"
    nbformat.write(FLOOR_NB, nb)
    code = (
        "import papermill as pm, sys; "
        f"pm.execute_notebook({str(nb)!r}, {str(WORK / 'floor-out.ipynb')!r}, "
        "kernel_name='python3', progress_bar=False)"
    )
    # the kernel's cost only: time the execution inside one process per run
    out = []
    for _ in range(runs):
        t = subprocess.run(
            [
                PY,
                "-c",
                f"import time; import papermill; t=time.perf_counter(); {code}; "
                "print(time.perf_counter()-t)",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        out.append(float(t.stdout.strip().splitlines()[-1]))
    return out


def edit_chapter(i: int) -> None:
    path = REPO / "notebooks" / "02-organisation.ipynb"
    nb = nbformat.read(path, as_version=4)
    md = next(c for c in nb.cells if c.cell_type == "markdown")
    md.source += f"\n\n<!-- bench edit {i} -->"
    nbformat.write(nb, path)


def change_data(i: int) -> None:
    """Change one answer of the input export (a valid option for another valid one).

    Edited with the csv module so that every other byte-level detail (the empty heading,
    quoting) stays as the export has it.
    """
    import csv

    from analysis.survey import codebook

    path = REPO / "data" / "raw" / "synthetique-2023.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    cb = codebook.load(2023)
    q = next(q for q in cb.of_type("single") if q.asked_if is None and len(q.options) >= 2)
    col = rows[0].index(q.columns[0].heading)
    row = 1 + i % (len(rows) - 1)
    rows[row][col] = next(o for o in q.options if o != rows[row][col])
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def per_chapter(floor_s: float, jobs: int) -> dict:
    """Each notebook alone (``jobs`` at a time), with its parameters; the peak RSS of its
    kernel, a child of the process that runs papermill."""
    from concurrent.futures import ThreadPoolExecutor

    params = json.loads((REPO / ".build" / "bench-params.json").read_text())

    def one(nb: Path) -> tuple[str, dict]:
        out_nb = WORK / f"chapter-{nb.stem}.ipynb"
        code = (
            "import json, resource, time, papermill as pm\n"
            f"p = json.loads({json.dumps(json.dumps(params))})\n"
            "t = time.perf_counter()\n"
            f"pm.execute_notebook({str(nb)!r}, {str(out_nb)!r}, parameters=p,"
            f" kernel_name='python3', progress_bar=False, cwd={str(REPO)!r})\n"
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        )
        res = subprocess.run([PY, "-c", code], capture_output=True, text=True, cwd=REPO)
        if res.returncode != 0:
            sys.stderr.write(res.stderr)
            raise SystemExit(f"bench: chapter {nb.stem} failed")
        seconds, peak_kb = res.stdout.strip().splitlines()[-1].split()
        return nb.stem, {
            "seconds_above_floor": round(float(seconds) - floor_s, 3),
            "peak_mb": round(int(peak_kb) / 1024, 1),
        }

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return dict(pool.map(one, sorted((REPO / "notebooks").glob("*.ipynb"))))


def prepare_tables(path: Path, edition: int, runs: int, scale: int = 1) -> list[float]:
    from analysis.build import prepare as dataset
    from analysis.build import writers
    from analysis.survey.reference import load_frame

    frame = {s: n * scale for s, n in load_frame(edition).counts.items()}
    out_dir = Path(tempfile.mkdtemp(dir=WORK))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        res = dataset.prepare_cached(edition, path, out_dir=out_dir, root=REPO, force=True)
        writers.tables_for(res.path, edition, out_dir / "tables.csv", xlsx=False, frame=frame)
        times.append(time.perf_counter() - t0)
    return times


def estimates_real(runs: int, root: Path) -> list[float]:
    """Design-based estimates of every question × option × group on the real export."""
    import pandas as pd

    from analysis.build import prepare as dataset
    from analysis.stats.estimates import estimate_all
    from analysis.survey import codebook

    out_dir = Path(tempfile.mkdtemp(dir=WORK))
    res = dataset.prepare_cached(2023, REAL, out_dir=out_dir, root=root, force=True)
    df, cb = pd.read_parquet(res.path), codebook.load(2023)
    estimate_all(df, cb, method="frame")  # warm
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        estimate_all(df, cb, method="frame")
        times.append(time.perf_counter() - t0)
    return times


#: Synthetic responses giving about 2 000 kept respondents (half never start or stop early).
NOTES_RESPONSES = 3_900


def notes_bench(runs: int, jobs: int) -> dict:
    """``make_notes`` on ~2 000 synthetic respondents: seconds and notes per second."""
    from analysis.build import notes, writers
    from analysis.build import prepare as dataset

    path = WORK / "synthetique-bench-notes.csv"
    if not path.exists():
        writers.write_synthetic_export(2023, n=NOTES_RESPONSES, seed=7, out=path)
    prepared = dataset.prepare_cached(2023, path, out_dir=WORK / "notes-processed", root=ROOT)
    times, res = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        res = notes.make_notes(prepared.path, 2023, WORK / "notes", jobs=jobs)
        times.append(time.perf_counter() - t0)
    out = stats(times)
    out.update(
        notes=res.count,
        respondents=prepared.meta["counts"]["kept"],
        jobs=jobs,
        notes_per_second=round(res.count / out["median"], 1),
        seconds_figures=round(res.seconds_contexts, 3),
    )
    return out


def render_cached(runs: int) -> list[float]:
    """The render alone: notebooks cached, the render stamp removed before each run."""
    timed(build_cmd(), REPO)  # everything executed and cached
    out = []
    for _ in range(runs):
        (REPO / ".build" / "cache" / "render.json").unlink(missing_ok=True)
        out.append(timed(build_cmd(), REPO))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument(
        "--only",
        choices=["estimates_real", "notes", "render_cached"],
        help="run this measure alone",
    )
    args = ap.parse_args()
    runs = max(3, args.runs)
    WORK.mkdir(parents=True, exist_ok=True)
    if args.only == "estimates_real":
        if not REAL.exists():
            print("estimates_real: no ../shared data", file=sys.stderr)
            return 1
        print(json.dumps({"estimates_real": stats(estimates_real(runs, ROOT))}, indent=2))
        return 0
    if args.only == "notes":
        path = ROOT / "bench" / "results.json"
        results = json.loads(path.read_text()) if path.exists() else {}
        print("notes (2 000 respondents)…", file=sys.stderr)
        results["notes_2000"] = notes_bench(runs, args.jobs)
        path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        print(notes_line(results["notes_2000"]))
        return 0
    copy_repo()
    if args.only == "render_cached":
        print(json.dumps({"render_cached": stats(render_cached(runs))}))
        return 0
    sys.path.insert(0, str(REPO))
    results: dict = {}

    print("floor…", file=sys.stderr)
    fl = floor(runs)
    results["floor"] = stats(fl)
    n = n_chapters()
    fb = [v * n / args.jobs for v in fl]
    results["floor_build"] = stats(fb)

    print("cold build…", file=sys.stderr)
    cold = []
    for _ in range(runs):
        clean_outputs()
        cold.append(timed(build_cmd(), REPO))
    results["cold_build"] = stats(cold)

    print("no-op rebuild…", file=sys.stderr)
    results["noop_rebuild"] = stats([timed(build_cmd(), REPO) for _ in range(runs)])

    print("one chapter edited…", file=sys.stderr)
    edited = []
    for i in range(runs):
        edit_chapter(i)
        edited.append(timed(build_cmd(), REPO))
    results["one_chapter_edited"] = stats(edited)

    print("data changed…", file=sys.stderr)
    changed = []
    for i in range(runs):
        change_data(i)
        changed.append(timed(build_cmd(), REPO))
    results["data_changed"] = stats(changed)

    # parameters of the last build, for the per-chapter runs
    from analysis.build.pipeline import BuildConfig, prepare_inputs

    params, _ = prepare_inputs(BuildConfig(root=REPO), lambda m: None)
    (REPO / ".build" / "bench-params.json").write_text(json.dumps(params))

    print("prepare + tables…", file=sys.stderr)
    from analysis.build import writers

    prepare_tables(REPO / "data" / "raw" / "synthetique-2023.csv", 2023, 1)  # warm imports
    if REAL.exists():
        results["prepare_real"] = stats(prepare_tables(REAL, 2023, runs))
    else:
        results["prepare_real"] = None
    for k in (1, 10, 100):
        path = WORK / f"synthetique-bench-{k}x.csv"
        if not path.exists():
            writers.write_synthetic_export(2023, n=REAL_SIZE * k, seed=k, out=path)
        results[f"prepare_{k}x"] = stats(prepare_tables(path, 2023, runs, scale=k))
    results["estimates_real"] = stats(estimates_real(runs, REPO)) if REAL.exists() else None

    print("notes (2 000 respondents, one run: ~1 min on an idle machine)…", file=sys.stderr)
    results["notes_2000"] = notes_bench(1, args.jobs)

    print("render with cached notebooks…", file=sys.stderr)
    results["render_cached"] = stats(render_cached(runs))

    print("chapters…", file=sys.stderr)
    results["chapters"] = per_chapter(results["floor"]["median"], args.jobs)
    results["ratio_cold_to_floor_build"] = round(
        results["cold_build"]["median"] / results["floor_build"]["median"], 2
    )
    results["machine"] = {"cores": os.cpu_count(), "jobs": args.jobs, "notebooks": n}

    (ROOT / "bench" / "results.json").write_text(
        json.dumps(results, indent=2, sort_keys=True) + "\n"
    )
    print(table(results))
    return 0


def table(r: dict) -> str:
    lines = [f"{'measure':<22}{'median s':>10}{'min':>9}{'max':>9}", "-" * 50]
    for key in (
        "floor",
        "floor_build",
        "cold_build",
        "noop_rebuild",
        "one_chapter_edited",
        "data_changed",
        "render_cached",
        "prepare_real",
        "prepare_1x",
        "prepare_10x",
        "prepare_100x",
        "estimates_real",
    ):
        v = r.get(key)
        if v is None:
            lines.append(f"{key:<22}{'(no ../shared data)':>28}")
        else:
            lines.append(f"{key:<22}{v['median']:>10.3f}{v['min']:>9.3f}{v['max']:>9.3f}")
    lines.append(f"{'cold / floor_build':<22}{r['ratio_cold_to_floor_build']:>10.2f}")
    if r.get("notes_2000"):
        lines.append(notes_line(r["notes_2000"]))
    lines += ["", f"{'chapter':<24}{'s above floor':>14}{'peak MB':>10}", "-" * 48]
    for name, c in r["chapters"].items():
        lines.append(f"{name:<24}{c['seconds_above_floor']:>14.3f}{c['peak_mb']:>10.1f}")
    return "\n".join(lines)


def notes_line(v: dict) -> str:
    return (
        f"{'notes_2000':<22}{v['median']:>10.3f}{v['min']:>9.3f}{v['max']:>9.3f}"
        f"   {v['notes']} notes, {v['notes_per_second']} notes/s ({v['jobs']} jobs)"
    )


if __name__ == "__main__":
    sys.exit(main())
