"""The ``barometre`` command.

Sub-commands: ``codebook`` (draft a new edition's codebook from its export, or check one),
``build`` (prepare, execute the chapters, render HTML + PDF), ``prepare``
(export → processed dataset), ``tables`` (open-data CSV/XLSX of every aggregate), ``notes`` (a
confidential positioning note per respondent who asked for the results), ``synth``
(synthetic LimeSurvey export), ``frame`` (national frame of an edition from the reference).

Errors a user can act on are printed as one clear message with exit code 2; the traceback
is shown only with ``--debug``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

#: Exceptions whose message is meant for the user (no traceback unless --debug).
_USER_ERRORS = (
    "analysis.survey.codebook.CodebookError",
    "analysis.survey.ingest.IngestError",
    "analysis.build.execute.ChapterError",
    "analysis.build.render.RenderError",
    "analysis.build.book.ProjectError",
    "analysis.survey.processed.DatasetError",
    "analysis.survey.reference.ReferenceError",
    "analysis.survey.enrich.EnrichError",
    "analysis.stats.weights.WeightsError",
    "analysis.stats.published.AggregatesError",
    "analysis.survey.synth.SynthError",
    "analysis.report.notes.NotesError",
    "analysis.survey.draft.DraftError",
    "analysis.survey.schema.SchemaError",
    "analysis.survey.lss.LssError",
    "analysis.build.files.WriteError",
    "analysis.build.lock.LockError",
)
#: Exit status after SIGTERM (128 + 15, as a shell reports a process ended by it).
TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that the workers and kernels are stopped as for
    Ctrl-C (analysis.build.execute kills them on any BaseException) and outputs stay as they
    were."""


def _on_sigterm(signum, frame):  # noqa: ARG001
    raise Terminated()


def _is_user_error(exc: BaseException) -> bool:
    for cls in type(exc).__mro__:
        if f"{cls.__module__}.{cls.__qualname__}" in _USER_ERRORS:
            return True
    return isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--debug", action="store_true", help="show the full traceback on error")


def _add_lock(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="stop at once if another build, prepare or tables runs in this checkout "
        "(default: wait for it, saying so)",
    )


def _locked(args: argparse.Namespace, root: Path | None = None):
    """The checkout's lock (one build, prepare or tables at a time)."""
    from analysis.build.book import ROOT
    from analysis.build.lock import checkout_lock

    return checkout_lock(root or ROOT, args.command, wait=not args.no_wait)


def _add_limits(p: argparse.ArgumentParser) -> None:
    from analysis.build.prepare import DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS

    p.add_argument(
        "--max-bytes",
        type=int,
        default=None,
        help=f"refuse an export larger than this (default {DEFAULT_MAX_BYTES}; 0 = no limit)",
    )
    p.add_argument(
        "--max-rows",
        type=int,
        default=None,
        help=f"refuse an export with more responses (default {DEFAULT_MAX_ROWS}; 0 = no limit)",
    )


def _cmd_build(args: argparse.Namespace) -> int:
    from analysis.build.book import project_root
    from analysis.build.pipeline import BuildConfig, build

    cfg = BuildConfig(
        root=project_root(),
        edition=args.edition,
        previous_edition=args.previous_edition,
        input=args.input,
        previous_input=None if args.previous_aggregates else args.previous_input,
        previous_aggregates=args.previous_aggregates,
        scope=args.scope,
        min_base=args.min_base,
        renderer=args.renderer,
        jobs=args.jobs,
        force=args.force,
        execute_only=args.execute_only,
        max_bytes=args.max_bytes,
        max_rows=args.max_rows,
    )
    with _locked(args):
        result = build(cfg)
    n_exec = sum(o.status == "executed" for o in result.outcomes)
    print(
        f"build done in {result.seconds:.2f} s: {n_exec} notebook(s) executed, "
        f"{len(result.outcomes) - n_exec} cached"
        + (f", rendered with {result.rendered}" if result.rendered else "")
    )
    return 0


