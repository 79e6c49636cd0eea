"""Draft the codebook of a new edition from its LimeSurvey export, linked to the previous one.

``draft(export, edition, previous=...)`` reads an export (full-text headings, long answers, as
the barometer exports it) and returns a :class:`Draft`: the codebook as a mapping ready to be
written as ``data/codebook/<edition>.yaml``, and a :class:`Summary` of what continues, what
changed and what a person must decide.

1. **Headings → questions**, as LimeSurvey writes them: ``Question [sub-question]`` columns
   side by side form one question (multiple choice, matrix, or ranking when the labels are
   ``Classement k``); an ``[Autre]`` column after a multiple choice is its own free-text
   question ``<id>_autre``; an upload is followed by its ``filecount - <question>`` column;
   ``Temps total :``, ``Durée pour le groupe : <group>`` and ``Durée pour la question: <code>``
   are timing columns, and the codes they carry (group by group, in questionnaire order) are
   the questions' LimeSurvey codes and groups; LimeSurvey metadata (``ID de la réponse``, …)
   and the enrichment columns (``… (enrichissement)``, ``Structure (clé pseudonymisée)``) are
   admin; personal columns (e-mail, names, job title) are ``personal``.
2. **Types and options from the answers**: cells ``Oui`` / ``Non`` / ``N/A`` → multiple choice,
   other levels → matrix; one column: numbers → numeric, a few repeated answers → single
   choice, else free text. Options continue in the previous edition's order; new ones come
   after them (before "Je ne sais pas").
3. **Link to the previous edition by text**: same heading, then same normalised text, then
   fuzzy (rapidfuzz); a linked question keeps its previous id and item ids (so the chapters and
   the comparisons keep working) and carries ``previous: {edition, id, options}`` where labels
   were reworded.
4. **Filters** (``asked_if``) from the export's ``N/A`` pattern: a multiple choice or an upload
   is shown exactly to the rows whose parent answer fits; a free text or single choice is
   answered only by them (and the data must be able to tell: enough rows outside the filter).
   ``[Autre]`` texts take their multiple choice's filter.
5. **Review notes** (``review:``) wherever a person must decide, and a printed summary.

Codes: from the timing columns, aligned on the questions in export order; the personal and
identifying columns removed from a shared export (while their timing codes remain) are kept from
the previous codebook; without timing columns, continuing questions keep their previous codes.
An export with code headings is refused (it has no question text to link editions by).

With a LimeSurvey structure file (``.lss``, see :mod:`analysis.survey.lss`), codes, groups,
types, answer options (in the questionnaire's order) and filters (relevance equations) are read
from it rather than inferred.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analysis.survey.codebook import (
    CHAPTERS,
    Codebook,
    CodebookError,
    Question,
    load,
    normalise_heading,
    normalise_text,
)
from analysis.survey.lss import fold

__all__ = ["Draft", "DraftError", "Summary", "draft", "read_raw", "codebook_text", "dump"]

JNSP = "Je ne sais pas"
MISSING = ("", "N/A")
YES_NO = {"Oui", "Non", "N/A", ""}
#: Fuzzy text scores (0–100): link at or above LINK, flag as uncertain below SURE, name as a
#: possible match from CANDIDATE.
SURE, LINK, CANDIDATE = 92.0, 80.0, 60.0
OPTION_LINK = 85.0
#: A filter inferred from free-text answers must be one the data can tell: without it, at least
#: this many answers would be expected outside it.
MIN_EXPECTED_OUTSIDE = 3.0
#: How many questions back a filter's parent is looked for.
PARENT_WINDOW = 10

#: LimeSurvey metadata columns: heading (full style) → (id, code, text).
METADATA = {
    "ID de la réponse": ("response_id", "id", "Identifiant LimeSurvey de la réponse"),
    "Date de soumission": ("submitted", "submitdate", "Date de soumission"),
    "Dernière page": ("last_page", "lastpage", "Dernière page atteinte"),
    "Langue de départ": ("start_language", "startlanguage", "Langue de départ"),
    "Tête de série": ("seed", "seed", "Graine aléatoire LimeSurvey"),
    "Date de lancement": ("start_date", "startdate", "Date de début"),
    "Date de la dernière action": ("date_stamp", "datestamp", "Date de la dernière action"),
    "Adresse IP": ("ip_address", "ipaddr", "Adresse IP"),
    "URL référente": ("referrer", "refurl", "URL référente"),
}
#: Enrichment columns added to the export by the authors: heading → (id, code, text).
ENRICHMENT = {
    "Catégorie (enrichissement)": (
        "category_raw",
        "categorie_enrichissement",
        "Catégorie de structure ajoutée par les auteurs (Commune, EPCI, Metropole, Departement, "
        "Region ou vide)",
    ),
    "Population totale (enrichissement)": (
        "population_raw",
        "population_enrichissement",
        "Population totale (INSEE) ajoutée par les auteurs",
    ),
    "Structure (clé pseudonymisée)": (
        "structure_key",
        "cle_structure",
        "Clé pseudonymisée de la structure (une par nom de structure normalisé)",
    ),
}
#: Personal and identifying columns: pattern on the heading → (id, type, identifying).
PERSONAL = (
    (re.compile(r"adresse (é|e)lectronique|courriel|e-?mail", re.I), "courriel", "personal", False),
    (re.compile(r"\bpr(é|e)nom\b", re.I), "prenom", "personal", False),
    (
        re.compile(r"nom de (votre|la) (structure|collectivit)", re.I),
        "structure_name",
        "admin",
        True,
    ),
    (re.compile(r"\bsiret\b|\bsiren\b", re.I), "siret", "admin", True),
    (re.compile(r"\bnom\b", re.I), "nom", "personal", False),
    (re.compile(r"\bfonction\b|poste occup", re.I), "fonction", "personal", False),
    (re.compile(r"t(é|e)l(é|e)phone|portable", re.I), "telephone", "personal", False),
)
_SUB = re.compile(r"^(?P<stem>.*?)\s*\[(?P<label>[^\[\]]*)\]\s*$", re.S)
_RANK = re.compile(r"^(?:classement|rang|rank)\s*(\d+)$", re.I)
_TIME_TOTAL = "Temps total :"
_TIME_GROUP = re.compile(r"^Durée pour le groupe\s*:\s*(?P<name>.*)$", re.S)
_TIME_QUESTION = re.compile(r"^Durée pour la question\s*:\s*(?P<code>.*)$", re.S)
_FILECOUNT = re.compile(r"^filecount - (?P<stem>.*)$", re.S)
_NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")
_STOP = set(
    "a au aux avec ce ces cette dans de des du elle en est et il la le les leur leurs lui ma "
    "mais me meme mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son "
    "sur ta te tes toi ton tu un une vos votre vous c d j l m n s t y ete etre avez avons "
    "vous-meme selon quel quelle quels quelles quoi comment pouvez-vous pouvez souhaitez "
    "si ils elles sont ont a-t-elle a-t-il t-elle t-il deja ainsi tout tous toute toutes "
    "structure collectivite organisation".split()
)


class DraftError(ValueError):
    """The export cannot be drafted into a codebook (with where and what to do)."""


# -- text helpers -----------------------------------------------------------------------------
def slug(text: str, words: int = 3, limit: int = 32) -> str:
    """A snake_case id from a text's first significant words."""
    toks = [w for w in fold(text).replace("_", " ").split() if w not in _STOP and len(w) > 1]
    out = "_".join(toks[:words])[:limit].strip("_")
    if not out:
        out = "colonne_sans_titre"
    if out[0].isdigit():
        out = "q_" + out
    return out


