"""Read a LimeSurvey export into typed columns named after the codebook.

``read_export`` accepts what exports look like in the field: UTF-8 with or without BOM,
UTF-16 or UTF-32 with a BOM, UTF-16 without BOM (told by its NUL bytes), cp1252 or latin-1;
``,`` ``;`` or tab separators (the one whose first records agree with the header); CRLF or lone
CR line ends; blank lines; full-text ("full"), question-code ("code") or LimeSurvey's "question
code & question text" ("codetext") headings, the English interface's metadata and timing
headings ("Response ID", "Total time", "Group time: …"); multiple-choice cells as "Oui"/"Non"
or LimeSurvey's codes "Y"/"N"; free text as long as the file; decomposed
accents, trailing spaces, ``’`` for ``'``, and the typography latin-1 lacks transliterated
(``…`` → ``...``, ``œ`` → ``oe``). One definition of an empty cell (white space, no-break spaces:
:func:`analysis.survey.values.is_blank`) for every column and for the cleaning rule's count of
empty cells; populations in every locale convention and structure types through their
vocabulary (:mod:`analysis.survey.values`), refused with file, line and heading otherwise.
Abbreviated headings are refused with that diagnosis.
Personal columns (e-mail, first name, name, job title, and unknown columns whose heading looks
personal: courriel, e-mail, mail, téléphone, portable, nom, prénom, fonction…) are dropped here
and never leave this module; the identifying columns (structure name, SIRET) are returned
apart, for enrichment only. Free-text answers have e-mail addresses, phone numbers and the
words of the names found in the export's name columns masked.

Anything else raises ``IngestError`` with the file, the line (1-based, in the file), the
column, the value, what was expected, for headings and answers the closest known one, and
what to do: spreadsheets, archives and binary files, mixed encodings, files that are not an
export of the edition (or are one of another edition), malformed or cut records, unknown,
missing or repeated columns, answers outside the codebook (answer codes say so), duplicated
response ids, and files over the ``max_bytes`` / ``max_rows`` limits.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.survey import codebook as cbmod
from analysis.survey import values
from analysis.survey.codebook import Codebook, Column, Question, normalise_heading

__all__ = [
    "Export",
    "IngestError",
    "read_export",
    "mask_personal",
    "name_words",
    "ADMIN_COLUMNS",
]

#: Admin questions kept in ``responses`` (codebook id = column name), in this order.
ADMIN_COLUMNS = (
    "response_id",
    "submitted",
    "last_page",
    "structure_key",
    "category_raw",
    "population_raw",
)
#: Identifying admin questions returned in ``identity``.
IDENTITY_COLUMNS = ("structure_name", "siret")
#: Question types whose columns must be present in an export.
REQUIRED_TYPES = cbmod.KEPT
SEPARATORS = (",", ";", "\t")
#: Multiple-choice cells: ticked, not shown (LimeSurvey's full answers, or its Y/N codes).
MULTIPLE_CELLS = {
    "Oui": (True, False),
    "Y": (True, False),
    "Non": (False, False),
    "N": (False, False),
    "": (False, False),
    values.NOT_SHOWN: (False, True),
}
#: LimeSurvey's English-interface headings of the metadata and timing columns → the French
#: interface's (the question texts are the survey's own, in French, whatever the interface).
ENGLISH_HEADINGS = {
    "Response ID": "ID de la réponse",
    "Date submitted": "Date de soumission",
    "Last page": "Dernière page",
    "Start language": "Langue de départ",
    "Seed": "Tête de série",
    "Total time": "Temps total :",
}
ENGLISH_PREFIXES = (
    ("Group time: ", "Durée pour le groupe : "),
    ("Question time: ", "Durée pour la question: "),
)
#: Separators LimeSurvey users put between the code and the text of "code & text" headings.
_CODE_TEXT_SEP = re.compile(r"[\s.:\-_|–—]+")
#: LimeSurvey's ellipsis in abbreviated headings ("Commençons par.. ").
_ABBREVIATED = re.compile(r"\.\.\s*(\]|$)")
HINT_HEADINGS = (
    "export again from LimeSurvey with 'Export questions as: Full question text' (or "
    "'Question code'); answers as 'Full answers'"
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?|0)[1-9](?:[\s.\-]?\d{2}){4}(?!\d)"
)
_PERSONAL_HEADING = re.compile(
    r"(adresse (é|e)lectronique|e-?mail|\bmail\b|courriel|t(é|e)l(é|e)phone|\bt(é|e)l\b|"
    r"portable|\bmobile\b|\bphone\b|pr(é|e)nom|\bnom\b|\bname\b|fonction|\bposte occup)",
    re.IGNORECASE,
)
#: Shortest personal value (name, first name) masked inside free text: shorter ones ("Li",
#: "Ba") would hit ordinary words.
MIN_NAME_LENGTH = 3
#: Personal questions whose values (words of the answer) are masked in free-text answers.
NAME_QUESTIONS = ("prenom", "nom")
#: Unknown columns whose values are names (dropped by the personal pattern, masked likewise).
_NAME_HEADING = re.compile(r"(pr(é|e)nom|\bnom\b|\bname\b)", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_JOINERS = ("-", "'", "’")
_JOINER = re.compile(r"([-'’])")
NAME_MASK = "[nom masqué]"
#: Zip (XLSX, ODS) and other binary signatures: not a CSV export.
_BINARY_MAGIC = {
    b"PK\x03\x04": "a ZIP archive (an .xlsx or .ods spreadsheet?)",
    b"\xd0\xcf\x11\xe0": "an OLE document (an .xls spreadsheet?)",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
}
#: A LimeSurvey answer code ("A1", "AO02", "Y", "N") instead of the answer text.
_ANSWER_CODE = re.compile(r"(A|AO|SQ)?\d{1,4}|[YN]")
HINT_FORMAT = (
    "export the responses from LimeSurvey as CSV (Export results > CSV, full or code headings)"
)


class IngestError(ValueError):
    """An export cannot be read against its codebook."""


@dataclass(frozen=True)
class Export:
    """A typed export: answers, identifying fields kept apart, and where they came from."""

    responses: pd.DataFrame
    identity: pd.DataFrame
    source: Path
    sha256: str
    encoding: str
    separator: str
    heading_style: str
    dropped_columns: tuple[str, ...] = field(default_factory=tuple)
    #: 1-based file line where each response starts (for messages of later stages).
    lines: tuple[int, ...] = field(default_factory=tuple, compare=False, repr=False)
    #: The file's heading of each codebook question id read (first column of the question).
    headings: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


# -- helpers --------------------------------------------------------------------------------
def mask_personal(values: pd.Series, names: frozenset[str] | None = None) -> pd.Series:
    """Mask e-mail addresses and French phone numbers in a string Series (vectorised); with
    ``names`` (from :func:`name_words`), also every word of the text that is one of them."""
    out = values.str.replace(_EMAIL, "[courriel masqué]", regex=True)
    out = out.str.replace(_PHONE, "[téléphone masqué]", regex=True)
    if names:

        def mask(match: re.Match) -> str:
            word = match.group(0)
            if word.casefold() in names:
                return NAME_MASK
            parts = _JOINER.split(word)  # "Saint-Goff", "d'Artagnan": each part on its own
            if len(parts) == 1:
                return word
            return "".join(NAME_MASK if p.casefold() in names else p for p in parts)

        out = out.str.replace(_WORD, mask, regex=True)
    return out


def name_words(values: list[str] | pd.Series) -> frozenset[str]:
    """The words (casefolded, at least ``MIN_NAME_LENGTH`` letters) of the given names, whole
    and by part: ``"Jean-Marc Le Goff"`` → ``jean-marc``, ``jean``, ``marc``, ``goff``."""
    words: set[str] = set()
    for v in pd.Series(values, dtype="object").dropna().unique():
        text = unicodedata.normalize("NFC", str(v)).casefold()
        for w in _WORD.findall(text):
            words.update(p for p in (w, *_JOINER.split(w)) if len(p) >= MIN_NAME_LENGTH)
    words.difference_update(_JOINERS)
    return frozenset(words)


def _fail(
    path: Path,
    what: str,
    *,
    line: int | None = None,
    column: str | None = None,
    value: str | None = None,
    expected: str | None = None,
    closest: str | None = None,
    hint: str | None = None,
) -> IngestError:
    where = [str(path)]
    if line is not None:
        where.append(f"line {line}")
    if column is not None:
        where.append(f"column {_short(column)!r}")
    msg = f"{', '.join(where)}: {what}"
    if value is not None:
        msg += f": {_short(value)!r}"
    if expected is not None:
        msg += f"; expected {expected}"
    if closest is not None:
        msg += f"; closest known: {closest!r}"
    if hint is not None:
        msg += f" — {hint}"
    return IngestError(msg)


_TOKEN = re.compile(r"[^\W_]{3,}")


def _short(text: str, limit: int = 160) -> str:
    """A cell or heading cut for an error message (a hostile file may hold megabytes)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _closest(key: str, candidates: list[str]) -> str | None:
    """The candidate the value most likely meant: a completion of it, else the one sharing
    most of its words (a shortened heading), else the most similar string; None below 0.6."""
    low = key.casefold()
    for c in candidates:
        if c.casefold().startswith(low):
            return c
    words = set(_TOKEN.findall(low))
    best, best_score = None, (0.6, 0.0)
    for c in candidates:
        cf = c.casefold()
        overlap = len(words & set(_TOKEN.findall(cf))) / len(words) if words else 0.0
        ratio = difflib.SequenceMatcher(None, low, cf, autojunk=False).ratio()
        score = (max(overlap, ratio), ratio)
        if score > best_score:
            best, best_score = c, score
    return best


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the text looks like UTF-16 without a BOM (ASCII characters
    leave a NUL byte every other byte), else None."""
    head = data[:4096]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    """Decode with a strict cascade: BOMs (UTF-8, UTF-32, UTF-16), UTF-16 without BOM, UTF-8,
    cp1252, then latin-1. Binary files (spreadsheets, archives, NUL bytes) are refused."""
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise _fail(
                path,
                f"this is {what}, not a CSV export",
                expected="a CSV text file",
                hint=HINT_FORMAT,
            )
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            return data.decode("utf-32"), "utf-32"
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16"), "utf-16"
        bomless = _utf16_without_bom(data)
        if bomless:
            return data.decode(bomless), bomless
    except UnicodeDecodeError as exc:
        raise _fail(
            path,
            f"not valid Unicode text ({exc.reason} at byte {exc.start})",
            expected="a UTF-8, UTF-16, cp1252 or latin-1 CSV file",
            hint="save the export again as UTF-8 CSV",
        ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    # Valid UTF-8 accents beside invalid bytes: parts of the file were saved in another
    # encoding (edited by hand?); cp1252 would turn the UTF-8 parts into "Ã©".
    as_utf8 = data.decode("utf-8", errors="replace")
    valid = sum(1 for ch in as_utf8 if ord(ch) > 0x7F and ch != "\ufffd")
    if valid >= 2:
        raise _fail(
            path,
            f"mixed encodings: UTF-8 text with bytes of another encoding "
            f"({data[bad_at : bad_at + 4]!r} at byte {bad_at})",
            line=data.count(b"\n", 0, bad_at) + 1,
            expected="one encoding for the whole file",
            hint="export the file again from LimeSurvey rather than editing it",
        )
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _sniff(text: str, path: Path) -> str:
    """The separator whose first records (up to 5) all have as many fields as the header,
    the most fields first; else the one giving the most header fields (ties: the first of
    SEPARATORS). Headings may hold commas (unquoted in a ``;`` export)."""
    scores = []
    for rank, sep in enumerate(SEPARATORS):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
        widths = []
        try:
            for rec in reader:
                if rec and not (len(rec) == 1 and not rec[0].strip()):
                    widths.append(len(rec))
                if len(widths) == 5:
                    break
        except csv.Error:
            pass
        if widths and widths[0] > 1:
            consistent = len(widths) > 1 and len(set(widths)) == 1
            scores.append((consistent, widths[0], -rank, sep))
    best = max(scores)[3] if scores else None
    if best is None:
        raise _fail(
            path,
            "cannot find the separator of the header line",
            expected="',', ';' or tab",
            hint=HINT_FORMAT,
        )
    return best


def _records(text: str, sep: str, path: Path, max_rows: int | None) -> tuple[list, list[int]]:
    """All records with the 1-based file line where each starts; blank lines skipped."""
    # a free-text answer may be as long as the file (a pasted document): the size of the
    # file is what is limited (max_bytes), not the size of a cell
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    end = 0
    while True:
        start = end + 1
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _fail(
                path,
                f"malformed row ({exc})",
                line=start,
                expected="a well-quoted CSV record",
                hint="the file looks cut or edited by hand: export it again from LimeSurvey",
            ) from None
        end = reader.line_num
        if not rec or (len(rec) == 1 and not rec[0].strip()):
            continue
        rows.append(rec)
        lines.append(start)
        if max_rows is not None and len(rows) - 1 > max_rows:
            raise _fail(
                path,
                f"more than {max_rows} responses",
                line=start,
                expected=f"at most max_rows={max_rows}",
                hint="if the export is genuine, raise the limit (--max-rows)",
            )
    return rows, lines


def _other_editions(codebook: Codebook) -> list[Codebook]:
    out = []
    directory = codebook.path.parent if codebook.path else cbmod.CODEBOOK_DIR
    for p in sorted(directory.glob("*.yaml")):
        if p.stem == str(codebook.edition) or not p.stem.isdigit():
            continue  # itself, or not a codebook (e.g. 2023.edition.yaml: the edition's facts)
        try:
            out.append(cbmod.load(p.stem, directory))
        except cbmod.CodebookError:
            continue
    return out


#: Typography that single-byte encodings (latin-1) lack, as a converter transliterates it.
_TRANSLIT = str.maketrans(
    {"…": "...", "œ": "oe", "Œ": "OE", "–": "-", "—": "-", "“": '"', "”": '"', "‘": "'"}
)


def _fold(text: str) -> str:
    """``normalise_heading`` with the typography latin-1 lacks transliterated."""
    return " ".join(normalise_heading(text).translate(_TRANSLIT).split())


def _folded(keys: dict) -> dict:
    """``{_fold(key): value}`` for the keys whose folded form is unambiguous."""
    out: dict = {}
    clash = set()
    for key, value in keys.items():
        f = _fold(key)
        if f in out and out[f] != value:
            clash.add(f)
        out[f] = value
    return {k: v for k, v in out.items() if k not in clash}


def _english(heading: str) -> str:
    """The French interface's heading of an English-interface metadata or timing heading."""
    h = heading.strip()
    if h in ENGLISH_HEADINGS:
        return ENGLISH_HEADINGS[h]
    for en, fr in ENGLISH_PREFIXES:
        if (h + " ").startswith(en):
            return fr + h[len(en) :]
    return heading


