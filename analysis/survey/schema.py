"""The schema of a codebook file, checked with pydantic, and errors located in the YAML.

``validate(raw, path, text)`` checks a codebook read from YAML (``raw``) against the schema
(keys, types, allowed values) and the rules between questions (ids unique and snake_case,
filters naming existing questions, items and options, headings and codes used once). Every
problem found is reported at once, each with the file, the line of the YAML node at fault
(when the text is given), the question id, what is wrong and what to do::

    data/codebook/2024.yaml, line 212, question 'ia_usages', previous.comparable: 'maybe' is
    not allowed — use one of: yes, wording, no

Keys of a question (see :mod:`analysis.survey.codebook` for their meaning): ``id``, ``code``,
``group``, ``chapter``, ``type``, ``text``, ``options``, ``columns``, ``asked_if``,
``identifying``, ``previous`` and ``review`` (the drafter's notes to a person: text or list).
Under ``previous``: ``edition``, ``id``, ``options`` (map of this edition's labels to the
previous one's), ``note``, ``comparable`` (``yes``, ``wording`` or ``no``) and
``comparable_why``. Unknown keys of a question are refused (a misspelt ``asked-if`` would
otherwise be silently ignored); extra top-level keys (e.g. ``not_in_2023``) are allowed.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

__all__ = [
    "CHAPTERS",
    "TYPES",
    "CodebookFile",
    "Problem",
    "SchemaError",
    "validate",
    "locate",
    "normalise_heading",
    "MAX_REPORTED",
]

CHAPTERS = (
    "contexte",
    "motivations",
    "organisation",
    "gouvernance",
    "environnement",
    "ia",
    "cybersecurite",
)
TYPES = (
    "single",
    "multiple",
    "ranking",
    "matrix",
    "numeric",
    "text",
    "upload",
    "timing",
    "personal",
    "admin",
)


class SchemaError(ValueError):
    """A codebook file does not follow the schema (``analysis.survey.codebook`` turns it into
    a ``CodebookError``)."""


def normalise_heading(text: str) -> str:
    """Canonical form of a heading or answer for matching: NFC, apostrophes, spaces folded."""
    text = unicodedata.normalize("NFC", str(text))
    text = text.replace("\u2019", "'").replace("\u00a0", " ").replace("\u202f", " ")
    return " ".join(text.split())


#: At most this many problems are listed in one error (the rest are counted).
MAX_REPORTED = 20
_SNAKE = r"^[a-z0-9]+(_[a-z0-9]+)*$"

Text = Annotated[str, StringConstraints(min_length=0)]
Id = Annotated[str, StringConstraints(pattern=_SNAKE)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, coerce_numbers_to_str=True)


class ColumnModel(_Strict):
    heading: str
    code: str = ""
    item: str | None = None
    label: str | None = None


class ConditionModel(_Strict):
    question: str
    in_: list[str] = Field(default_factory=list, alias="in")
    item: str | None = None
    items: list[str] = Field(default_factory=list)


class PreviousModel(_Strict):
    edition: int
    id: str
    options: dict[str, str] = Field(default_factory=dict)
    note: str | None = None
    comparable: Literal["yes", "wording", "no"] | None = None
    comparable_why: str | None = None


class QuestionModel(_Strict):
    id: Id
    code: str = ""
    group: str = ""
    chapter: Literal[CHAPTERS]  # type: ignore[valid-type]
    type: Literal[TYPES]  # type: ignore[valid-type]
    text: str = ""
    options: list[str] = Field(default_factory=list)
    columns: list[ColumnModel] = Field(min_length=1)
    asked_if: ConditionModel | None = None
    identifying: bool = False
    previous: PreviousModel | None = None
    review: str | list[str] | None = None


class CodebookFile(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    edition: int
    version: str | None = None
    #: The question whose answer makes a response complete (default: the cleaning rule's).
    completion: str | None = None
    questions: list[QuestionModel]


# -- problems ---------------------------------------------------------------------------------
class Problem(BaseModel):
    loc: tuple[Any, ...]
    what: str
    fix: str


#: What to do, by pydantic error type or by the key at fault.
_FIX_BY_KEY = {
    "id": "use a snake_case id: lower-case letters, digits and '_' (e.g. ia_usages)",
    "chapter": "use one of: " + ", ".join(CHAPTERS),
    "type": "use one of: " + ", ".join(TYPES),
    "comparable": "use one of: yes, wording, no",
    "columns": "list the export columns of the question (heading, code)",
}
_FIX_BY_TYPE = {
    "missing": "add the key",
    "extra_forbidden": "remove or rename the key (see the schema in analysis/survey/schema.py)",
    "int_parsing": "write a whole number (a year such as 2023)",
    "int_type": "write a whole number (a year such as 2023)",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "list_type": "write a YAML list (one '- item' per line)",
    "dict_type": "write a YAML mapping (key: value)",
    "model_type": "write a YAML mapping (key: value)",
    "string_type": "write a text value (quote it if needed)",
    "too_short": "give at least one",
}


def _problems_from(exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = next((k for k in reversed(loc) if isinstance(k, str)), "")
        if err["type"] == "missing":
            what = f"key {key!r} is missing"
        elif err["type"] == "extra_forbidden":
            what = f"unknown key {key!r}"
        elif err["type"] in ("literal_error", "string_pattern_mismatch"):
            what = f"{err.get('input')!r} is not allowed"
        else:
            what = f"{err['msg']} (got {_short(err.get('input'))})"
        fix = _FIX_BY_KEY.get(key) if err["type"] != "missing" else None
        fix = fix or _FIX_BY_TYPE.get(err["type"], "correct the value")
        out.append(Problem(loc=_drop_union_tags(loc), what=what, fix=fix))
    return out


def _drop_union_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """pydantic names the branch of a union (``str``, ``list[str]``) in the location."""
    return tuple(k for k in loc if not (isinstance(k, str) and ("[" in k or k in ("str",))))


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rules(cb: CodebookFile) -> list[Problem]:
    """The rules between questions that the schema alone cannot state."""
    out: list[Problem] = []
    seen: dict[str, int] = {}
    headings: dict[str, str] = {}
    codes: dict[str, str] = {}
    by_id = {q.id: q for q in cb.questions}
    for k, q in enumerate(cb.questions):
        at = ("questions", k)
        if q.id in seen:
            out.append(
                Problem(
                    loc=(*at, "id"),
                    what=f"id {q.id!r} is already used by question #{seen[q.id] + 1}",
                    fix="give each question its own id",
                )
            )
        seen.setdefault(q.id, k)
        if q.type in ("single", "matrix", "ranking") and not q.options:
            out.append(
                Problem(
                    loc=(*at, "type"),
                    what=f"a {q.type} question needs options",
                    fix="list its answer options under 'options:' (in the order to show them)",
                )
            )
        if len(set(q.options)) != len(q.options):
            dup = [o for o in q.options if q.options.count(o) > 1][0]
            out.append(
                Problem(loc=(*at, "options"), what=f"option {dup!r} is repeated", fix="keep one")
            )
        if q.type in ("multiple", "matrix", "ranking"):
            items = [c.item for c in q.columns]
            if any(i in (None, "") for i in items) or len(set(items)) != len(items):
                out.append(
                    Problem(
                        loc=(*at, "columns"),
                        what=f"a {q.type} question needs a distinct item on every column",
                        fix="give each column an 'item:' id, different from the others",
                    )
                )
        for j, c in enumerate(q.columns):
            key = normalise_heading(c.heading)
            if key in headings:
                out.append(
                    Problem(
                        loc=(*at, "columns", j, "heading"),
                        what=f"heading {c.heading!r} also belongs to question {headings[key]!r}",
                        fix="an export column belongs to exactly one question: remove one",
                    )
                )
            headings.setdefault(key, q.id)
            if c.code in codes:
                out.append(
                    Problem(
                        loc=(*at, "columns", j, "code"),
                        what=f"code {c.code!r} also belongs to question {codes[c.code]!r}",
                        fix="give each column its own LimeSurvey code",
                    )
                )
            codes.setdefault(c.code, q.id)
        cond = q.asked_if
        if cond is None:
            continue
        parent = by_id.get(cond.question)
        if parent is None:
            out.append(
                Problem(
                    loc=(*at, "asked_if", "question"),
                    what=f"filter names question {cond.question!r}, which does not exist",
                    fix="name an existing question id, or remove 'asked_if'",
                )
            )
            continue
        parent_items = {c.item for c in parent.columns}
        for item in ([cond.item] if cond.item is not None else []) + cond.items:
            if item not in parent_items:
                out.append(
                    Problem(
                        loc=(*at, "asked_if"),
                        what=f"filter names item {item!r} of {parent.id!r}, which has no such item",
                        fix=f"use one of {sorted(i for i in parent_items if i)}",
                    )
                )
        bad = [v for v in cond.in_ if v not in parent.options]
        if bad or (cond.item is None and not cond.items and not cond.in_):
            out.append(
                Problem(
                    loc=(*at, "asked_if", "in"),
                    what=f"filter values {bad or 'none'} are not options of {parent.id!r}",
                    fix=f"use some of {parent.options}",
                )
            )
    if cb.completion is not None and cb.completion not in by_id:
        out.append(
            Problem(
                loc=("completion",),
                what=f"completion question {cb.completion!r} does not exist",
                fix="name the id of the questionnaire's last question every finisher answered",
            )
        )
    return out


# -- locating ---------------------------------------------------------------------------------
def _node_at(root: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """The deepest YAML node along ``loc`` (a key's value node; its parent when missing)."""
    node = root
    for key in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if nxt is None:
                nxt = next((k for k, v in node.value if getattr(k, "value", None) == key), None)
                return nxt or node
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                return node
            node = node.value[key]
        else:
            return node
    return node


def locate(text: str | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` in ``text`` (None without text)."""
    if not text:
        return None
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    node = _node_at(root, loc)
    return None if node is None else node.start_mark.line + 1


def _format(problems: list[Problem], raw: Any, where: str, text: str | None) -> str:
    root = None
    if text:
        try:
            root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError:
            root = None
    questions = raw.get("questions") if isinstance(raw, dict) else None
    lines = []
    for p in problems[:MAX_REPORTED]:
        parts = [where]
        node = _node_at(root, p.loc) if root is not None else None
        if node is not None:
            parts.append(f"line {node.start_mark.line + 1}")
        rest = p.loc
        if len(p.loc) >= 2 and p.loc[0] == "questions" and isinstance(p.loc[1], int):
            q = questions[p.loc[1]] if isinstance(questions, list) else None
            qid = q.get("id") if isinstance(q, dict) else None
            parts.append(f"question {qid!r}" if qid else f"question #{p.loc[1] + 1}")
            rest = p.loc[2:]
        field = ".".join(str(k) if isinstance(k, str) else f"[{k}]" for k in rest)
        field = re.sub(r"\.\[", "[", field)
        lines.append(f"{', '.join(parts)}{', ' + field if field else ''}: {p.what} — {p.fix}")
    if len(problems) > MAX_REPORTED:
        lines.append(f"… and {len(problems) - MAX_REPORTED} more problem(s)")
    head = f"{where}: {len(problems)} problem(s) in the codebook" if len(problems) > 1 else ""
    return "\n".join([head, *lines] if head else lines)


def validate(raw: Any, where: str = "codebook", text: str | None = None) -> CodebookFile:
    """Check a codebook read from YAML; raise ``SchemaError`` listing every problem, each
    located (file, line when ``text`` is given, question id, key) with what to do."""
    if not isinstance(raw, dict) or "questions" not in raw or "edition" not in raw:
        raise SchemaError(
            f"{where}: expected a mapping with 'edition' and 'questions' — "
            "start the file with 'edition: <year>' and a 'questions:' list"
        )
    try:
        cb = CodebookFile.model_validate(raw)
    except ValidationError as exc:
        raise SchemaError(_format(_problems_from(exc), raw, where, text)) from None
    problems = _rules(cb)
    if problems:
        raise SchemaError(_format(problems, raw, where, text))
    return cb