def _unique(base: str, taken: set[str], avoid: set[str] | frozenset = frozenset()) -> str:
    """``base``, or ``base_2``, ``base_3``…: not in ``taken`` nor ``avoid``; added to ``taken``."""
    cand, k = base, 2
    while cand in taken or cand in avoid:
        cand, k = f"{base}_{k}", k + 1
    taken.add(cand)
    return cand


# -- reading ----------------------------------------------------------------------------------
def read_raw(path: Path) -> tuple[list[str], list[list[str]]]:
    """Headings and rows of an export, as strings (NFC, surrounding spaces kept in headings)."""
    from analysis.survey.ingest import _decode, _records, _sniff

    path = Path(path)
    if not path.is_file():
        raise DraftError(f"{path}: no such file — check the path given to --input")
    text, _enc = _decode(path.read_bytes(), path)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DraftError(f"{path}: the file is empty — export the responses again (CSV)")
    sep = _sniff(text, path)
    rows, lines = _records(text, sep, path, None)
    headings = [unicodedata.normalize("NFC", h) for h in rows[0]]
    body = []
    for rec, line in zip(rows[1:], lines[1:], strict=True):
        if len(rec) != len(headings):
            raise DraftError(
                f"{path}, line {line}: {len(rec)} fields where the header has {len(headings)} "
                "— the file looks cut or edited by hand: export it again from LimeSurvey"
            )
        body.append([unicodedata.normalize("NFC", c).strip() for c in rec])
    return headings, body


_CODE_HEADING = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:\[[A-Za-z0-9_]+\]|_filecount|Time)?$")


def _refuse_code_headings(export: Path, headings: list[str]) -> None:
    """Question texts are what links editions: an export with code headings has none."""
    coded = sum(bool(_CODE_HEADING.match(h.strip())) for h in headings)
    if headings and coded > 0.8 * len(headings):
        raise DraftError(
            f"{export}, line 1: the headings are LimeSurvey question codes "
            f"({', '.join(repr(h) for h in headings[:3])}…), not question texts — export the "
            "responses again with Export results > Headings: 'Full question text' and "
            "Responses: 'Full answers'"
        )


# -- blocks -----------------------------------------------------------------------------------
@dataclass
class Block:
    """One question as the export shows it (or a timing/admin column group)."""

    kind: str  # question | other | upload | admin | personal | timing
    stem: str
    cols: list[int]
    headings: list[str]
    labels: list[str | None]
    other_of: int | None = None  # index (in blocks) of the multiple choice of an [Autre] text
    type: str = ""
    code: str = ""
    group: str = ""
    id: str = ""
    fixed: dict[str, Any] | None = None  # admin/personal entry ready to write
    items: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    prev: Question | None = None
    match: str = ""  # heading | text | fuzzy
    score: float = 0.0
    candidates: list[tuple[str, float]] = field(default_factory=list)
    option_map: dict[str, str] = field(default_factory=dict)
    asked_if: dict[str, Any] | None = None
    chapter: str = ""
    review: list[str] = field(default_factory=list)
    lss: Any = None
    prev_edition: int | None = None
    type_changed: tuple[str, str, float] | None = None  # (previous id, its type, score)


def _split(headings: list[str], prev: Codebook | None) -> tuple[list[Block], list, int | None]:
    """Blocks in export order, the timing groups [(name, [codes], [cols])], total-time column."""
    prev_fixed = {}
    if prev is not None:
        for q in prev.questions:
            if q.type in ("admin", "personal") and len(q.columns) == 1:
                prev_fixed[normalise_heading(q.columns[0].heading)] = q
    blocks: list[Block] = []
    groups: list[tuple[str, list[str], list[int]]] = []
    total: int | None = None
    for k, h in enumerate(headings):
        key = normalise_heading(h)
        if key == normalise_heading(_TIME_TOTAL):
            total = k
            continue
        m = _TIME_GROUP.match(key)
        if m:
            name = _TIME_GROUP.match(unicodedata.normalize("NFC", h).strip())
            groups.append(((name or m)["name"].strip(), [], [k]))
            continue
        m = _TIME_QUESTION.match(key)
        if m:
            if not groups:
                groups.append(("", [], []))
            groups[-1][1].append(m["code"].strip())
            groups[-1][2].append(k)
            continue
        m = _FILECOUNT.match(key)
        if m and blocks and fold(blocks[-1].stem) == fold(m["stem"]):
            blocks[-1].kind = "upload"
            blocks[-1].cols.append(k)
            blocks[-1].headings.append(h)
            blocks[-1].labels.append("filecount")
            continue
        if key in prev_fixed:
            q = prev_fixed[key]
            kind = "personal" if q.type == "personal" or q.identifying else "admin"
            fixed = _entry_of(q, h)
            blocks.append(Block(kind, q.text, [k], [h], [None], fixed=fixed, prev=q))
            continue
        if key in METADATA or key in ENRICHMENT:
            qid, code, text = METADATA.get(key) or ENRICHMENT[key]
            group = "(métadonnées LimeSurvey)" if key in METADATA else "(enrichissement)"
            fixed = _fixed(qid, code, group, "admin", text, h)
            blocks.append(Block("admin", text, [k], [h], [None], fixed=fixed))
            continue
        personal = next((p for p in PERSONAL if p[0].search(key)), None)
        if personal and len(key) < 80 and not _SUB.match(key):
            _pat, qid, qtype, ident = personal
            fixed = _fixed(qid, qid, "", qtype, key, h, identifying=ident)
            blocks.append(Block("personal", key, [k], [h], [None], fixed=fixed))
            continue
        m = _SUB.match(key)
        if m:
            stem, label = m["stem"].strip(), m["label"].strip()
            last = blocks[-1] if blocks else None
            if (
                last is not None
                and last.kind == "question"
                and last.labels[0] is not None
                and fold(last.stem) == fold(stem)
            ):
                last.cols.append(k)
                last.headings.append(h)
                last.labels.append(label)
                continue
            blocks.append(Block("question", stem, [k], [h], [label]))
            continue
        blocks.append(Block("question", key, [k], [h], [None]))
    return blocks, groups, total


def _fixed(
    qid: str, code: str, group: str, qtype: str, text: str, heading: str, identifying=False
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": qid,
        "code": code,
        "group": group,
        "chapter": "contexte",
        "type": qtype,
        "text": normalise_heading(text),
    }
    if identifying:
        entry["identifying"] = True
    entry["columns"] = [{"heading": heading, "code": code}]
    return entry