def _match(codebook: Codebook, headings: list[str]) -> tuple[str, list]:
    """Heading style and, per file column, its (question, column) or None. A full-text
    heading is looked up as is (normalised), then transliterated (a latin-1 export); the
    English interface's metadata and timing headings are understood. The styles: ``full``
    (question text), ``code`` (question code), ``codetext`` (LimeSurvey's "question code &
    question text": the code, a separator such as ``. ``, the text — both must agree)."""
    by_full = codebook.headings
    by_code = codebook.codes
    folded = _folded(by_full)

    def full_of(h: str):
        for t in (h, _english(h)):
            m = by_full.get(normalise_heading(t)) or folded.get(_fold(t))
            if m is not None:
                return m
        return None

    full = [full_of(h) for h in headings]
    code = [by_code.get(h.strip()) for h in headings]
    codes = sorted(by_code, key=len, reverse=True)

    def codetext_of(h: str):
        h = h.strip()
        for c in codes:
            if not h.startswith(c):
                continue
            rest = h[len(c) :]
            sep = _CODE_TEXT_SEP.match(rest)
            if rest and not sep:
                continue
            m = by_code[c]
            text = rest[sep.end() :] if sep else ""
            if full_of(text) == m or (not text and not normalise_heading(m[1].heading)):
                return m
        return None

    n_full = sum(m is not None for m in full)
    n_code = sum(m is not None for m in code)
    if max(n_full, n_code) < len(headings):
        codetext = [codetext_of(h) for h in headings]
        n_codetext = sum(m is not None for m in codetext)
        if n_codetext > max(n_full, n_code):
            return "codetext", codetext
    return ("code", code) if n_code > n_full else ("full", full)


