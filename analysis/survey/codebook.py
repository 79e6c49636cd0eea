"""Questionnaire codebook: which export column belongs to which question, and what it means.

A codebook is a YAML file per edition (``data/codebook/<edition>.yaml``). Every column of the
edition's LimeSurvey export belongs to exactly one question entry, whatever its type, so that
no column is silently ignored: admin, timing, upload and personal columns are questions too.

Schema of one question (keys in YAML)::

    - id: rgpd_conformite            # stable snake_case id, unique in the edition
      code: G03Q01                   # LimeSurvey question code
      group: Droit des données publiques
      chapter: gouvernance           # one of CHAPTERS
      type: single                   # one of TYPES
      text: "Considérez-vous …"      # question text, without any "[…]" suffix
      options: [...]                 # ordered answer levels (single, matrix) or ranked items
      columns:                       # the export columns of the question, in export order
        - heading: "Commençons … ? " # full-text heading, exactly as exported
          code: G03Q01               # code heading (LimeSurvey "code" heading style)
          item: null                 # sub-question id (multiple, matrix), rank (ranking)
          label: null                # sub-question label (multiple, matrix)
      asked_if:                      # filter: the question was only shown when …
        question: gouvernance_regles #   … this question's answer …
        in: ["Oui"]                  #   … is one of these (single / matrix cell),
        # or  item: some_item        #   … or this option of a multiple choice was ticked
        #     (item + in: this row of a matrix has one of these levels)
        # or  items: [a, b]          #   … or at least one of these options was ticked
      identifying: false             # true for admin columns that identify a structure
                                     # (name, SIRET): kept apart, never written out
      previous:                      # crosswalk to the previous edition (optional)
        edition: 2022
        id: gouvernance_regles_2022
        options: {"2023 label": "2022 label"}   # only where labels differ
        note: "…"                    # caveat for comparisons
        comparable: "yes"            # yes | wording | no (no: never drawn as an evolution)
        comparable_why: "…"          # the reason, in French (the report prints it)
      review: ["…"]                  # the drafter's notes where a person must decide

Column ids in the processed dataset are derived from the codebook: ``id`` for single, numeric and
text questions, ``id__item`` for multiple choice and matrix rows, ``id__rangK`` for rankings.

Extra top-level keys of a codebook file (e.g. ``not_in_2023:`` in the 2022 file) are ignored;
``completion:`` names the question that makes a response complete (cleaning rule). Every file
is checked against the schema of :mod:`analysis.survey.schema` (pydantic): an error names the
file, the line, the question and what to do. ``barometre codebook`` drafts a new edition's file
from its export (:mod:`analysis.survey.draft`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from analysis.survey.schema import CHAPTERS, TYPES, SchemaError, normalise_heading, validate

#: Types that are tabulated in the report and the open-data export.
TABULATED = ("single", "multiple", "ranking", "matrix", "numeric")
#: Types whose columns are kept in the processed dataset.
KEPT = (*TABULATED, "text")

CODEBOOK_DIR = Path(__file__).resolve().parents[2] / "data" / "codebook"


class CodebookError(ValueError):
    """A codebook file is malformed or inconsistent."""


@dataclass(frozen=True)
class Column:
    heading: str
    code: str
    item: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class Condition:
    question: str
    values: tuple[str, ...] = ()
    item: str | None = None
    #: Any of these options of a multiple choice ticked (``items:`` in YAML).
    items: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.items:
            return f"{self.question} [{' ou '.join(self.items)}] cochée"
        if self.item is not None and self.values:
            return f"{self.question} [{self.item}] ∈ {{{', '.join(self.values)}}}"
        if self.item is not None:
            return f"{self.question} [{self.item}] cochée"
        return f"{self.question} ∈ {{{', '.join(self.values)}}}"


@dataclass(frozen=True)
class Previous:
    edition: int
    id: str
    options: dict[str, str] = field(default_factory=dict)
    note: str | None = None
    #: "yes", "wording" (compared, with the reason beside) or "no" (never drawn as an evolution).
    comparable: str = "yes"
    comparable_why: str = ""


@dataclass(frozen=True)
class Question:
    id: str
    code: str
    group: str
    chapter: str
    type: str
    text: str
    columns: tuple[Column, ...]
    options: tuple[str, ...] = ()
    asked_if: Condition | None = None
    previous: Previous | None = None
    #: Admin column that identifies a structure (name, SIRET): kept apart, never written out.
    identifying: bool = False

    @property
    def items(self) -> tuple[Column, ...]:
        """Sub-questions (multiple, matrix) or rank columns (ranking)."""
        return self.columns if self.type in ("multiple", "matrix", "ranking") else ()

    def column_id(self, column: Column) -> str:
        if self.type in ("multiple", "matrix"):
            return f"{self.id}__{column.item}"
        if self.type == "ranking":
            return f"{self.id}__rang{column.item}"
        return self.id

    @property
    def column_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.column_id(c) for c in self.columns))


@dataclass(frozen=True)
class Codebook:
    edition: int
    version: str
    questions: tuple[Question, ...]
    path: Path | None = None
    #: The question whose answer makes a response complete (None: the cleaning rule's default).
    completion: str | None = None

    def __post_init__(self) -> None:
        self._check()

    # -- lookups -------------------------------------------------------------------------
    @property
    def by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    def __getitem__(self, qid: str) -> Question:
        try:
            return self.by_id[qid]
        except KeyError:
            raise KeyError(f"question {qid!r} is not in the {self.edition} codebook") from None

    def __contains__(self, qid: object) -> bool:
        return qid in self.by_id

    def of_type(self, *types: str) -> list[Question]:
        return [q for q in self.questions if q.type in types]

    def chapter(self, name: str) -> list[Question]:
        return [q for q in self.questions if q.chapter == name]

    @property
    def headings(self) -> dict[str, tuple[Question, Column]]:
        """Normalised full-text heading → (question, column)."""
        return {normalise_heading(c.heading): (q, c) for q in self.questions for c in q.columns}

    @property
    def codes(self) -> dict[str, tuple[Question, Column]]:
        """Code heading → (question, column)."""
        return {c.code: (q, c) for q in self.questions for c in q.columns}

    # -- validation ----------------------------------------------------------------------
    def _check(self) -> None:
        where = str(self.path or f"codebook {self.edition}")
        seen: set[str] = set()
        headings: dict[str, str] = {}
        codes: dict[str, str] = {}
        for q in self.questions:
            if q.id in seen:
                raise CodebookError(f"{where}: question id {q.id!r} is used twice")
            seen.add(q.id)
            if not q.id.replace("_", "").isalnum() or q.id != q.id.lower():
                raise CodebookError(f"{where}: question id {q.id!r} is not snake_case")
            if q.chapter not in CHAPTERS:
                raise CodebookError(
                    f"{where}: question {q.id!r} has chapter {q.chapter!r}; expected one of {CHAPTERS}"
                )
            if q.type not in TYPES:
                raise CodebookError(
                    f"{where}: question {q.id!r} has type {q.type!r}; expected one of {TYPES}"
                )
            if not q.columns:
                raise CodebookError(f"{where}: question {q.id!r} has no column")
            if q.type in ("single", "matrix", "ranking") and not q.options:
                raise CodebookError(f"{where}: question {q.id!r} ({q.type}) has no options")
            if q.type in ("multiple", "matrix", "ranking"):
                items = [c.item for c in q.columns]
                if any(i in (None, "") for i in items) or len(set(items)) != len(items):
                    raise CodebookError(
                        f"{where}: question {q.id!r} needs a distinct item on every column"
                    )
            if len(set(q.options)) != len(q.options):
                raise CodebookError(f"{where}: question {q.id!r} repeats an option")
            for c in q.columns:
                key = normalise_heading(c.heading)
                if key in headings:
                    raise CodebookError(
                        f"{where}: heading {c.heading!r} belongs to both {headings[key]!r} and {q.id!r}"
                    )
                headings[key] = q.id
                if c.code in codes:
                    raise CodebookError(
                        f"{where}: code heading {c.code!r} belongs to both {codes[c.code]!r} and {q.id!r}"
                    )
                codes[c.code] = q.id
        by_id = self.by_id
        for q in self.questions:
            cond = q.asked_if
            if cond is None:
                continue
            if cond.question not in by_id:
                raise CodebookError(
                    f"{where}: question {q.id!r} is asked if {cond.question!r}, which does not exist"
                )
            parent = by_id[cond.question]
            if cond.item is not None or cond.items:
                parent_items = {c.item for c in parent.columns}
                for item in (cond.item,) if cond.item is not None else cond.items:
                    if item not in parent_items:
                        raise CodebookError(
                            f"{where}: question {q.id!r} is asked if item {item!r} of "
                            f"{parent.id!r}, which has no such item"
                        )
                bad = [v for v in cond.values if v not in parent.options]
                if bad:
                    raise CodebookError(
                        f"{where}: question {q.id!r} is asked if {parent.id!r} is one of "
                        f"{list(cond.values)}, but {bad} is not an option of it"
                    )
            else:
                unknown = [v for v in cond.values if v not in parent.options]
                if unknown or not cond.values:
                    raise CodebookError(
                        f"{where}: question {q.id!r} is asked if {parent.id!r} is one of "
                        f"{list(cond.values)}, but {unknown or 'no value'} is not an option of it"
                    )


COMPARABLE = ("yes", "wording", "no")


def _comparable(value: Any, where: str, raw: dict[str, Any]) -> str:
    """``previous.comparable`` as a string (YAML 1.1 reads a bare yes/no as a boolean)."""
    if value is True:
        value = "yes"
    elif value is False:
        value = "no"
    if value not in COMPARABLE:
        raise CodebookError(
            f"{where}: question {raw.get('id')!r}: previous.comparable is {value!r}; "
            f"expected one of {list(COMPARABLE)}"
        )
    return str(value)


def _question(raw: dict[str, Any], where: str) -> Question:
    try:
        cond = raw.get("asked_if")
        prev = raw.get("previous")
        return Question(
            id=str(raw["id"]),
            code=str(raw.get("code") or ""),
            group=str(raw.get("group") or ""),
            chapter=str(raw["chapter"]),
            type=str(raw["type"]),
            text=normalise_text(raw.get("text") or ""),
            options=tuple(normalise_text(o) for o in raw.get("options") or ()),
            columns=tuple(
                Column(
                    heading=str(c["heading"]),
                    code=str(c.get("code") or ""),
                    item=None if c.get("item") is None else str(c["item"]),
                    label=None if c.get("label") is None else normalise_text(c["label"]),
                )
                for c in raw.get("columns") or ()
            ),
            asked_if=None
            if not cond
            else Condition(
                question=str(cond["question"]),
                values=tuple(normalise_text(v) for v in cond.get("in") or ()),
                item=None if cond.get("item") is None else str(cond["item"]),
                items=tuple(str(i) for i in cond.get("items") or ()),
            ),
            previous=None
            if not prev
            else Previous(
                edition=int(prev["edition"]),
                id=str(prev["id"]),
                options={
                    normalise_text(k): normalise_text(v)
                    for k, v in (prev.get("options") or {}).items()
                },
                note=prev.get("note"),
                comparable=_comparable(prev.get("comparable", "yes"), where, raw),
                comparable_why=normalise_text(prev.get("comparable_why") or ""),
            ),
            identifying=bool(raw.get("identifying", False)),
        )
    except (KeyError, TypeError) as exc:
        ident = raw.get("id", "?") if isinstance(raw, dict) else "?"
        raise CodebookError(
            f"{where}: question {ident!r} is missing or has a bad key: {exc}"
        ) from exc


def asked_mask(codebook: Codebook, qid: str, frame: Any) -> Any:
    """Boolean Series: which rows of a typed frame (processed column ids) were asked ``qid``.

    Evaluates the question's ``asked_if`` and, recursively, its parent's: single parents by
    level, matrix parents by the level of the named row, multiple-choice parents by the
    ticked option(s). A question without a filter was asked of every row.
    """
    import pandas as pd

    question = codebook[qid]
    mask = pd.Series(True, index=frame.index)
    cond = question.asked_if
    if cond is None:
        return mask
    parent = codebook[cond.question]
    if cond.items:
        ticked = [frame[f"{parent.id}__{i}"].fillna(False).astype(bool) for i in cond.items]
        mask = pd.concat(ticked, axis=1).any(axis=1)
    elif cond.item is not None and cond.values:
        mask = frame[f"{parent.id}__{cond.item}"].isin(cond.values).astype(bool)
    elif cond.item is not None:
        mask = frame[f"{parent.id}__{cond.item}"].fillna(False).astype(bool)
    else:
        mask = frame[parent.id].isin(cond.values).astype(bool)
    return mask & asked_mask(codebook, parent.id, frame)


def normalise_text(text: str) -> str:
    """NFC and surrounding whitespace stripped: the form answers are stored and compared in."""
    return unicodedata.normalize("NFC", str(text)).strip()


def from_dict(raw: dict[str, Any], path: Path | None = None, text: str | None = None) -> Codebook:
    """A codebook from its YAML mapping, checked against the schema (``text``: the file's
    text, so that errors give the line of the YAML node at fault)."""
    where = str(path or "codebook")
    try:
        validate(raw, where, text)
    except SchemaError as exc:
        raise CodebookError(str(exc)) from None
    return Codebook(
        edition=int(raw["edition"]),
        version=str(raw.get("version") or raw["edition"]),
        questions=tuple(_question(q, where) for q in raw["questions"]),
        path=path,
        completion=None if raw.get("completion") is None else str(raw["completion"]),
    )


@lru_cache(maxsize=8)
def _load_path(path: Path, mtime: float) -> Codebook:
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise CodebookError(
            f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)}) — check the "
            "indentation and quote texts that hold ': ' or start with a special character"
        ) from None
    return from_dict(raw, path, text)


def load(edition: int | str, directory: Path | None = None) -> Codebook:
    """Load and validate the codebook of an edition."""
    path = (directory or CODEBOOK_DIR) / f"{edition}.yaml"
    if not path.exists():
        raise CodebookError(
            f"no codebook for edition {edition}: {path} does not exist "
            f"(available: {sorted(p.stem for p in path.parent.glob('*.yaml') if p.stem.isdigit())})"
        )
    return _load_path(path, path.stat().st_mtime)