def _entry_of(q: Question, heading: str) -> dict[str, Any]:
    entry = _fixed(q.id, q.code, q.group, q.type, q.text, heading, identifying=q.identifying)
    entry["columns"][0]["code"] = q.columns[0].code
    return entry


# -- typing -----------------------------------------------------------------------------------
def _is_number(v: str) -> bool:
    return bool(_NUMBER.match(v.replace("\u202f", "").replace(" ", "")))


def _infer_type(b: Block, cells: list[list[str]]) -> None:
    """Type of a question block from its cells (one list per column)."""
    if b.kind == "upload":
        b.type = "upload"
        return
    if b.labels[0] is not None:  # sub-questions
        values = {v for col in cells for v in col}
        ranks = [_RANK.match(label or "") for label in b.labels]
        if all(ranks):
            b.type = "ranking"
        elif values <= YES_NO:
            b.type = "multiple"
        else:
            b.type = "matrix"
        return
    answers = [v for v in cells[0] if v not in MISSING]
    distinct = Counter(answers)
    if not answers:
        b.type = "text"
        b.review.append("no answer in the export: type guessed as free text — check it")
    elif all(_is_number(v) for v in distinct):
        b.type = "numeric"
    elif any("\n" in v or len(v) > 300 or "@" in v for v in distinct):
        b.type = "text"  # line breaks, long answers, addresses: written, not chosen
    elif 2 <= len(distinct) <= 15 and len(answers) >= 3 * len(distinct):
        b.type = "single"
    else:
        b.type = "text"


def _order_options(values: list[str], counts: Counter) -> list[str]:
    """Options without a previous order: Oui… first, Non… next, by frequency, JNSP last."""

    def rank(v: str) -> tuple:
        f = fold(v)
        head = 0 if f.startswith("oui") else 1 if not f.startswith("non") else 2
        last = f in ("je ne sais pas", "ne sais pas", "sans avis", "nsp")
        return (last, head, -counts[v], v)

    return sorted(values, key=rank)


def _continued_options(observed: list[str], counts: Counter, previous: tuple[str, ...]):
    """(options, {new label: previous label}, added, gone): previous order where they continue."""
    from rapidfuzz import fuzz

    prev_by_norm = {normalise_heading(o): o for o in previous}
    obs_norm = {normalise_heading(o): o for o in observed}
    same = {n for n in obs_norm if n in prev_by_norm}
    unmatched_prev = [o for o in previous if normalise_heading(o) not in same]
    mapping: dict[str, str] = {}
    for n, o in obs_norm.items():
        if n in same or not unmatched_prev:
            continue
        best = max(unmatched_prev, key=lambda p: fuzz.ratio(fold(o), fold(p)))
        if fuzz.ratio(fold(o), fold(best)) >= OPTION_LINK:
            mapping[o] = best
            unmatched_prev.remove(best)
    pos = {normalise_heading(o): k for k, o in enumerate(previous)}
    keyed = []
    added = []
    for o in observed:
        n = normalise_heading(o)
        if n in same:  # the previous label, so that comparisons join on it
            keyed.append((pos[n], 0, prev_by_norm[n]))
        elif o in mapping:
            keyed.append((pos[normalise_heading(mapping[o])], 1, o))
        else:
            added.append(o)
    ordered = [o for _k, _t, o in sorted(keyed)]
    added = _order_options(added, counts)
    if ordered and fold(ordered[-1]) == fold(JNSP):
        ordered = ordered[:-1] + added + ordered[-1:]
    else:
        ordered += added
    gone = [o for o in unmatched_prev if o not in mapping.values()]
    return ordered, mapping, added, gone


# -- linking ----------------------------------------------------------------------------------
_COMPATIBLE = {
    "single": {"single", "text"},
    "multiple": {"multiple"},
    "matrix": {"matrix"},
    "ranking": {"ranking"},
    "numeric": {"numeric"},
    "text": {"text", "single"},
    "upload": {"upload"},
}


def _link(blocks: list[Block], prev: Codebook) -> None:
    """Link question blocks to the previous edition's questions: heading, text, fuzzy."""
    from rapidfuzz import fuzz

    cands = [
        q
        for q in prev.questions
        if q.type not in ("admin", "personal", "timing")
        and not (q.type == "text" and q.columns[0].heading.rstrip().endswith("[Autre]"))
    ]
    by_heading = {normalise_heading(c.heading): q for q in cands for c in q.columns}
    folded = {q.id: fold(q.text) for q in cands}
    pairs: list[tuple[int, float, float, int, Question]] = []
    for k, b in enumerate(blocks):
        if b.kind not in ("question", "upload") or b.other_of is not None:
            continue
        stem = fold(b.stem)
        labels_b = {fold(lbl or "") for lbl in b.labels}
        scored = []
        for q in cands:
            if any(normalise_heading(h) in by_heading and by_heading[normalise_heading(h)] is q
                   for h in b.headings):  # fmt: skip
                stage, score = 0, 100.0
            elif stem == folded[q.id]:
                stage, score = 1, 100.0
            else:
                score = max(
                    fuzz.ratio(stem, folded[q.id]), fuzz.token_sort_ratio(stem, folded[q.id])
                )
                stage = 2
            labels_q = {fold(c.label or "") for c in q.columns}
            overlap = len(labels_b & labels_q) / max(len(labels_b | labels_q), 1)
            scored.append((stage, score, overlap, q))
        other = [s for s in scored if s[3].type not in _COMPATIBLE.get(b.type, {b.type})]
        scored = [s for s in scored if s[3].type in _COMPATIBLE.get(b.type, {b.type})]
        other = [s for s in other if s[1] >= LINK]
        if other:  # same text, another shape: not comparable as such
            _st, score, _o, q = min(other, key=lambda s: (s[0], -s[1]))
            b.type_changed = (q.id, q.type, score)
        good = [s for s in scored if s[1] >= CANDIDATE]
        good.sort(key=lambda s: (s[0], -s[1], -s[2]))
        b.candidates = [(q.id, round(score, 1)) for _st, score, _o, q in good[:3]]
        for stage, score, overlap, q in good:
            pairs.append((stage, -score, -overlap, k, q))
    pairs.sort(key=lambda p: (p[0], p[1], p[2], p[3]))
    used: set[str] = set()
    for stage, neg, _o, k, q in pairs:
        b = blocks[k]
        if b.prev is not None or q.id in used or -neg < LINK:
            continue
        b.prev, b.score, b.match = q, -neg, ("heading", "text", "fuzzy")[stage]
        b.prev_edition = prev.edition
    for b in blocks:  # an [Autre] text continues with its multiple choice
        parent = blocks[b.other_of] if b.other_of is not None else None
        if parent is not None and parent.prev is not None:
            other = next((q for q in prev.questions if q.id == parent.prev.id + "_autre"), None)
            if other is not None and other.type == "text":
                b.prev, b.score, b.match = other, parent.score, parent.match
                b.prev_edition = prev.edition
        used.add(q.id)


