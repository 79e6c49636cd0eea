"""Read a LimeSurvey structure file (``.lss``, XML): the questionnaire as its author wrote it.

An ``.lss`` is what LimeSurvey's "Export survey structure" writes. It gives what an export of
answers can only suggest: each question's code (``title``), type letter, group, text,
sub-questions (codes and labels, in order), answer options (codes and labels, in the
questionnaire's order) and relevance equation (the filter). Both layouts are read: texts in
the ``questions``/``answers``/``groups`` rows (LimeSurvey 3) or in the ``*_l10ns`` sections
(LimeSurvey 4 and later); the survey's first language is used.

The file is parsed with ``defusedxml``: a structure file comes from outside the project and the
parser refuses entity expansion (the "billion laughs") and external entities.

Relevance equations understood (anything else is reported for review, never guessed)::

    G3Q04.NAOK == "A1"                      single choice: answer code A1
    G3Q04 == "A1" or G3Q04 == "A2"          one of several answers
    G5Q07_SQ001.NAOK == "Y" or G5Q07_SQ002 == "Y"   options of a multiple choice ticked
    G4Q01_SQ013.NAOK == "A1"                a matrix row's level
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from analysis.survey.schema import normalise_heading

__all__ = [
    "LssError",
    "LssQuestion",
    "Structure",
    "read",
    "fold",
    "TYPE_OF",
    "parse_relevance",
]

#: LimeSurvey question type letters → codebook types.
TYPE_OF = {
    "L": "single",
    "!": "single",
    "O": "single",
    "Y": "single",
    "G": "single",
    "5": "single",
    "M": "multiple",
    "P": "multiple",
    "F": "matrix",
    "A": "matrix",
    "B": "matrix",
    "C": "matrix",
    "E": "matrix",
    "H": "matrix",
    "R": "ranking",
    "N": "numeric",
    "S": "text",
    "T": "text",
    "U": "text",
    "|": "upload",
}
_TERM = re.compile(
    r"""^\(*\s*([A-Za-z][A-Za-z0-9]*)(?:_([A-Za-z0-9]+))?(?:\.NAOK|\.code)?\s*==\s*["']([^"']*)["']\s*\)*$"""
)
_TAG = re.compile(r"<[^>]+>")


def fold(text: str) -> str:
    """Text for matching: no accents, case, apostrophes or punctuation; spaces folded."""
    t = unicodedata.normalize("NFKD", normalise_heading(text)).encode("ascii", "ignore").decode()
    t = re.sub(r"[^\w]+", " ", t.casefold())
    return " ".join(t.split())


class LssError(ValueError):
    """A structure file cannot be read."""


@dataclass
class LssQuestion:
    qid: str
    code: str
    kind: str
    text: str
    group: str
    order: tuple[int, int]
    sub_codes: list[str] = field(default_factory=list)
    sub_labels: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    answer_codes: dict[str, str] = field(default_factory=dict)
    relevance: str = ""
    relevance_parsed: tuple[str, list[str], list[str]] | None = None
    other: bool = False


@dataclass
class Structure:
    path: Path
    language: str
    questions: list[LssQuestion]

    def find(self, stem: str, labels: list[str | None]) -> LssQuestion | None:
        """The question whose text is the export heading's stem (sub-labels break ties)."""
        key = fold(stem)
        same = [q for q in self.questions if fold(q.text) == key]
        if len(same) > 1:
            want = {fold(lbl) for lbl in labels if lbl}
            same.sort(key=lambda q: -len(want & {fold(s) for s in q.sub_labels}))
        return same[0] if same else None

    @property
    def by_code(self) -> dict[str, LssQuestion]:
        return {q.code: q for q in self.questions}


def parse_relevance(equation: str) -> tuple[str, list[str], list[str]] | None:
    """``(question code, sub-question codes, answer codes)`` of a simple equation; None for
    "always" (empty or ``1``); raises ``ValueError`` for an equation not understood."""
    eq = " ".join((equation or "").split())
    if eq.strip("() ") in ("", "1"):
        return None
    terms = re.split(r"\s+(?:or|\|\|)\s+", eq.strip())
    code, subs, answers = None, [], []
    for t in terms:
        m = _TERM.match(t.strip())
        if not m:
            raise ValueError(f"relevance equation not understood: {equation!r}")
        c, sub, value = m.groups()
        if code is not None and c != code:
            raise ValueError(f"relevance equation names several questions: {equation!r}")
        code = c
        if sub and sub not in subs:
            subs.append(sub)
        if value not in answers:
            answers.append(value)
    return code, subs, answers