def _abbreviated(headings: list[str], unknown: list[int]) -> list[str]:
    """Headings that end with LimeSurvey's abbreviation ellipsis, when most unknown ones do."""
    cut = [headings[i] for i in unknown if _ABBREVIATED.search(headings[i].rstrip())]
    return cut if len(cut) >= max(2, len(unknown) / 2) else []


def _hits(codebook: Codebook, headings: list[str]) -> int:
    return max(
        sum(normalise_heading(h) in codebook.headings for h in headings),
        sum(h.strip() in codebook.codes for h in headings),
    )


# -- typing ---------------------------------------------------------------------------------
# Each column is factorised once: the (few) distinct cells are typed in Python, then the typed
# values are spread back over the rows with numpy (no per-row Python work).
def _line_of(codes: np.ndarray, k: int, lines: np.ndarray) -> int:
    return int(lines[np.flatnonzero(codes == k)[0]])


def _typed(
    q: Question,
    col: Column,
    heading: str,
    raw: pd.Series,
    lines: np.ndarray,
    path: Path,
    names: frozenset[str] | None = None,
) -> pd.Series:
    codes, uniques = pd.factorize(raw.to_numpy(), use_na_sentinel=False)
    cells = [values.strip_blank(unicodedata.normalize("NFC", u)) for u in uniques]
    index = raw.index
    if q.type in ("single", "matrix", "ranking"):
        options = {normalise_heading(o): k for k, o in enumerate(q.options)}
        folded = _folded(options)
        ucodes = np.empty(len(cells), dtype=np.int64)
        for k, s in enumerate(cells):
            if values.is_missing(s):
                ucodes[k] = -1
                continue
            key = normalise_heading(s)
            if key not in options and _fold(key) in folded:
                key = q.options[folded[_fold(key)]]
                key = normalise_heading(key)
            if key not in options:
                coded = _ANSWER_CODE.fullmatch(s) and not any(
                    _ANSWER_CODE.fullmatch(o) for o in q.options
                )
                raise _fail(
                    path,
                    f"answer outside the codebook options of {q.id!r}",
                    line=_line_of(codes, k, lines),
                    column=heading,
                    value=s,
                    expected=f"one of {list(q.options)}",
                    closest=_closest(key, [normalise_heading(o) for o in q.options]),
                    hint=(
                        "the export holds answer codes: export it with full answer texts "
                        "(LimeSurvey: 'Full answers')"
                        if coded
                        else "correct the cell, or add the option to the edition's codebook "
                        "(data/codebook/) if the questionnaire offered it"
                    ),
                )
            ucodes[k] = options[key]
        cat = pd.Categorical.from_codes(
            ucodes[codes], categories=list(q.options), ordered=q.type != "ranking"
        )
        return pd.Series(cat, index=index)
    if q.type == "multiple":
        table = MULTIPLE_CELLS
        vals = np.empty(len(cells), dtype=bool)
        mask = np.empty(len(cells), dtype=bool)
        for k, s in enumerate(cells):
            if s not in table:
                raise _fail(
                    path,
                    f"multiple-choice cell of {q.id!r} not understood",
                    line=_line_of(codes, k, lines),
                    column=heading,
                    value=s,
                    expected="'Oui', 'Non' (or LimeSurvey's codes 'Y', 'N'), an empty cell "
                    "or 'N/A'",
                    hint="correct the cell (LimeSurvey writes 'Oui' for a ticked option)",
                )
            vals[k], mask[k] = table[s]
        return pd.Series(pd.arrays.BooleanArray(vals[codes], mask[codes]), index=index)
    if q.type == "numeric":
        nums = np.empty(len(cells), dtype=np.float64)
        for k, s in enumerate(cells):
            if values.is_missing(s):
                nums[k] = np.nan
                continue
            try:
                nums[k] = float(s.replace("\u202f", "").replace(" ", "").replace(",", "."))
            except ValueError:
                raise _fail(
                    path,
                    f"numeric answer of {q.id!r} not understood",
                    line=_line_of(codes, k, lines),
                    column=heading,
                    value=s,
                    expected="a number",
                    hint="correct the cell (digits, with a decimal comma or point)",
                ) from None
        return pd.Series(nums[codes], index=index)
    # free text: masked once per distinct answer
    texts = pd.Series([pd.NA if values.is_missing(s) else s for s in cells], dtype="string")
    texts = mask_personal(texts, names).to_numpy(dtype=object, na_value=pd.NA)
    return pd.Series(pd.array(texts[codes], dtype="string"), index=index)