# -- filters ----------------------------------------------------------------------------------
@dataclass
class _Parent:
    block: int
    cond: dict[str, Any]
    mask: np.ndarray


def _parent_conditions(p: Block, pk: int, cells: dict[int, np.ndarray], target: np.ndarray,
                       exact: bool, other: np.ndarray | None = None) -> list[_Parent]:  # fmt: skip
    """Conditions on question ``p`` that select ``target`` (exactly, or covering it)."""
    out = []
    if p.type in ("single", "matrix"):
        cols = (
            list(zip(p.cols, p.items or [None], strict=False))
            if p.type == "matrix"
            else [(p.cols[0], None)]
        )
        for col, item in cols:
            v = cells[col]
            answered = ~np.isin(v, MISSING)
            inside = set(v[target & answered])
            if not inside or (target & ~answered).any():
                continue
            if inside == set(v[answered]):
                continue  # every answer: not a filter (the question was merely reached)
            mask = np.isin(v, list(inside))
            if exact and (mask != target).any():
                continue
            if not exact and not _informative(mask, answered, target):
                continue
            values = [o for o in p.options if o in inside]
            cond = {"question": p.id, "in": values}
            if item is not None:
                cond = {"question": p.id, "item": item, "in": values}
            out.append(_Parent(pk, cond, mask))
    elif p.type == "multiple":
        ticked = np.stack([cells[c] == "Oui" for c in p.cols], axis=1)
        reached = np.stack([cells[c] != "N/A" for c in p.cols], axis=1).any(axis=1)
        outside = ~target
        allowed = [j for j in range(len(p.cols)) if exact is False or not ticked[outside, j].any()]
        used = [j for j in allowed if ticked[target, j].any()]
        if not exact:  # the fewest options that every answerer ticked one of (greedy cover)
            left, cover = target.copy(), []
            while left.any() and used:
                j = max(used, key=lambda j: (int((ticked[:, j] & left).sum()), -j))
                if not (ticked[:, j] & left).any():
                    break
                cover.append(j)
                left &= ~ticked[:, j]
            used = sorted(cover)
        if not used or len(used) == len(p.cols):
            return out
        mask = ticked[:, used].any(axis=1)
        if (target & ~mask).any():
            return out
        if exact and (mask != target).any():
            return out
        if not exact and not _informative(mask, reached, target):
            return out
        out.append(_Parent(pk, {"question": p.id, "items": [p.items[j] for j in used]}, mask))
    return out


def _informative(mask: np.ndarray, reached: np.ndarray, target: np.ndarray) -> bool:
    """A covering filter the data supports: answers would be expected outside it."""
    n_in = int((mask & reached).sum())
    n_out = int((~mask & reached).sum())
    if n_in == 0 or n_out == 0:
        return False
    rate = int(target.sum()) / n_in
    return n_out * rate >= MIN_EXPECTED_OUTSIDE


def _eval(cond: dict[str, Any], parent: Block, cells: dict[int, np.ndarray]) -> np.ndarray | None:
    """Rows a condition selects (None when it names items or levels the parent lacks)."""
    col_of = dict(zip(parent.items, parent.cols, strict=False))
    if cond.get("items"):
        if any(i not in col_of for i in cond["items"]):
            return None
        return np.stack([cells[col_of[i]] == "Oui" for i in cond["items"]], axis=1).any(axis=1)
    if cond.get("item") is not None:
        if cond["item"] not in col_of:
            return None
        v = cells[col_of[cond["item"]]]
        return np.isin(v, cond["in"]) if cond.get("in") else v == "Oui"
    if any(o not in parent.options for o in cond.get("in", [])) or not cond.get("in"):
        return None
    return np.isin(cells[parent.cols[0]], cond["in"])


def _previous_filter(b: Block, blocks: list[Block]) -> tuple[dict[str, Any], int] | None:
    """The previous edition's filter of a continuing question, in this edition's ids."""
    if b.prev is None or b.prev.asked_if is None:
        return None
    pc = b.prev.asked_if
    pk = next((k for k, p in enumerate(blocks) if p.prev is not None and p.prev.id == pc.question
               and p.other_of is None), None)  # fmt: skip
    if pk is None:
        return None
    parent = blocks[pk]
    back = {old: new for new, old in parent.option_map.items()}
    cond: dict[str, Any] = {"question": parent.id}
    if pc.items:
        cond["items"] = list(pc.items)
    elif pc.item is not None:
        cond["item"] = pc.item
        if pc.values:
            cond["in"] = [back.get(v, v) for v in pc.values]
    else:
        cond["in"] = [back.get(v, v) for v in pc.values]
    return cond, pk


def _infer_filters(blocks: list[Block], cells: dict[int, np.ndarray], n: int) -> None:
    asked: dict[int, np.ndarray] = {}
    everyone = np.ones(n, dtype=bool)
    for k, b in enumerate(blocks):
        if b.kind not in ("question", "upload") or b.asked_if is not None or b.lss is not None:
            cond = b.asked_if
            pk = next(
                (j for j, p in enumerate(blocks[:k]) if cond and p.id == cond["question"]), None
            )
            sel = _eval(cond, blocks[pk], cells) if pk is not None else None
            asked[k] = everyone if sel is None else sel & asked.get(pk, everyone)
            continue
        if b.other_of is not None:  # an [Autre] text: its multiple choice's filter
            b.asked_if = blocks[b.other_of].asked_if
            asked[k] = asked.get(b.other_of, everyone)
            continue
        if b.type == "multiple":
            target, exact = np.stack([cells[c] != "N/A" for c in b.cols], axis=1).any(axis=1), True
        elif b.type == "upload":
            target, exact = cells[b.cols[-1]] != "", True
        else:
            target = np.stack([~np.isin(cells[c], MISSING) for c in b.cols], axis=1).any(axis=1)
            exact = False

        def fits(mask: np.ndarray, target=target, exact=exact) -> bool:
            return bool((mask == target).all()) if exact else not (target & ~mask).any()

        kept = _previous_filter(b, blocks)
        if kept is not None:
            cond, pk = kept
            sel = _eval(cond, blocks[pk], cells)
            if sel is not None and fits(sel & asked.get(pk, everyone)):
                b.asked_if, asked[k] = cond, sel & asked.get(pk, everyone)
                continue
            b.review.append(
                f"the {b.prev_edition} filter ({b.prev.asked_if.describe()}) does not hold on "
                "this export: filter inferred again — check it"
            )
        if target.all() or not target.any() or (b.prev is not None and not exact):
            asked[k] = everyone  # free answers cannot show that a continuing question got a filter
            continue
        found = None
        for pk in range(k - 1, max(-1, k - 1 - PARENT_WINDOW), -1):
            p = blocks[pk]
            if p.kind != "question" or p.other_of is not None or p.id == b.id:
                continue
            fitting = []
            for cand in _parent_conditions(p, pk, cells, target, exact):
                mask = cand.mask & asked.get(pk, everyone)
                if fits(mask):
                    fitting.append((int(mask.sum()), len(fitting), cand, mask))
            if fitting:  # the most specific condition on the nearest parent
                _n, _i, cand, mask = min(fitting, key=lambda f: (f[0], f[1]))
                found = (cand, mask)
                break
        if found:
            b.asked_if = found[0].cond
            asked[k] = found[1]
            if not exact:
                b.review.append(
                    f"filter inferred from who answered ({int(target.sum())} answers, none outside "
                    "it): check it against the questionnaire"
                )
        else:
            asked[k] = everyone


