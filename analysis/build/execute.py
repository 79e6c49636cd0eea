"""Execution engine: run the chapter notebooks with papermill, in parallel, with a content cache.

A chapter is re-executed only when its *cache key* changes. The key hashes everything the
executed notebook depends on:

- the notebook's source (cells' sources and metadata, outputs ignored),
- its parameters,
- the content of every input data file named by a ``*_path`` parameter (and its ``.meta.json``),
- the source of the ``analysis`` package and the codebooks and frames under ``data/``.

So a data change or a code change re-executes, and nothing else does (Quarto's ``freeze`` only
watches the notebook source). Executed notebooks are written atomically into ``executed/``;
a failing notebook is kept under ``.build/failed/`` for inspection and the previous executed
notebook stays in place.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.build.book import BUILD, EXECUTED, ROOT
from analysis.build.files import atomic_write
from analysis.fingerprint import code_fingerprint, sha256_file

CACHE_VERSION = 1
#: A hook applied to each executed notebook (JSON dict, changed in place).
Postprocess = Callable[[dict], None]
START_TIMEOUT = 180  # seconds for a kernel to start: generous, the machine may be busy
CELL_TIMEOUT = 900


class ChapterError(RuntimeError):
    """A chapter notebook raised during execution."""

    def __init__(
        self,
        chapter: str,
        cell: int | None,
        ename: str,
        evalue: str,
        kept: Path | None,
        source: str = "",
    ):
        self.chapter, self.cell, self.ename, self.evalue, self.kept, self.source = (
            chapter,
            cell,
            ename,
            evalue,
            kept,
            source,
        )
        where = f"cell [{cell}]" if cell is not None else "kernel start"
        first = next(
            (ln for ln in source.splitlines() if ln.strip() and not ln.startswith("#|")), ""
        )
        if first:
            where += f" (`{first.strip()[:80]}`)"
        msg = f"chapter {chapter!r} failed at {where}: {ename}: {evalue}"
        if kept is not None:
            msg += f"\n  the partially executed notebook is kept for inspection: {kept}"
        msg += "\n  the previous report and executed notebooks are left untouched"
        super().__init__(msg)

    def __reduce__(self):  # picklable across the process pool
        return (
            type(self),
            (self.chapter, self.cell, self.ename, self.evalue, self.kept, self.source),
        )


@dataclass(frozen=True)
class Job:
    """One notebook to execute."""

    name: str  # chapter stem, e.g. "01-motivations"
    source: Path  # committed notebook
    output: Path  # executed notebook
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class Outcome:
    name: str
    status: str  # "executed" | "cached"
    seconds: float
    key: str


# -- cache keys ------------------------------------------------------------------------------
def notebook_fingerprint(path: Path) -> str:
    """Hash of a notebook's cells (source + metadata), ignoring outputs and execution counts."""
    with path.open(encoding="utf-8") as fh:
        nb = json.load(fh)
    cells = [
        {"t": c.get("cell_type"), "s": "".join(c.get("source", "")), "m": c.get("metadata", {})}
        for c in nb.get("cells", [])
    ]
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    blob = json.dumps({"cells": cells, "kernel": kernel}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def input_files(parameters: Mapping[str, Any], root: Path = ROOT) -> list[Path]:
    """Data files a notebook reads: the values of its ``*_path`` parameters (and metadata)."""
    found: list[Path] = []
    for key, value in sorted(parameters.items()):
        if not key.endswith("_path") or not value:
            continue
        p = Path(value)
        p = p if p.is_absolute() else root / p
        if p.is_file():
            found.append(p)
            meta = p.with_suffix(".meta.json")
            if meta.is_file():
                found.append(meta)
    return found


def cache_key(
    job: Job, code: str, root: Path = ROOT, depends: Callable[[Path], str] | None = None
) -> str:
    """The job's cache key: its cells, parameters, input data, the code fingerprint, and what
    the caller's ``depends`` hook says the notebook also depends on (text, "" for nothing)."""
    h = hashlib.sha256()
    h.update(f"v{CACHE_VERSION}\0".encode())
    h.update(notebook_fingerprint(job.source).encode())
    h.update(json.dumps(dict(job.parameters), sort_keys=True, default=str).encode())
    for p in input_files(job.parameters, root):
        h.update(p.name.encode() + b"\0" + sha256_file(p).encode())
    h.update(code.encode())
    if depends is not None:
        h.update(depends(job.source).encode())
    return h.hexdigest()


def _stamp_path(root: Path, name: str) -> Path:
    return root / BUILD / "cache" / f"{name}.json"


def is_fresh(job: Job, key: str, root: Path = ROOT) -> bool:
    stamp = _stamp_path(root, job.name)
    if not (stamp.is_file() and job.output.is_file()):
        return False
    try:
        data = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return data.get("key") == key and data.get("output_sha256") == sha256_file(job.output)


# -- execution -------------------------------------------------------------------------------
def _run_one(job: Job, root: str, postprocess: Postprocess | None = None) -> tuple[str, float]:
    """Execute one notebook (in a worker process). Returns (name, seconds)."""
    import logging

    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    logging.getLogger("papermill").setLevel(logging.WARNING)
    rootp = Path(root)
    tmp_dir = rootp / BUILD / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"{job.name}.ipynb"
    t0 = time.perf_counter()
    env_backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    sockets = Path(tempfile.mkdtemp(prefix="barometre-kernel-"))
    try:
        pm.execute_notebook(
            str(job.source),
            str(tmp),
            parameters=dict(job.parameters),
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            start_timeout=START_TIMEOUT,
            execution_timeout=CELL_TIMEOUT,
            cwd=str(rootp),
            kernel_manager_class=_ipc_kernel_manager(sockets),
        )
    except PapermillExecutionError as exc:
        kept = _keep_failed(rootp, job, tmp)
        raise ChapterError(
            job.name, exc.exec_count, exc.ename, exc.evalue, kept, exc.source or ""
        ) from None
    except Exception as exc:  # kernel died, timeout, bad notebook…
        kept = _keep_failed(rootp, job, tmp)
        raise ChapterError(job.name, None, type(exc).__name__, str(exc), kept) from None
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
        if env_backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = env_backend
    _normalise_executed(tmp, postprocess)
    job.output.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, job.output)
    return job.name, time.perf_counter() - t0