def _first_line(values: pd.Series, bad: object, lines: np.ndarray) -> int:
    return int(lines[np.flatnonzero((values == bad).to_numpy())[0]])


def _admin(qid: str, raw: pd.Series, heading: str, lines: np.ndarray, path: Path) -> pd.Series:
    s = raw.map(lambda v: values.strip_blank(unicodedata.normalize("NFC", v)))
    if qid == "response_id":
        ok = s.str.fullmatch(r"\d+")
        if not ok.all():
            bad = s[~ok].iloc[0]
            raise _fail(
                path,
                "response id is not a positive integer",
                line=_first_line(s, bad, lines),
                column=heading,
                value=bad,
                expected="digits",
                hint="the ids are LimeSurvey's own: export the responses again",
            )
        return s.astype("int64")
    if qid == "submitted":
        return (s != "").astype("boolean")
    if qid == "population_raw":
        pops, err = values.parse_populations(s.tolist(), where=lambda k: f"line {int(lines[k])}")
        if err is not None:
            k, cell, reason = err
            raise _fail(
                path,
                f"population not understood ({reason})",
                line=int(lines[k]),
                column=heading,
                value=cell,
                expected="a whole number of inhabitants (12000, 12 000, 12,000 or 12.000) or "
                "an empty cell",
                hint="correct the cell or leave it empty",
            )
        return pd.Series(pd.array(pops, dtype="Int64"), index=raw.index)
    if qid == "category_raw":
        kinds = {v: values.structure_type(v) for v in s.unique()}
        unknown = [v for v, k in kinds.items() if k is None]
        if unknown:
            where = [(int(lines[(s == v).to_numpy()][0]), v) for v in unknown]
            where.sort()
            listed = ", ".join(f"{_short(v, 60)!r} (line {n})" for n, v in where[:5])
            more = f" and {len(where) - 5} more" if len(where) > 5 else ""
            raise _fail(
                path,
                f"unknown structure type{'s' if len(where) > 1 else ''}: {listed}{more}",
                line=where[0][0],
                column=heading,
                expected="one of Commune, EPCI, Métropole, Département, Région (their plurals "
                "and institutional names such as 'Conseil départemental' or 'Communauté de "
                "communes' too) or an empty cell (counted as Autre)",
                hint="correct the cells; the vocabulary is documented in docs/robustness.md",
            )
        return s.replace("", pd.NA).astype("string")
    if qid == "last_page":
        plain = s.str.replace(r"[ \u00a0\u202f]", "", regex=True).str.replace(",", ".")
        num = pd.to_numeric(plain.replace("", np.nan), errors="coerce")
        bad = s[num.isna() & (s != "")]
        if len(bad):
            raise _fail(
                path,
                "last page is not a number",
                line=_first_line(s, bad.iloc[0], lines),
                column=heading,
                value=bad.iloc[0],
                expected="a number or an empty cell",
                hint="correct the cell or leave it empty",
            )
        frac = num.notna() & (num != num.round())
        if frac.any():
            bad = s[frac].iloc[0]
            raise _fail(
                path,
                "last page is not a whole number",
                line=_first_line(s, bad, lines),
                column=heading,
                value=bad,
                expected="a page number or an empty cell",
                hint="correct the cell or leave it empty",
            )
        return num.astype("Int64")
    return s.replace("", pd.NA).astype("string")