# -- codes and groups -------------------------------------------------------------------------
def _assign_codes(blocks: list[Block], groups: list, skip: set[str] = frozenset()) -> list[str]:
    """Questions' codes and groups from the timing columns; returns review notes."""
    notes = []
    codes = [(code, name) for name, cs, _cols in groups for code in cs if code not in skip]
    targets = [
        b for b in blocks if b.kind in ("question", "upload", "personal") and b.other_of is None
    ]
    known = {}
    for b in targets:  # anchors: a code the previous edition or the .lss gives
        c = b.lss.code if b.lss is not None else (b.prev.code if b.prev is not None else None)
        if c:
            known[id(b)] = c
    if not codes:  # codes and groups of the previous edition (or the .lss) where they continue
        for b in targets:
            if id(b) in known:
                b.code = known[id(b)]
                b.group = b.lss.group if b.lss is not None else b.prev.group
        if all(id(b) in known for b in targets):
            return []
        return ["no timing columns in the export: codes and groups of new questions are invented"]
    code_pos = {c: i for i, (c, _n) in enumerate(codes)}
    if len(codes) == len(targets):
        for b, (c, name) in zip(targets, codes, strict=True):
            b.code, b.group = c, name
        return notes
    # align on anchors, in order between them
    anchors = [(i, code_pos[known[id(b)]]) for i, b in enumerate(targets)
               if known.get(id(b)) in code_pos]  # fmt: skip
    seq = [(-1, -1), *anchors, (len(targets), len(codes))]
    ok = all(a[0] < b[0] and a[1] < b[1] for a, b in zip(seq, seq[1:], strict=False))
    if not ok:
        seq = [(-1, -1), (len(targets), len(codes))]
    for (ti, ci), (tj, cj) in zip(seq, seq[1:], strict=False):
        if ti >= 0 and ti < len(targets):
            targets[ti].code, targets[ti].group = codes[ci]
        span_t, span_c = range(ti + 1, tj), list(range(ci + 1, cj))
        if len(span_t) != len(span_c) and span_t:
            notes.append(
                f"{len(span_c)} timing codes for {len(span_t)} questions between "
                f"{targets[ti].code if ti >= 0 else 'the start'} and "
                f"{codes[cj][0] if cj < len(codes) else 'the end'}: codes assigned from the "
                "end of the span (personal columns removed from the export?) — check them"
            )
            span_c = span_c[len(span_c) - len(span_t) :] if len(span_c) > len(span_t) else span_c
        for t, c in zip(span_t, span_c, strict=False):
            targets[t].code, targets[t].group = codes[c]
            if len(range(ti + 1, tj)) != len(list(range(ci + 1, cj))):
                targets[t].review.append(
                    f"code {codes[c][0]} and group «{codes[c][1]}» assigned by position — check them"
                )
    return notes


def _absent_identity(blocks: list[Block], groups: list, prev: Codebook | None) -> list[Question]:
    """The previous edition's personal and identifying questions that this export lacks while
    its timing columns still carry their codes (identifying columns removed before sharing)."""
    if prev is None:
        return []
    present = {normalise_heading(h) for b in blocks for h in b.headings}
    timing_codes = {c for _name, cs, _cols in groups for c in cs}
    return [
        q
        for q in prev.questions
        if (q.type == "personal" or q.identifying)
        and len(q.columns) == 1
        and normalise_heading(q.columns[0].heading) not in present
        and q.code in timing_codes
    ]


# -- the draft --------------------------------------------------------------------------------
@dataclass
class Summary:
    edition: int
    previous: int | None
    source: str
    columns: int
    questions: int
    continuing: list[str] = field(default_factory=list)
    reworded: list[tuple[str, str, float]] = field(default_factory=list)  # id, match, score
    new: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    options_changed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    filters: int = 0
    review: int = 0
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        def ids(xs: list[str]) -> str:
            return ", ".join(xs) if xs else "—"

        lines = [
            f"codebook {self.edition} drafted from {self.source}: {self.columns} columns, "
            f"{self.questions} questions"
            + (f", linked to edition {self.previous}" if self.previous else ""),
        ]
        if self.previous:
            lines += [
                f"  continuing (same text): {len(self.continuing)}",
                f"  reworded: {len(self.reworded)}: "
                + (", ".join(f"{i} ({s:.0f})" for i, _m, s in self.reworded) or "—"),
                f"  new: {len(self.new)}: {ids(self.new)}",
                f"  dropped (in {self.previous}, not in {self.edition}): {len(self.dropped)}: "
                f"{ids(self.dropped)}",
                f"  options changed: {len(self.options_changed)}: {ids(self.options_changed)}",
                f"  moved (another group or place): {len(self.moved)}: {ids(self.moved)}",
            ]
        else:
            lines.append(f"  new: {len(self.new)} (no previous edition)")
        lines.append(f"  filters (asked_if) inferred: {self.filters}")
        lines.append(
            f"  to review: {self.review} question(s) carry a 'review:' note"
            + (" — search 'review:' in the file" if self.review else "")
        )
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


@dataclass
class Draft:
    codebook: dict[str, Any]
    summary: Summary