def _ipc_kernel_manager(sockets: Path):
    """A kernel manager whose kernel talks over local IPC sockets (in ``sockets``), not TCP:
    no port is opened, and the kernel has no reason to warn about unencrypted TCP."""
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", str(sockets / "kernel"))
            super().__init__(**kwargs)

    return IPCKernelManager


def _keep_failed(root: Path, job: Job, tmp: Path) -> Path | None:
    if not tmp.exists():
        return None
    failed = root / BUILD / "failed" / f"{job.name}.ipynb"
    failed.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, failed)
    return failed


def _normalise_executed(path: Path, postprocess: Postprocess | None = None) -> None:
    """Drop timestamps and machine paths papermill records, so executed notebooks are stable;
    then apply the caller's ``postprocess`` hook to the notebook (a dict, changed in place)."""
    with path.open(encoding="utf-8") as fh:
        nb = json.load(fh)
    meta = nb.get("metadata", {})
    pm_meta = meta.get("papermill", {})
    for k in (
        "start_time",
        "end_time",
        "duration",
        "input_path",
        "output_path",
        "environment_variables",
    ):
        pm_meta.pop(k, None)
    for i, cell in enumerate(nb.get("cells", [])):
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = f"injected-parameters-{i}"  # papermill gives it a random id
        cell.get("metadata", {}).pop("execution", None)
        cell.get("metadata", {}).get("papermill", {}).clear()
    if postprocess is not None:
        postprocess(nb)
    atomic_write(path, json.dumps(nb, ensure_ascii=False, indent=1, sort_keys=True) + "\n")