def _text(node) -> str:
    return "" if node is None or node.text is None else node.text


def _rows(root, section: str) -> list[dict[str, str]]:
    out = []
    for row in root.findall(f"./{section}/rows/row"):
        out.append({child.tag: _text(child) for child in row})
    return out


def _clean(text: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def read(path: Path) -> Structure:
    """Read an ``.lss`` file (raises ``LssError`` naming the file and what to do)."""
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    path = Path(path)
    if not path.is_file():
        raise LssError(f"{path}: no such file — check the path given to --lss")
    try:
        root = ElementTree.parse(path).getroot()
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise LssError(
            f"{path}: not a readable LimeSurvey structure file ({exc}) — export it again "
            "from LimeSurvey (Export > Survey structure (.lss))"
        ) from None
    if root.tag != "document" or root.find("questions") is None:
        raise LssError(
            f"{path}: no <document><questions> — this is not a LimeSurvey structure (.lss) file"
        )
    langs = [_text(x) for x in root.findall("./languages/language")]
    language = langs[0] if langs else ""

    def in_language(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        return [r for r in rows if not language or r.get("language", language) == language]

    q_l10n = {r["qid"]: r for r in in_language(_rows(root, "question_l10ns"))}
    g_l10n = {r["gid"]: r for r in in_language(_rows(root, "group_l10ns"))}
    a_l10n = {r["aid"]: r for r in in_language(_rows(root, "answer_l10ns"))}
    groups = {}
    for r in in_language(_rows(root, "groups")):
        name = r.get("group_name") or g_l10n.get(r["gid"], {}).get("group_name", "")
        groups[r["gid"]] = (_clean(name), int(r.get("group_order") or 0))
    rows = in_language(_rows(root, "questions"))
    subs = in_language(_rows(root, "subquestions"))
    answers = in_language(_rows(root, "answers"))
    questions: dict[str, LssQuestion] = {}
    for r in rows:
        if r.get("parent_qid", "0") not in ("0", ""):
            subs.append(r)
            continue
        text = r.get("question") or q_l10n.get(r["qid"], {}).get("question", "")
        gname, gorder = groups.get(r.get("gid", ""), ("", 0))
        q = LssQuestion(
            qid=r["qid"],
            code=r.get("title", ""),
            kind=r.get("type", ""),
            text=_clean(text),
            group=gname,
            order=(gorder, int(r.get("question_order") or 0)),
            relevance=r.get("relevance", ""),
            other=r.get("other", "N") == "Y",
        )
        try:
            q.relevance_parsed = parse_relevance(q.relevance)
        except ValueError:
            q.relevance_parsed = None
        questions[q.qid] = q
    for r in sorted(subs, key=lambda r: int(r.get("question_order") or 0)):
        q = questions.get(r.get("parent_qid", ""))
        if q is None or r.get("scale_id", "0") not in ("0", ""):
            continue
        text = r.get("question") or q_l10n.get(r["qid"], {}).get("question", "")
        q.sub_codes.append(r.get("title", ""))
        q.sub_labels.append(_clean(text))
    for r in sorted(answers, key=lambda r: int(r.get("sortorder") or 0)):
        q = questions.get(r.get("qid", ""))
        if q is None or r.get("scale_id", "0") not in ("0", ""):
            continue
        label = r.get("answer") or a_l10n.get(r.get("aid", ""), {}).get("answer", "")
        q.answers.append(_clean(label))
        q.answer_codes[r.get("code", "")] = _clean(label)
    for q in questions.values():
        if q.kind == "Y":
            q.answers, q.answer_codes = ["Oui", "Non"], {"Y": "Oui", "N": "Non"}
    ordered = sorted(questions.values(), key=lambda q: q.order)
    return Structure(path, language, ordered)