def draft(
    export: str | Path,
    edition: int,
    *,
    previous: Codebook | int | None = None,
    lss: str | Path | None = None,
) -> Draft:
    """Draft an edition's codebook from its export (see the module docstring)."""
    export = Path(export)
    prev = load(previous) if isinstance(previous, int | str) else previous
    headings, rows = read_raw(export)
    n = len(rows)
    if n == 0:
        raise DraftError(f"{export}: no response in the export — types cannot be inferred")
    matrix = np.array(rows, dtype=object).reshape(n, len(headings))
    cells = {k: matrix[:, k].astype(str) for k in range(len(headings))}
    _refuse_code_headings(export, headings)
    blocks, groups, total = _split(headings, prev)
    absent = _absent_identity(blocks, groups, prev)
    structure = None
    if lss:
        from analysis.survey import lss as lssmod

        structure = lssmod.read(Path(lss))

    # [Autre] texts of multiple choices; types
    out_blocks: list[Block] = []
    for b in blocks:
        if (
            b.kind == "question"
            and b.labels[0] is not None
            and len(b.labels) > 1
            and (fold(b.labels[-1] or "") == "autre")
        ):
            vals = {v for c in b.cols[:-1] for v in cells[c]}
            if vals <= YES_NO:
                other = Block("question", b.stem, [b.cols[-1]], [b.headings[-1]], [None])
                b.cols, b.headings, b.labels = b.cols[:-1], b.headings[:-1], b.labels[:-1]
                out_blocks.append(b)
                other.other_of = len(out_blocks) - 1
                other.type = "text"
                out_blocks.append(other)
                continue
        out_blocks.append(b)
    blocks = out_blocks
    for b in blocks:
        if b.kind in ("question", "upload") and not b.type:
            _infer_type(b, [list(cells[c]) for c in b.cols])
    if structure is not None:
        for b in blocks:
            if b.kind in ("question", "upload") and b.other_of is None:
                b.lss = structure.find(b.stem, b.labels)
                if b.lss is not None and b.lss.kind in lssmod.TYPE_OF:
                    t = lssmod.TYPE_OF[b.lss.kind]
                    if t != b.type:
                        b.type = t
    if prev is not None:
        # a single/text ambiguity is settled by the previous edition
        _link(blocks, prev)
        for b in blocks:
            if b.prev is not None and b.type in ("text", "single"):
                b.type = b.prev.type if b.prev.type in ("text", "single") else b.type
    notes = _assign_codes(blocks, groups, {q.code for q in absent})
    for b in blocks:  # personal columns found by their heading take the timing code
        if b.kind == "personal" and b.prev is None and b.code:
            b.fixed.update(code=b.code, group=b.group)
            b.fixed["columns"][0]["code"] = b.code
    if absent:  # kept where a field export has them, so that ingestion drops them
        notes.append(
            f"identifying columns absent from this export, kept from {prev.edition} (a field "
            f"export has them; ingestion drops them): {', '.join(q.id for q in absent)}"
        )

    # ids, items, options
    taken = {b.fixed["id"] for b in blocks if b.fixed} | {q.id for q in absent}
    reserved = {q.id for q in prev.questions} if prev is not None else set()
    for b in blocks:
        if b.fixed or b.other_of is not None or b.kind not in ("question", "upload"):
            continue
        if b.prev is not None:
            b.id = b.prev.id
            taken.add(b.id)
    for b in blocks:
        if b.fixed or b.kind not in ("question", "upload"):
            continue
        if b.other_of is not None:
            own = blocks[b.other_of].id + "_autre"
            b.id = _unique(own, taken, reserved - {own})
            continue
        if not b.id:
            b.id = _unique(slug(b.stem), taken, reserved)
    for b in blocks:
        if b.kind in ("question", "upload") and not b.fixed:
            _items_and_options(b, cells)
    if structure is not None:
        for b in blocks:  # the questionnaire's codes and groups
            if b.lss is not None:
                b.code, b.group = b.lss.code, b.lss.group or b.group
        _filters_from_lss(blocks)
    _infer_filters(blocks, cells, n)  # for questions the .lss does not describe
    _chapters(blocks)
    timing = _timing_questions(headings, groups, total, prev)
    summary = _summarise(blocks, prev, edition, export, len(headings), notes)
    questions = _entries(blocks, prev, timing)
    if absent:  # where the timing columns place them (after the metadata otherwise)
        order = {c: k for k, c in enumerate(c for _n, cs, _c in groups for c in cs)}
        for q in absent:
            at = next(
                (k for k, e in enumerate(questions)
                 if e["type"] not in ("admin", "timing") and order.get(e["code"], -1) > order[q.code]),
                len(questions),
            )  # fmt: skip
            questions.insert(at, _entry_of(q, q.columns[0].heading))
    raw: dict[str, Any] = {"edition": int(edition), "version": f"{edition}.1"}
    completion = _completion(blocks, prev)
    if completion:
        raw["completion"] = completion
    raw["questions"] = questions
    summary.questions = len(questions)
    summary.review = sum(1 for q in questions if q.get("review"))
    return Draft(raw, summary)


def _items_and_options(b: Block, cells: dict[int, np.ndarray]) -> None:
    """Item ids (previous ones where labels continue), options (previous order), notes."""
    from rapidfuzz import fuzz

    prev = b.prev
    if b.type in ("multiple", "matrix"):
        prev_items, prev_labels = {}, {}
        if prev is not None:
            prev_items = {fold(c.label or ""): c.item for c in prev.columns}
            prev_labels = {fold(c.label or ""): c.label for c in prev.columns if c.label}
        taken: set[str] = set()
        items = []
        for k, label in enumerate(b.labels):
            f = fold(label or "")
            item = prev_items.get(f)
            if item is not None and f in prev_labels:
                # a continuing item keeps the previous label's spelling (typographic
                # apostrophes…): chapters and comparisons name it by that text
                b.labels[k] = prev_labels[f]
            if item is None and prev_items:
                best = max(prev_items, key=lambda p: fuzz.ratio(f, p))
                if fuzz.ratio(f, best) >= OPTION_LINK and prev_items[best] not in taken:
                    item = prev_items[best]
                    b.review.append(
                        f"item «{label}» taken as item {item} of {b.prev_edition} (reworded)"
                    )
            if item is None or item in taken:
                if prev is not None:
                    b.review.append(f"new item «{label}»: not in {b.prev_edition}")
                item = _unique(
                    slug(label or "item", words=2, limit=24), taken, set(prev_items.values())
                )
            taken.add(item)
            items.append(item)
        b.items = items
        if prev is not None:
            gone = [c.item for c in prev.columns if c.item not in taken]
            if gone:
                b.review.append(
                    f"items of {b.prev_edition} no longer asked: {', '.join(map(str, gone))}"
                )
    elif b.type == "ranking":
        b.items = [
            (_RANK.match(label or "") or [None, str(k + 1)])[1] for k, label in enumerate(b.labels)
        ]
    elif b.type == "upload":
        b.items = ["documents", "filecount"][: len(b.cols)]
    if b.type not in ("single", "matrix", "ranking"):
        return
    counts = Counter(v for c in b.cols for v in cells[c] if v not in MISSING)
    observed = list(counts)
    if b.lss is not None and b.lss.answers:
        lss_opts = list(b.lss.answers)
        extra = [o for o in observed if o not in lss_opts]
        if extra:
            b.review.append(f"answers not in the .lss: {extra}")
        observed_order = lss_opts + extra
    else:
        observed_order = None
    if prev is not None and prev.options:
        base = observed_order or observed
        opts, mapping, added, gone = _continued_options(base, counts, prev.options)
        if observed_order:
            opts = observed_order  # the questionnaire's order wins
        b.options, b.option_map = opts, mapping
        for new, old in mapping.items():
            b.review.append(f"option «{new}» taken as «{old}» of {b.prev_edition} (reworded)")
        if added:
            b.review.append(
                f"new option(s) {', '.join(f'«{o}»' for o in added)}: no {b.prev_edition} counterpart "
                "(not compared)"
            )
        if gone:
            b.review.append(
                f"option(s) of {b.prev_edition} not answered in this edition: {', '.join(f'«{g}»' for g in gone)}"
            )
    else:
        b.options = observed_order or _order_options(observed, counts)
        if not observed_order and b.type != "ranking":
            b.review.append(
                "options ordered by a rule (Oui first, Non next, by frequency, Je ne sais pas "
                "last): put them in the order of the questionnaire"
            )