def _cmd_prepare(args: argparse.Namespace) -> int:
    from analysis.build import prepare as dataset

    with _locked(args):
        res = dataset.prepare_cached(
            args.edition,
            Path(args.input),
            out_dir=Path(args.out_dir) if args.out_dir else None,
            force=True,
            method=args.method,
            max_bytes=args.max_bytes,
            max_rows=args.max_rows,
        )
    print(res.summary())
    warning = dataset.too_small(res.meta, Path(args.input))
    if warning:
        print(warning, file=sys.stderr)
    return 0


def _cmd_tables(args: argparse.Namespace) -> int:
    from analysis.build import prepare as dataset
    from analysis.build import writers

    out = Path(args.out)
    # the CSV and the XLSX beside it: neither may be the export (nor one another)
    dataset.refuse_overlap([Path(args.input)], [out, out.with_suffix(".xlsx")], "--out")
    with _locked(args):
        res = dataset.prepare_cached(
            args.edition, Path(args.input), max_bytes=args.max_bytes, max_rows=args.max_rows
        )
        dataset.refuse_overlap([res.path, res.meta_path, res.drops_path], [out], "--out")
        path = writers.tables_for(
            res.path,
            args.edition,
            out,
            method=args.method,
            min_base=args.min_base,
            interval=args.interval,
        )
    warning = dataset.too_small(res.meta, Path(args.input))
    if warning:
        print(warning, file=sys.stderr)
    print(f"wrote {path}")
    return 0


def _cmd_notes(args: argparse.Namespace) -> int:
    from analysis.build import notes
    from analysis.build import prepare as dataset

    res = dataset.prepare_cached(
        args.edition, Path(args.input), max_bytes=args.max_bytes, max_rows=args.max_rows
    )
    previous = None
    previous_edition = args.previous_edition or args.edition - 1
    if args.previous_input:
        previous = dataset.prepare_cached(
            previous_edition,
            Path(args.previous_input),
            max_bytes=args.max_bytes,
            max_rows=args.max_rows,
        ).path
    result = notes.make_notes(
        res.path,
        args.edition,
        Path(args.out),
        previous_path=previous,
        previous_edition=previous_edition,
        jobs=args.jobs,
        scheduler=args.scheduler,
        say=print,
    )
    print(result.summary())
    return 0


def _cmd_synth(args: argparse.Namespace) -> int:
    from analysis.build import writers

    path = writers.write_synthetic_export(
        args.edition, n=args.n, seed=args.seed, out=Path(args.out)
    )
    print(f"wrote {path}")
    return 0


def _cmd_frame(args: argparse.Namespace) -> int:
    from analysis.survey import reference

    path = reference.write_frame(args.edition, reference.load_reference(), force=args.force)
    print(f"wrote {path}")
    return 0


def _cmd_codebook(args: argparse.Namespace) -> int:
    from .build.writers import write_codebook
    from .survey import codebook as cbmod
    from .survey import draft

    directory = Path(args.out) if args.out else cbmod.CODEBOOK_DIR
    if args.check:
        cb = cbmod.load(args.edition, directory)
        n_review = _count_reviews(cb.path)
        print(
            f"{cb.path}: valid ({len(cb.questions)} questions"
            + (f"; {n_review} question(s) still carry a 'review:' note" if n_review else "")
            + ")"
        )
        return 0
    if not args.input or args.previous_edition is None and not args.no_previous:
        raise draft.DraftError(
            "codebook: give --input <export.csv> and --previous-edition <year> "
            "(or --no-previous for a first edition)"
        )
    target = directory / f"{args.edition}.yaml"
    if target.exists() and not args.force:
        raise draft.DraftError(
            f"{target} exists: it may hold a person's corrections — pass --force to replace it, "
            "or --out <directory> to draft elsewhere"
        )
    previous = None if args.no_previous else cbmod.load(args.previous_edition)
    result = draft.draft(Path(args.input), args.edition, previous=previous, lss=args.lss)
    path = write_codebook(result, directory, force=args.force)
    print(result.summary.text())
    print(
        f"wrote {path}: review the questions with a 'review:' note, then run "
        f"`barometre frame --edition {args.edition}` and `barometre prepare --edition "
        f"{args.edition} --input {args.input}`"
    )
    return 0