def run(
    jobs: Iterable[Job],
    *,
    n_jobs: int | None = None,
    force: bool = False,
    root: Path = ROOT,
    progress: Callable[[str], None] | None = None,
    postprocess: Postprocess | None = None,
    depends: Callable[[Path], str] | None = None,
) -> list[Outcome]:
    """Execute the jobs whose cache key changed, in parallel; raise ChapterError on failure.

    ``postprocess``: called on each executed notebook (a dict) before it is written; a
    module-level function (it crosses the process pool). ``depends``: what else a notebook's
    result depends on, as text added to its cache key. The engine does not know what they do.
    """
    jobs = list(jobs)
    say = progress or (lambda msg: print(msg, file=sys.stderr, flush=True))
    code = code_fingerprint(root)
    keys = {j.name: cache_key(j, code, root, depends) for j in jobs}
    todo = [j for j in jobs if force or not is_fresh(j, keys[j.name], root)]
    outcomes = [Outcome(j.name, "cached", 0.0, keys[j.name]) for j in jobs if j not in todo]
    for o in outcomes:
        say(f"  = {o.name} (unchanged, cached)")
    if not todo:
        return _ordered(outcomes, jobs)
    n_jobs = max(1, min(n_jobs or os.cpu_count() or 1, len(todo)))
    say(f"executing {len(todo)} notebook(s) with {n_jobs} process(es)…")
    for j in todo:
        j.output.parent.mkdir(parents=True, exist_ok=True)
    ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    pool = ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=_worker_init)
    try:
        # at most n_jobs chapters in flight, so that each starts when it is submitted: its
        # "▶" line is printed when it starts, its "✓" line when it ends
        queue = list(todo)
        futures: dict = {}
        pending: set = set()
        while queue or pending:
            while queue and len(pending) < n_jobs:
                j = queue.pop(0)
                fut = pool.submit(_run_one, j, str(root), postprocess)
                futures[fut] = j
                pending.add(fut)
                say(f"  ▶ {j.name}")
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                job = futures[fut]
                exc = fut.exception()
                if exc is not None:
                    for other in pending:
                        other.cancel()
                    raise exc
                name, seconds = fut.result()
                _write_stamp(root, job, keys[name])
                outcomes.append(Outcome(name, "executed", seconds, keys[name]))
                say(f"  ✓ {name} ({seconds:.1f} s)")
    except BaseException:
        # Ctrl-C, a failing chapter: stop the other workers and their kernels now rather
        # than waiting for them (executed/ keeps its previous notebooks either way)
        _kill_workers(pool)
        raise
    pool.shutdown(wait=True)
    return _ordered(outcomes, jobs)


def _worker_init() -> None:
    """Workers leave Ctrl-C to the parent, which stops them; they die with their kernels."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "setpgid"):
        os.setpgid(0, 0)  # own process group: the parent can kill a worker with its kernel


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    import signal

    procs = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, AttributeError):
            pass


def _write_stamp(root: Path, job: Job, key: str) -> None:
    data = {"key": key, "output_sha256": sha256_file(job.output)}
    atomic_write(_stamp_path(root, job.name), json.dumps(data, sort_keys=True) + "\n")


def _ordered(outcomes: list[Outcome], jobs: list[Job]) -> list[Outcome]:
    order = {j.name: i for i, j in enumerate(jobs)}
    return sorted(outcomes, key=lambda o: order[o.name])


def jobs_for(
    chapters: Iterable[str], parameters: Mapping[str, Any], root: Path = ROOT
) -> list[Job]:
    """Jobs for chapter stems, reading ``notebooks/<stem>.ipynb`` into ``executed/``."""
    return [
        Job(
            name=stem,
            source=root / "notebooks" / f"{stem}.ipynb",
            output=root / EXECUTED / f"{stem}.ipynb",
            parameters=dict(parameters),
        )
        for stem in chapters
    ]