def _filters_from_lss(blocks: list[Block]) -> None:
    by_code = {b.lss.code: b for b in blocks if b.lss is not None}
    for b in blocks:
        if b.lss is None:
            continue
        if not b.lss.relevance_parsed:
            if b.lss.relevance.strip("() ") not in ("", "1"):
                b.review.append(
                    f"relevance equation not understood: «{b.lss.relevance}» — write asked_if by hand"
                )
            continue
        code, sub, answers = b.lss.relevance_parsed
        parent = by_code.get(code)
        if parent is None:
            b.review.append(f"relevance names {code}, not found in the export")
            continue
        cond: dict[str, Any] = {"question": parent.id}
        if parent.type == "multiple" and sub:
            items = [
                parent.items[parent.lss.sub_codes.index(s)]
                for s in sub
                if s in parent.lss.sub_codes
            ]
            cond["items"] = items
        else:
            labels = [parent.lss.answer_codes.get(a, a) for a in answers]
            if parent.type == "matrix" and sub:
                cond["item"] = parent.items[parent.lss.sub_codes.index(sub[0])]
            cond["in"] = [o for o in parent.options if o in labels] or labels
        b.asked_if = cond


#: Words of a question's group or text that suggest its chapter (when no question of the group
#: continues from the previous edition), tried in this order.
CHAPTER_WORDS = (
    ("ia", ("intelligence artificielle", "ia ", "ia,", "algorithm")),
    ("cybersecurite", ("cyber", "securite informatique")),
    ("environnement", ("numerique responsable", "environnement", "ecolog", "climat", "sobriete")),
    ("gouvernance", ("gouvernance", "droit", "rgpd", "ouverture", "transparence", "open data",
                     "souverainete", "ethique")),
    ("organisation", ("management", "organisation", "technique", "hebergement", "competence",
                      " formation", " outil")),
    ("motivations", ("objectif", "priorit", "usage", "motivation", "obstacle")),
)  # fmt: skip


def _chapter_from_words(*texts: str) -> str | None:
    for text in texts:
        t = " " + fold(text) + " "
        for chapter, words in CHAPTER_WORDS:
            if any(w in t for w in words):
                return chapter
    return None


def _chapters(blocks: list[Block]) -> None:
    by_group: dict[str, Counter] = {}
    for b in blocks:
        if b.prev is not None:
            by_group.setdefault(b.group, Counter())[b.prev.chapter] += 1
    last = "contexte"
    for b in blocks:
        if b.fixed or b.kind not in ("question", "upload"):
            continue
        if b.other_of is not None:
            b.chapter = blocks[b.other_of].chapter
        elif b.prev is not None:
            b.chapter = b.prev.chapter
        else:
            guess = by_group.get(b.group)
            b.chapter = (
                guess.most_common(1)[0][0]
                if guess
                else _chapter_from_words(b.group, b.stem) or last
            )
            b.review.append(
                f"chapter {b.chapter} guessed from its group «{b.group}»: choose one of "
                + ", ".join(CHAPTERS)
            )
        last = b.chapter


def _timing_questions(
    headings: list[str], groups: list, total: int | None, prev: Codebook | None
) -> list[dict]:
    out = []
    taken: set[str] = set()
    known = {}
    if prev is not None:
        known = {normalise_heading(q.columns[0].heading): q.id for q in prev.of_type("timing")}
    if total is not None:
        out.append(
            {
                "id": "duree_totale",
                "code": "interviewtime",
                "group": "(durées)",
                "chapter": "contexte",
                "type": "timing",
                "text": "Temps total passé sur le questionnaire (secondes)",
                "columns": [{"heading": headings[total], "code": "interviewtime"}],
            }
        )
        taken.add("duree_totale")
    for rank, (name, codes, cols) in enumerate(groups, start=1):
        group_cols = [c for c in cols if _TIME_GROUP.match(normalise_heading(headings[c]))]
        base = "duree_" + (slug(name, words=3) if name else f"groupe_{rank}")
        if group_cols and normalise_heading(headings[group_cols[0]]) in known:
            base = known[normalise_heading(headings[group_cols[0]])]
        qid = _unique(base, taken)
        columns = []
        for c in group_cols:
            columns.append({"heading": headings[c], "code": f"groupTime{rank}", "item": "groupe"})
        for code, c in zip(codes, [c for c in cols if c not in group_cols], strict=True):
            columns.append({"heading": headings[c], "code": f"{code}Time", "item": code})
        if not columns:
            continue
        out.append(
            {
                "id": qid,
                "code": f"groupTime{rank}",
                "group": name,
                "chapter": "contexte",
                "type": "timing",
                "text": f"Durée passée sur le groupe « {name} » et ses questions (secondes)",
                "columns": columns,
            }
        )
    return out


def _completion(blocks: list[Block], prev: Codebook | None) -> str | None:
    from analysis.survey.clean import COMPLETION_QUESTION

    ids = {b.id for b in blocks if b.kind == "question"}
    wanted = getattr(prev, "completion", None) or COMPLETION_QUESTION
    if wanted in ids:
        return wanted
    singles = [b for b in blocks if b.kind == "question" and b.type == "single"]
    if not singles:
        return None
    singles[-1].review.append(
        f"taken as the completion question (a response is complete when it answered it): "
        f"{wanted} is not in this edition — check it"
    )
    return singles[-1].id


def _summarise(blocks, prev, edition, export, ncols, notes) -> Summary:
    s = Summary(edition, prev.edition if prev else None, export.name, ncols, 0, notes=notes)
    qs = [b for b in blocks if b.kind in ("question", "upload") and not b.fixed]
    linked = {b.prev.id for b in qs if b.prev is not None}
    prev_order = []
    if prev is not None:
        prev_order = [q.id for q in prev.questions if q.type not in ("admin", "personal", "timing")]
    linked_order = [b.prev.id for b in qs if b.prev is not None]
    # moved: a linked question whose rank among linked questions changed, or its group
    rank_prev = {qid: k for k, qid in enumerate([q for q in prev_order if q in linked])}
    stable = _longest_increasing([rank_prev[q] for q in linked_order])
    for k, b in enumerate([b for b in qs if b.prev is not None]):
        if k not in stable:
            s.moved.append(b.id)
            b.review.append(f"moved: its place in the questionnaire changed since {prev.edition}")
    for b in qs:
        if b.other_of is not None:
            continue
        if b.prev is None:
            s.new.append(b.id)
            if prev is not None:
                cands = ", ".join(f"{i} ({sc:.0f})" for i, sc in b.candidates) or "none"
                b.review.insert(0, f"new question: not found in {prev.edition} (closest: {cands})")
            if b.type_changed is not None:
                old, old_type, score = b.type_changed
                b.review.insert(
                    1,
                    f"its text matches {old} of {prev.edition} ({score:.0f}/100) but the question "
                    f"changed from {old_type} to {b.type}: not linked, so not compared — link it "
                    "by hand (previous:) only if the answers can be mapped",
                )
            continue
        if b.match in ("heading", "text"):
            s.continuing.append(b.id)
        else:
            s.reworded.append((b.id, b.match, b.score))
            cands = ", ".join(f"{i} ({sc:.0f})" for i, sc in b.candidates)
            sure = "reworded" if b.score >= SURE else "UNCERTAIN match"
            b.review.insert(
                0,
                f"{sure}: linked to {b.prev.id} of {prev.edition} by text similarity "
                f"{b.score:.0f}/100 (candidates: {cands}); compare the wordings and set "
                "previous.comparable (yes / wording / no), or remove previous",
            )
        if any("option" in r or "item" in r for r in b.review):
            s.options_changed.append(b.id)
    if prev is not None:
        others = [q.id for q in prev.questions if q.type not in ("admin", "personal", "timing")]
        autre_parents = {q.id for q in prev.questions if q.id.endswith("_autre")}
        s.dropped = [
            q for q in others
            if q not in linked
            and not (q in autre_parents and q.removesuffix("_autre") in linked)
        ]  # fmt: skip
    s.filters = sum(1 for b in qs if b.asked_if)
    return s