def _count_reviews(path: Path | None) -> int:
    import yaml

    if path is None:
        return 0
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return sum(1 for q in raw.get("questions", []) if isinstance(q, dict) and q.get("review"))


def parser() -> argparse.ArgumentParser:
    from analysis.build.pipeline import (
        DEFAULT_EDITION,
        DEFAULT_INPUT,
        DEFAULT_PREVIOUS_EDITION,
        DEFAULT_PREVIOUS_INPUT,
    )

    p = argparse.ArgumentParser(
        prog="barometre",
        description="Baromètre de la data dans les territoires: data pipeline and report.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser(
        "build",
        help="prepare the data, execute the chapter notebooks, render HTML + PDF",
        description="Prepare the processed datasets, execute every chapter notebook (papermill, "
        "cached on notebook, parameters, data and code), then render _book/ with Quarto when "
        "it is on PATH, otherwise with the embedded renderer (pandoc + typst).",
    )
    b.add_argument(
        "--edition", type=int, default=DEFAULT_EDITION, help="edition year (default %(default)s)"
    )
    b.add_argument(
        "--previous-edition",
        type=int,
        default=DEFAULT_PREVIOUS_EDITION,
        help="edition compared with (default %(default)s)",
    )
    b.add_argument(
        "--input",
        default=DEFAULT_INPUT,
        help="LimeSurvey export of the edition (default: embedded synthetic data)",
    )
    b.add_argument(
        "--previous-input",
        default=DEFAULT_PREVIOUS_INPUT,
        help="export of the previous edition (microdata)",
    )
    b.add_argument(
        "--previous-aggregates",
        default=None,
        help="published aggregate table of the previous edition (instead of microdata)",
    )
    b.add_argument(
        "--scope",
        nargs="+",
        default=["all"],
        help="strata covered (default: all), e.g. epci metropole",
    )
    b.add_argument(
        "--min-base",
        type=int,
        default=5,
        help="suppress figures whose base is below this (default %(default)s)",
    )
    b.add_argument(
        "--renderer",
        choices=["auto", "quarto", "embedded"],
        default="auto",
        help="auto = quarto if on PATH, else embedded",
    )
    b.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count(),
        help="parallel notebook processes (default: cores = %(default)s)",
    )
    b.add_argument("--force", action="store_true", help="ignore the caches and redo everything")
    _add_limits(b)
    _add_lock(b)
    b.add_argument(
        "--execute-only",
        action="store_true",
        help="execute the notebooks but do not render (used by Quarto's pre-render)",
    )
    _add_common(b)
    b.set_defaults(func=_cmd_build)

    pr = sub.add_parser(
        "prepare",
        help="turn an export into the processed dataset",
        description="Ingest, enrich, clean and weight an export; write data/processed/<name>.parquet, its metadata and its drop log.",
    )
    pr.add_argument("--edition", type=int, required=True)
    pr.add_argument("--input", required=True, help="LimeSurvey export (CSV)")
    pr.add_argument("--out-dir", default=None, help="output directory (default data/processed)")
    pr.add_argument(
        "--method",
        default="observatoire",
        choices=["observatoire", "frame", "raking"],
        help="default weight column",
    )
    _add_limits(pr)
    _add_lock(pr)
    _add_common(pr)
    pr.set_defaults(func=_cmd_prepare)

    t = sub.add_parser(
        "tables",
        help="write the open-data CSV (and XLSX) of every aggregate",
        description="One long tidy CSV of every aggregate of the edition, and an .xlsx with one sheet per chapter.",
    )
    t.add_argument("--edition", type=int, required=True)
    t.add_argument(
        "--input",
        default=DEFAULT_INPUT,
        help="LimeSurvey export (default: embedded synthetic data)",
    )
    t.add_argument("--out", required=True, help="output CSV path")
    t.add_argument(
        "--method",
        default="frame",
        choices=["frame", "observatoire", "raking"],
        help="population estimates: frame (design-based, default), observatoire (published "
        "weights), raking (see docs/estimation.md)",
    )
    t.add_argument(
        "--interval",
        default="logit",
        choices=["logit", "beta"],
        help="interval of estimates over several strata (frame, raking)",
    )
    t.add_argument("--min-base", type=int, default=5)
    _add_limits(t)
    _add_lock(t)
    _add_common(t)
    t.set_defaults(func=_cmd_tables)

    n = sub.add_parser(
        "notes",
        help="one confidential positioning note (PDF) per respondent who asked for the results",
        description="For every structure that asked for the results: a 2-4 page PDF placing its "
        "answers beside its peers and all respondents (docs/notes.md), and OUT/index.csv. "
        "Wording and layout: data/templates/note.typ and note-<edition>.yaml.",
    )
    n.add_argument("--edition", type=int, required=True)
    n.add_argument(
        "--input",
        default=DEFAULT_INPUT,
        help="LimeSurvey export (default: embedded synthetic data)",
    )
    n.add_argument("--out", required=True, help="output directory (replaced as one unit)")
    n.add_argument(
        "--previous-input",
        default=None,
        help="export of the previous edition: what changed, matched on the structure key",
    )
    n.add_argument("--previous-edition", type=int, default=None, help="default: edition - 1")
    n.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count(),
        help="local worker processes (default: cores = %(default)s; 1 = this process)",
    )
    n.add_argument(
        "--scheduler",
        default=None,
        help="address of a Dask scheduler (e.g. tcp://host:8786): render on that cluster",
    )
    _add_limits(n)
    _add_common(n)
    n.set_defaults(func=_cmd_notes)

    s = sub.add_parser(
        "synth",
        help="write a synthetic LimeSurvey export",
        description="Deterministic synthetic export with the columns of the real one.",
    )
    s.add_argument("--edition", type=int, required=True, choices=[2022, 2023])
    s.add_argument("--n", type=int, default=400, help="number of responses (default %(default)s)")
    s.add_argument("--seed", type=int, default=1, help="random seed (default %(default)s)")
    s.add_argument("--out", required=True)
    _add_common(s)
    s.set_defaults(func=_cmd_synth)

    f = sub.add_parser(
        "frame",
        help="record the national frame of an edition from the reference",
        description="Count collectivités per stratum in the shipped reference and write data/frames/<edition>.yaml.",
    )
    f.add_argument("--edition", type=int, required=True)
    f.add_argument("--force", action="store_true", help="overwrite an existing frame")
    _add_common(f)
    f.set_defaults(func=_cmd_frame)

    cb = sub.add_parser(
        "codebook",
        help="draft a new edition's codebook from its export, linked to the previous edition",
        description="Split the export's headings into questions, infer types, options and "
        "filters from the answers, link each question to the previous edition by its text, and "
        "write data/codebook/<edition>.yaml with 'review:' notes where a person must decide. "
        "With --check, validate an existing codebook.",
    )
    cb.add_argument("--edition", type=int, required=True)
    cb.add_argument("--input", default=None, help="LimeSurvey export of the edition (CSV)")
    cb.add_argument(
        "--previous-edition", type=int, default=None, help="edition to link questions to"
    )
    cb.add_argument("--no-previous", action="store_true", help="draft without a previous edition")
    cb.add_argument(
        "--lss", default=None, help="LimeSurvey structure file (.lss) of the questionnaire"
    )
    cb.add_argument("--out", default=None, help="directory (default data/codebook)")
    cb.add_argument("--force", action="store_true", help="replace an existing codebook")
    cb.add_argument("--check", action="store_true", help="validate data/codebook/<edition>.yaml")
    _add_common(cb)
    cb.set_defaults(func=_cmd_codebook)
    return p


def main(argv: list[str] | None = None) -> int:
    import signal
    import threading

    args = parser().parse_args(argv)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return int(args.func(args) or 0)
    except Terminated:
        print("terminated: workers stopped, previous outputs are left in place", file=sys.stderr)
        return TERMINATED
    except KeyboardInterrupt:
        print("interrupted: previous outputs are left in place", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug or not _is_user_error(exc):
            if not args.debug:
                print(f"error: {exc}", file=sys.stderr)
                print(
                    "(unexpected error: run again with --debug for the traceback)", file=sys.stderr
                )
                return 1
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