# -- main entry point -----------------------------------------------------------------------
def read_export(
    path: str | Path,
    codebook: Codebook | int | str,
    *,
    max_bytes: int | None = None,
    max_rows: int | None = None,
) -> Export:
    """Read a LimeSurvey export against a codebook (or an edition number)."""
    path = Path(path)
    cb = codebook if isinstance(codebook, Codebook) else cbmod.load(codebook)
    if not path.is_file():
        raise _fail(
            path,
            "no such file" if not path.exists() else "not a file",
            expected="a CSV export",
            hint="check the path given to --input",
        )
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise _fail(
            path,
            f"file is {size} bytes",
            expected=f"at most max_bytes={max_bytes}",
            hint="if the export is genuine, raise the limit (--max-bytes)",
        )
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    text, encoding = _decode(data, path)
    if "\x00" in text:
        raise _fail(
            path,
            "binary content (NUL character)",
            line=text.count("\n", 0, text.index("\x00")) + 1,
            expected="a CSV text file",
            hint=HINT_FORMAT,
        )
    # CRLF (Windows) and lone CR (old Mac) line ends, also inside quoted cells
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise _fail(
            path,
            "empty file",
            expected="a header line and at least one response",
            hint=HINT_FORMAT,
        )
    sep = _sniff(text, path)
    rows, lines_list = _records(text, sep, path, max_rows)
    headings = [unicodedata.normalize("NFC", h) for h in rows[0]]
    if len(rows) < 2:
        raise _fail(
            path,
            "headers only, no response",
            line=lines_list[0] + 1,
            expected="response rows",
            hint="export the responses too (LimeSurvey: all responses, not a blank template)",
        )
    width = len(headings)
    lines = np.asarray(lines_list[1:])

    # -- headings -> codebook -----------------------------------------------------------
    style, matched = _match(cb, headings)
    unknown = [i for i, m in enumerate(matched) if m is None]
    if unknown:
        own = width - len(unknown)
        for other in _other_editions(cb):
            hits = _hits(other, headings)
            if hits > own and hits >= width / 2:
                raise _fail(
                    path,
                    f"this looks like an export of edition {other.edition}, not {cb.edition}: "
                    f"{hits} of {width} headings match the {other.edition} codebook, "
                    f"{own} the {cb.edition} one",
                    expected=f"an export of edition {cb.edition}",
                    hint=f"pass --edition {other.edition} if that is the edition meant",
                )
    own = width - len(unknown)
    cut = _abbreviated(headings, unknown)
    if cut:
        raise _fail(
            path,
            f"this export uses LimeSurvey's abbreviated headings ({len(cut)} of its {width} "
            f"headings are cut, e.g. {_short(cut[0], 60)!r}): they cannot be matched to the "
            "questions reliably",
            line=1,
            expected="full question texts ('Full question text') or question codes",
            hint=HINT_HEADINGS,
        )
    if own < max(2, 0.1 * width):
        raise _fail(
            path,
            f"not an export of the {cb.edition} questionnaire: {own} of its {width} headings "
            f"(separator {sep!r}) are known to the {cb.edition} codebook",
            line=1,
            column=headings[unknown[0]] if unknown else None,
            expected=f"a LimeSurvey export of edition {cb.edition}",
            hint=HINT_FORMAT,
        )
    dropped: list[str] = []
    for i in unknown:
        if _PERSONAL_HEADING.search(headings[i]):
            dropped.append(headings[i])
            continue
        known = list(cb.headings) if style != "code" else list(cb.codes)
        key = normalise_heading(headings[i]) if style != "code" else headings[i].strip()
        raise _fail(
            path,
            f"unknown column (not in the {cb.edition} codebook; {len(unknown)} unknown in all)",
            line=1,
            column=headings[i],
            expected="a heading of the codebook",
            closest=_closest(key, known),
            hint="restore the heading as LimeSurvey exported it; a new question goes into "
            f"data/codebook/{cb.edition}.yaml first",
        )
    seen: dict[tuple[str, str], int] = {}
    for i, m in enumerate(matched):
        if m is None:
            continue
        key = (m[0].id, m[1].heading)
        if key in seen:
            raise _fail(
                path,
                f"column repeated (also column {seen[key] + 1})",
                line=1,
                column=headings[i],
                expected="each codebook column once",
                hint="remove the repeated column",
            )
        seen[key] = i
    present = {(q.id, c.heading) for q, c in (m for m in matched if m is not None)}
    for q in cb.questions:
        if q.type not in REQUIRED_TYPES and q.id != "response_id":
            continue
        missing = [c for c in q.columns if (q.id, c.heading) not in present]
        if missing:
            c = missing[0]
            raise _fail(
                path,
                f"missing column of question {q.id!r} ({len(missing)} of its "
                f"{len(q.columns)} columns missing)",
                line=1,
                column=c.code if style == "code" else c.heading,
                expected="every question column of the codebook",
                hint="export all the questions (LimeSurvey: every column), headings unchanged",
            )

    # -- record widths (after the headings: a file that is no export says so first) -----
    for rec, line in zip(rows[1:], lines_list[1:], strict=True):
        if len(rec) != width:
            kind = "too many fields" if len(rec) > width else "truncated row (too few fields)"
            raise _fail(
                path,
                f"{kind}: {len(rec)} fields",
                line=line,
                expected=f"{width} fields as in the header",
                hint="the file looks cut or edited by hand: export it again from LimeSurvey",
            )

    # -- typing -------------------------------------------------------------------------
    raw = pd.DataFrame(rows[1:], dtype=object)
    name_cols = [
        i
        for i, m in enumerate(matched)
        if (m is not None and m[0].id in NAME_QUESTIONS)
        or (m is None and _NAME_HEADING.search(headings[i]))
    ]
    names = name_words(pd.concat([raw[i] for i in name_cols])) if name_cols else None
    out: dict[str, pd.Series] = {}
    identity: dict[str, pd.Series] = {}
    for i, m in enumerate(matched):
        if m is None:
            continue
        q, col = m
        if q.type == "admin":
            if q.id in ADMIN_COLUMNS:
                out[q.id] = _admin(q.id, raw[i], headings[i], lines, path)
            elif q.identifying or q.id in IDENTITY_COLUMNS:
                identity[q.id] = _admin(q.id, raw[i], headings[i], lines, path)
            else:
                dropped.append(headings[i])
        elif q.type in cbmod.KEPT:
            out[q.column_id(col)] = _typed(q, col, headings[i], raw[i], lines, path, names)
        else:  # personal, upload, timing
            dropped.append(headings[i])
    n = len(raw)
    shown: dict[str, str] = {}
    for h, m in zip(headings, matched, strict=True):
        if m is not None:
            shown.setdefault(m[0].id, h)
    for qid in ADMIN_COLUMNS:
        if qid not in out:  # optional admin column absent from this export
            out[qid] = pd.Series(pd.NA, index=raw.index, dtype="string")
    ids = out["response_id"]
    dup = ids.duplicated(keep=False)
    if dup.any():
        first = ids[dup].iloc[0]
        where = lines[(ids == first).to_numpy()]
        raise _fail(
            path,
            f"duplicated response id {first} (lines {', '.join(map(str, where))})",
            line=int(where[1]),
            column=next(
                h for h, m in zip(headings, matched, strict=True) if m and m[0].id == "response_id"
            ),
            value=str(first),
            expected="one row per response id",
            hint="rows were pasted or merged twice: export the responses again",
        )
    order = list(ADMIN_COLUMNS) + [
        cid for q in cb.questions if q.type in cbmod.KEPT for cid in q.column_ids if cid in out
    ]
    responses = pd.DataFrame({k: out[k] for k in order}, index=pd.RangeIndex(n))
    # empty cells of the row over every column of the file, as the published cleaning counts
    # them to keep the most complete of a structure's responses (read before any typing)
    # (one definition of an empty cell: analysis.survey.values.is_blank)
    cells = raw.to_numpy()
    blanks = [u for u in pd.unique(cells.ravel()) if values.is_blank(u)]  # a few distinct ones
    blank = np.isin(cells, blanks) if blanks else np.zeros(cells.shape, dtype=bool)
    responses["empty_cells"] = blank.sum(axis=1).astype("int64")
    ident = pd.DataFrame(
        {
            "response_id": ids.to_numpy(),
            **{
                k: (identity[k] if k in identity else pd.Series(pd.NA, index=raw.index))
                .astype("string")
                .to_numpy()
                for k in IDENTITY_COLUMNS
            },
        }
    )
    for k in IDENTITY_COLUMNS:
        ident[k] = ident[k].astype("string")
    return Export(
        responses=responses,
        identity=ident,
        source=path,
        sha256=sha256,
        encoding=encoding,
        separator=sep,
        heading_style=style,
        dropped_columns=tuple(dropped),
        lines=tuple(int(n) for n in lines),
        headings=shown,
    )