def _longest_increasing(seq: list[int]) -> set[int]:
    """Positions of one longest increasing subsequence (the questions that did not move)."""
    import bisect

    tails: list[int] = []
    tails_pos: list[int] = []
    parent = [-1] * len(seq)
    for i, v in enumerate(seq):
        j = bisect.bisect_left(tails, v)
        if j == len(tails):
            tails.append(v)
            tails_pos.append(i)
        else:
            tails[j] = v
            tails_pos[j] = i
        parent[i] = tails_pos[j - 1] if j > 0 else -1
    out = set()
    i = tails_pos[-1] if tails_pos else -1
    while i >= 0:
        out.add(i)
        i = parent[i]
    return out


def _entries(blocks: list[Block], prev: Codebook | None, timing: list[dict]) -> list[dict]:
    out = []
    codes_used: set[str] = set()
    for b in blocks:
        if b.fixed:
            out.append(b.fixed)
            continue
        if b.kind not in ("question", "upload"):
            continue
        if b.other_of is not None:
            parent = blocks[b.other_of]
            code = parent.code or parent.id
            b.code, b.group = code, parent.group
            cols = [{"heading": b.headings[0], "code": f"{code}[other]"}]
        else:
            if not b.code:
                b.code = b.id
                b.review.append("no LimeSurvey code found: the id stands for it")
            if b.type in ("multiple", "matrix"):
                sub = (
                    b.lss.sub_codes
                    if b.lss is not None and len(b.lss.sub_codes) == len(b.cols)
                    else None
                )
                same = b.prev is not None and b.prev.code == b.code and sub is None
                old = {c.item: c.code for c in b.prev.columns} if same else {}
                cols = [
                    {"heading": h, "code": old.get(item)
                     or f"{b.code}[{sub[j] if sub else f'SQ{j + 1:03d}'}]",
                     "item": item, "label": lbl}
                    for j, (h, item, lbl) in enumerate(zip(b.headings, b.items, b.labels, strict=True))
                ]  # fmt: skip
            elif b.type == "ranking":
                cols = [{"heading": h, "code": f"{b.code}[{item}]", "item": item}
                        for h, item in zip(b.headings, b.items, strict=True)]  # fmt: skip
            elif b.type == "upload":
                cols = [{"heading": b.headings[0], "code": b.code, "item": "documents"}]
                if len(b.headings) > 1:
                    cols.append(
                        {
                            "heading": b.headings[1],
                            "code": f"{b.code}_filecount",
                            "item": "filecount",
                        }
                    )
            else:
                cols = [{"heading": b.headings[0], "code": b.code}]
        for c in cols:  # codes must be distinct: a clash gets the id
            if c["code"] in codes_used:
                c["code"] = f"{b.id}:{c['code']}"
            codes_used.add(c["code"])
        entry: dict[str, Any] = {
            "id": b.id,
            "code": b.code,
            "group": b.group,
            "chapter": b.chapter or "contexte",
            "type": b.type,
            "text": normalise_text(b.stem),
        }
        if b.options:
            entry["options"] = [str(o) for o in b.options]
        entry["columns"] = cols
        if b.asked_if:
            entry["asked_if"] = {
                k: [str(x) for x in v] if isinstance(v, list) else str(v)
                for k, v in b.asked_if.items()
            }
        if b.prev is not None and b.type == b.prev.type:
            p: dict[str, Any] = {"edition": prev.edition, "id": b.prev.id}
            if b.option_map:
                p["options"] = {str(k): str(v) for k, v in b.option_map.items()}
            if b.match == "fuzzy":  # the wording changed: compare with a caveat, once confirmed
                p["comparable"] = "wording"
                p["comparable_why"] = (
                    f"Drafted: the question was reworded (text similarity {b.score:.0f}/100); "
                    "confirm, or set comparable: no"
                )
            entry["previous"] = p
        if b.review:
            entry["review"] = list(dict.fromkeys(b.review))
        out.append(entry)
    # timing after the survey questions, admin enrichment last (export order is kept otherwise)
    enrich = [e for e in out if e["group"] == "(enrichissement)"]
    rest = [e for e in out if e["group"] != "(enrichissement)"]
    return rest + timing + enrich


# -- writing ----------------------------------------------------------------------------------
HEADER = """\
# Codebook of the {edition} edition of the Baromètre de la data dans les territoires.
# Drafted by `barometre codebook` from {source}{previous}.
# This file is the source of truth: edit it by hand, then check it with
# `barometre codebook --check --edition {edition}`.
#
# - Every column of the export belongs to exactly one question, in export order.
# - previous: the question of the previous edition it continues (matched on its text);
#   options maps this edition's labels to the previous one's where they were reworded.
# - review: notes from the drafter where a person must decide; delete each once settled.
"""


def dump(raw: dict[str, Any], header: str) -> str:
    import yaml

    class _Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    def _str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
        style = '"' if (data != data.strip() or data == "" or "\n" in data) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    _Dumper.add_representer(str, _str)
    body = yaml.dump(raw, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    body = re.sub(r"\n(- id: )", r"\n\n\1", body)
    return header + "\n" + body


def codebook_text(result: Draft) -> str:
    """The drafted codebook as the text of ``data/codebook/<edition>.yaml``, validated
    (written by :func:`analysis.build.writers.write_codebook`)."""
    from analysis.survey.codebook import from_dict

    s = result.summary
    edition = result.codebook["edition"]
    header = HEADER.format(
        edition=edition,
        source=s.source,
        previous=f", linked to the {s.previous} codebook" if s.previous else "",
    )
    text = dump(result.codebook, header)
    try:
        from_dict(result.codebook, Path(f"{edition}.yaml"))
    except CodebookError as exc:  # a bug of the drafter, not of the export
        raise DraftError(f"the drafted codebook does not validate: {exc}") from exc
    return text
