"""``barometre notes``: every positioning note of an edition, on any executor, written as one unit.

The contexts are computed once in this process from the processed dataset
(:func:`analysis.report.notes.contexts`: vectorised peer figures); the rendering — the only
per-note cost — runs in batches on a ``concurrent.futures`` executor: a local
``ProcessPoolExecutor`` by default, the inline loop for ``jobs=1``, or a Dask cluster's
``Client(address).get_executor()`` when a scheduler address is given (the workers need the
``barometre`` package installed; they receive the template's bytes and the contexts, and
return PDF bytes, so they need no access to this machine's files).

Outputs: ``<out>/note-<response_id>.pdf`` and ``<out>/index.csv`` (``file``,
``response_id``, ``stratum``), built in a temporary directory beside ``<out>`` and swapped in
place at the end: a failure leaves the previous notes untouched. A note whose page count is
outside :data:`analysis.report.notes.PAGES` fails the run (the template must be fixed).
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import io
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from analysis.build.files import atomic_dir
from analysis.report import notes as nt
from analysis.survey import codebook as cbmod
from analysis.survey import processed


@dataclass
class NotesResult:
    out_dir: Path
    count: int
    pages: dict[int, int]
    seconds: float
    seconds_contexts: float
    matched_previous: int
    executor: str
    files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        pages = ", ".join(f"{k} pages: {v}" for k, v in sorted(self.pages.items()))
        return (
            f"{self.out_dir}: {self.count} notes ({pages}) in {self.seconds:.2f} s "
            f"({self.seconds_contexts:.2f} s for the figures; {self.executor}); "
            f"{self.matched_previous} matched to the previous edition"
        )


def _batches(items: list, n: int) -> list[list]:
    n = max(1, min(n, len(items)))
    size = -(-len(items) // n)
    return [items[i : i + size] for i in range(0, len(items), size)]


class _Inline(cf.Executor):
    """The calling process itself (``jobs=1``): no pool to start."""

    def submit(self, fn, /, *args, **kwargs):
        f: cf.Future = cf.Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            f.set_exception(exc)
        return f


def executor_for(jobs: int | None, scheduler: str | None):
    """``(executor, workers, description, close)`` for the given options."""
    if scheduler:
        from distributed import Client

        client = Client(scheduler)
        workers = max(1, sum(client.nthreads().values()))

        def close():
            client.close()

        return client.get_executor(), workers, f"dask scheduler {scheduler}", close
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1:
        return _Inline(), 1, "1 process", lambda: None
    # forkserver, not fork: a child forked from a process that already ran typst (its thread
    # pools) can hang; the server process imports the renderer once, then forks the workers
    mp = multiprocessing.get_context("forkserver")
    mp.set_forkserver_preload(["analysis.report.notes"])
    ex = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=mp)
    return ex, jobs, f"{jobs} processes", lambda: ex.shutdown(cancel_futures=True)


def make_notes(
    data_path: Path,
    edition: int,
    out_dir: Path,
    *,
    previous_path: Path | None = None,
    previous_edition: int | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
    executor: cf.Executor | None = None,
    template: Path | None = None,
    spec_dir: Path | None = None,
    say: Callable[[str], None] | None = None,
) -> NotesResult:
    """Write every note of the processed dataset ``data_path`` into ``out_dir``."""
    t0 = time.perf_counter()
    codebook = cbmod.load(edition)
    spec = nt.load_spec(edition, codebook, spec_dir)
    df = processed.load(data_path)
    meta = processed.load_meta(data_path)
    prev = prev_cb = None
    if previous_path is not None:
        prev = processed.load(previous_path)
        prev_cb = cbmod.load(previous_edition or edition - 1)
    contexts = nt.contexts(
        df,
        spec,
        codebook,
        previous=prev,
        previous_codebook=prev_cb,
        synthetic=bool(meta.get("synthetic")),
    )
    t_ctx = time.perf_counter() - t0
    tpl = nt.read_template(template)
    if say:
        say(f"  {len(contexts)} notes to render (figures computed in {t_ctx:.2f} s)")
    close = lambda: None  # noqa: E731
    if executor is None:
        executor, workers, desc, close = executor_for(jobs, scheduler)
    else:
        workers, desc = max(1, jobs or 1), type(executor).__name__
    pages: dict[int, int] = {}
    files: list[str] = []
    bad: list[str] = []
    try:
        with atomic_dir(out_dir) as tmp:
            futures = [
                executor.submit(nt.render_batch, tpl, b)
                for b in _batches(contexts, workers * 4)
                if b
            ]
            for f in cf.as_completed(futures):
                for name, pdf, n in f.result():
                    (tmp / name).write_bytes(pdf)
                    pages[n] = pages.get(n, 0) + 1
                    files.append(name)
                    if not nt.PAGES[0] <= n <= nt.PAGES[1]:
                        bad.append(f"{name} ({n} pages)")
            if bad:
                raise nt.NotesError(
                    f"{len(bad)} note(s) outside {nt.PAGES[0]}–{nt.PAGES[1]} pages, e.g. "
                    f"{', '.join(sorted(bad)[:3])}: shorten or lengthen the template "
                    f"({nt.template_path() if template is None else template}); previous notes "
                    "kept"
                )
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(["file", "response_id", "stratum"])
            for c in contexts:
                w.writerow([c["file"], c["response_id"], c["stratum"]])
            (tmp / "index.csv").write_text(buf.getvalue(), encoding="utf-8")
    finally:
        close()
    return NotesResult(
        out_dir=Path(out_dir),
        count=len(contexts),
        pages=pages,
        seconds=time.perf_counter() - t0,
        seconds_contexts=t_ctx,
        matched_previous=sum(c["previous"] is not None for c in contexts),
        executor=desc,
        files=sorted(files),
    )
