"""Generate ``tests/data/bad/``: malformed and hostile exports, each with its expected outcome.

Every file is derived from a small synthetic export (:func:`analysis.survey.synth.generate`, 2023,
``N`` responses, seed ``SEED``) — never from real data — by one mutation, and
``tests/data/bad/EXPECTED.yaml`` records what must happen to it:

- ``outcome: accepted`` — ``barometre prepare`` reads it; ``dataset: same`` means the processed
  parquet is byte-identical to ``clean.csv``'s; ``dataset: text`` means it is identical except
  the free-text cells listed under ``text`` (response id → column → stored value);
- ``outcome: error`` — ``barometre prepare`` exits with status 2, prints ``error: …`` and no
  traceback, writes nothing, and the message matches every regular expression of ``message``
  (the file name, the line and/or column, what was expected).

Line numbers in the expected messages are computed here by counting the line breaks written
before the faulty record (multi-line cells included), independently of the reader.

Usage: ``.venv/bin/python scripts/make_bad_corpus.py`` (rewrites the directory; deterministic).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import re
import sys
import unicodedata
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.survey import codebook as cbmod  # noqa: E402
from analysis.survey import synth  # noqa: E402

OUT = ROOT / "tests" / "data" / "bad"
EDITION = 2023
N = 10  # responses of the accepted variants (8 complete, 6 kept by the cleaning rule)
SEED = 11
N_ERROR = 3  # responses of the files that must be refused
#: Free text planted in the hostile-text variant (stored verbatim: parquet is no spreadsheet).
HOSTILE = (
    "=cmd|' /C calc'!A0",
    "+SUM(1;2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A2)",
    '<script>alert("x")</script><b>gras</b> & <img src=x onerror=alert(1)>',
    'Ligne 1\nLigne 2 "entre guillemets", virgule; point-virgule\t"""',
)
#: What a converter writes for the characters latin-1 lacks.
LATIN1 = str.maketrans({"’": "'", "…": "...", "œ": "oe", "Œ": "OE", "–": "-", "—": "-"})
#: Personal data planted in a free-text answer, with the respondent's own name columns.
FAKE_FIRST, FAKE_LAST = "Ghislaine", "Trouvadec"
FAKE_TEXT = (
    f"Contact : {FAKE_FIRST} {FAKE_LAST}, 06 12 34 56 78 ou "
    f"{FAKE_FIRST.lower()}.{FAKE_LAST.lower()}@mairie-exemple.fr"
)
FAKE_MASKED = "Contact : [nom masqué] [nom masqué], [téléphone masqué] ou [courriel masqué]"


# -- helpers ----------------------------------------------------------------------------------
def serialise(rows: list[list[str]], sep: str = ",", quoting: int = csv.QUOTE_MINIMAL) -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\n", quoting=quoting).writerows(rows)
    return buf.getvalue()


def line_of(rows: list[list[str]], k: int, sep: str = ",") -> int:
    """1-based file line where record ``k`` (0 = header) starts once serialised."""
    return serialise(rows[:k], sep).count("\n") + 1


class Corpus:
    def __init__(self) -> None:
        self.cb = cbmod.load(EDITION)
        frame = synth.generate(EDITION, N, SEED)
        self.clean_text = synth.to_csv(frame)
        self.rows = list(csv.reader(io.StringIO(self.clean_text, newline="")))
        assert serialise(self.rows) == self.clean_text, "csv round trip differs from synth"
        self.header = self.rows[0]
        self.files: dict[str, bytes] = {}
        self.expected: dict[str, dict] = {}

    # columns
    def col(self, qid: str, k: int = 0) -> int:
        q = self.cb[qid]
        return self.header.index(q.columns[k].heading)

    def copy(self, n: int | None = None) -> list[list[str]]:
        rows = [r[:] for r in self.rows]
        return rows if n is None else rows[: n + 1]

    def complete(self) -> list[int]:
        """Record numbers (1-based) of the complete responses."""
        c = self.col("numerique_responsable")
        return [k for k in range(1, len(self.rows)) if self.rows[k][c]]

    def text_cells(self) -> list[tuple[int, int]]:
        """(record, column) of the non-empty free-text cells of complete responses."""
        cols = [
            self.header.index(c.heading)
            for q in self.cb.of_type("text")
            for c in q.columns
            if c.heading in self.header
        ]
        return [(k, i) for k in self.complete() for i in cols if self.rows[k][i]]

    def column_id(self, i: int) -> str:
        q, c = self.cb.headings[cbmod.normalise_heading(self.header[i])]
        return q.column_id(c)

    # outputs
    def add(self, name: str, data: bytes | str, what: str, **expected) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.files[name] = data
        self.expected[name] = {"what": what, **expected}

    def accepted(self, name, data, what, *, encoding, separator, dataset="same", **more):
        self.add(
            name,
            data,
            what,
            outcome="accepted",
            encoding=encoding,
            separator=separator,
            dataset=dataset,
            **more,
        )

    def error(self, name, data, what, *patterns: str) -> None:
        self.add(name, data, what, outcome="error", message=[re.escape(name), *patterns])


# -- the corpus -------------------------------------------------------------------------------
def build() -> Corpus:
    c = Corpus()
    text = c.clean_text
    rows = c.copy()
    nfc = unicodedata.normalize("NFC", text)  # single-byte encodings lack combining accents

    # accepted, same dataset as clean.csv ------------------------------------------------------
    c.accepted(
        "clean.csv",
        text,
        f"synth.generate({EDITION}, n={N}, seed={SEED}) as written: UTF-8, ',', LF, full headings",
        encoding="utf-8",
        separator=",",
    )
    c.accepted(
        "enc-cp1252.csv",
        nfc.encode("cp1252"),
        "Windows-1252 (Excel, French Windows)",
        encoding="cp1252",
        separator=",",
    )
    c.accepted(
        "enc-latin1.csv",
        nfc.translate(LATIN1).encode("latin-1"),
        "ISO-8859-1, typography latin-1 lacks transliterated (’ → ', … → ..., œ → oe): "
        "headings and answers still match; its bytes are cp1252 too, so it is read as cp1252",
        encoding="cp1252",
        separator=",",
    )
    c.accepted(
        "enc-utf8-bom.csv",
        codecs.BOM_UTF8 + text.encode("utf-8"),
        "UTF-8 with a byte-order mark",
        encoding="utf-8-sig",
        separator=",",
    )
    c.accepted(
        "enc-utf16-bom.csv",
        text.encode("utf-16"),
        "UTF-16 with a byte-order mark (Excel 'Unicode text')",
        encoding="utf-16",
        separator=",",
    )
    c.accepted(
        "enc-utf16le-nobom.csv",
        text.encode("utf-16-le"),
        "UTF-16 little-endian without byte-order mark (detected by its NUL bytes)",
        encoding="utf-16-le",
        separator=",",
    )
    c.accepted(
        "sep-semicolon.csv",
        serialise(rows, ";"),
        "';' separator (French Excel); headings keep their commas unquoted",
        encoding="utf-8",
        separator=";",
    )
    c.accepted(
        "sep-tab.csv", serialise(rows, "\t"), "tab separator", encoding="utf-8", separator="\t"
    )
    c.accepted(
        "crlf.csv",
        text.replace("\n", "\r\n"),
        "CRLF line ends, also inside multi-line cells",
        encoding="utf-8",
        separator=",",
    )
    c.accepted(
        "excel-fr.csv",
        unicodedata.normalize("NFC", serialise(rows, ";")).replace("\n", "\r\n").encode("cp1252"),
        "what French Excel saves: cp1252, ';', CRLF",
        encoding="cp1252",
        separator=";",
    )
    c.accepted(
        "layout-quoted-blank-cr.csv",
        "".join(serialise([r], ",", csv.QUOTE_ALL) + "\n" for r in rows).replace("\n", "\r"),
        "every cell quoted, a blank line after each record, lone CR line ends",
        encoding="utf-8",
        separator=",",
    )
    c.accepted(
        "nfd-accents.csv",
        unicodedata.normalize("NFD", text),
        "decomposed accents (NFD) in headings, answers and names",
        encoding="utf-8",
        separator=",",
    )
    coded = c.copy()
    coded[0] = [c.cb.headings[cbmod.normalise_heading(h)][1].code for h in c.header]
    c.accepted(
        "code-headings.csv",
        serialise(coded),
        "question-code headings (LimeSurvey 'question code' style)",
        encoding="utf-8",
        separator=",",
    )
    fr = c.copy()
    timing = [
        i
        for i, h in enumerate(c.header)
        if c.cb.headings[cbmod.normalise_heading(h)][0].type == "timing"
    ]
    pop = c.col("population_raw")
    for r in fr[1:]:
        for i in timing:
            r[i] = r[i].replace(".", ",")
        if r[pop]:
            v = int(r[pop])
            r[pop] = f"{v:,}".replace(",", "\u202f") if v % 2 else f"{v},0"
    c.accepted(
        "french-numbers.csv",
        serialise(fr),
        "decimal commas in the timing columns, populations as '1\u202f688\u202f205' or '18554,0'",
        encoding="utf-8",
        separator=",",
    )
    extra = c.copy()
    extra[0] += ["Téléphone portable", "E-mail du contact", "Nom du référent", "Mail"]
    for k, r in enumerate(extra[1:], 1):
        r += [f"06 00 11 22 {k:02d}", f"contact{k}@exemple.invalid", "Zébulon", f"x{k}@a.invalid"]
    c.accepted(
        "extra-personal-columns.csv",
        serialise(extra),
        "unknown columns that look personal (téléphone, e-mail, nom, mail): dropped at ingestion",
        encoding="utf-8",
        separator=",",
        dropped_personal=4,
    )
    twice = c.copy()
    k = c.complete()[0]
    dup = twice[k][:]
    dup[c.col("response_id")] = str(max(int(r[0]) for r in twice[1:]) + 1)
    twice.append(dup)
    c.accepted(
        "same-structure-twice.csv",
        serialise(twice),
        f"the structure of response {twice[k][0]} answers again, identically, as response "
        f"{dup[0]}: the cleaning keeps the first (drop log: duplicate_structure)",
        encoding="utf-8",
        separator=",",
        duplicates_dropped=1,
    )

    # accepted, free text differs ------------------------------------------------------------------
    hostile = c.copy()
    cells = c.text_cells()
    stored: dict[str, dict[str, str]] = {}
    for (k, i), value in zip(cells, HOSTILE, strict=False):
        hostile[k][i] = value
        stored.setdefault(hostile[k][0], {})[c.column_id(i)] = value
    assert len(stored) and sum(len(v) for v in stored.values()) == len(HOSTILE)
    c.accepted(
        "hostile-text.csv",
        serialise(hostile),
        "free text with spreadsheet formulas (=, +, -, @), HTML/script, quotes, separators, "
        "tabs and line breaks: stored as typed, never evaluated nor rendered",
        encoding="utf-8",
        separator=",",
        dataset="text",
        text=stored,
    )
    personal = c.copy()
    k, i = cells[-1]
    personal[k][i] = FAKE_TEXT
    personal[k][c.col("prenom")] = FAKE_FIRST
    personal[k][c.col("nom")] = FAKE_LAST
    c.accepted(
        "personal-in-text.csv",
        serialise(personal),
        "a free-text answer giving the respondent's name, phone and e-mail: masked",
        encoding="utf-8",
        separator=",",
        dataset="text",
        text={personal[k][0]: {c.column_id(i): FAKE_MASKED}},
        absent=[FAKE_FIRST, FAKE_LAST, "06 12 34 56 78", "mairie-exemple.fr"],
    )

    # refused ---------------------------------------------------------------------------------------
    small = c.copy(N_ERROR)
    c.error("empty.csv", b"", "an empty file (0 bytes)", "empty file", "expected a header line")
    c.error(
        "bom-only.csv",
        codecs.BOM_UTF8 + b"\r\n",
        "a UTF-8 byte-order mark and a line end, nothing else",
        "empty file",
    )
    c.error(
        "headers-only.csv",
        serialise(small[:1]),
        "the header line without any response (a blank template)",
        "headers only",
        "line 2",
        "expected response rows",
    )
    cut = small[:-1]
    last = small[-1]
    body = serialise(cut) + serialise([last[: len(last) // 2]]).rstrip("\n")
    c.error(
        "truncated-last-row.csv",
        body,
        "the file stops in the middle of its last record (outside a quoted cell)",
        rf"line {line_of(small, len(small) - 1)}\b",
        "truncated row",
        f"{len(last) // 2} fields",
        f"expected {len(c.header)} fields",
    )
    quoted = serialise(small)
    cut_at = quoted.rindex(',"') + 5  # inside the last quoted cell
    c.error(
        "truncated-in-quotes.csv",
        quoted[:cut_at],
        "the file stops inside an open quoted cell",
        "malformed row",
        "unexpected end of data",
        "line [0-9]+",
    )
    many = c.copy(N_ERROR)
    many[2].append("de trop")
    c.error(
        "too-many-fields.csv",
        serialise(many),
        "one record with an extra field",
        rf"line {line_of(many, 2)}\b",
        "too many fields",
        f"{len(c.header) + 1} fields",
        f"expected {len(c.header)} fields",
    )
    renamed = c.copy(N_ERROR)
    dpo = c.col("dpo_nomme")
    renamed[0][dpo] = "Avez-vous nommé un DPO ?"
    c.error(
        "renamed-question.csv",
        serialise(renamed),
        "a question heading reworded",
        "line 1",
        "unknown column",
        re.escape("'Avez-vous nommé un DPO ?'"),
        re.escape("closest known: 'Avez-vous nommé un(e) Délégué(e)"),
    )
    missing = c.copy(N_ERROR)
    nr = c.col("numerique_responsable")
    for r in missing:
        del r[nr]
    c.error(
        "missing-question.csv",
        serialise(missing),
        "the numérique responsable question's column removed",
        "missing column of question 'numerique_responsable'",
        re.escape(c.header[nr].strip()[:40]),
    )
    unknown = c.copy(N_ERROR)
    unknown[0].append("Commentaire interne")
    for r in unknown[1:]:
        r.append("RAS")
    c.error(
        "extra-unknown-column.csv",
        serialise(unknown),
        "an extra column the codebook does not know (and not personal-looking)",
        "line 1",
        "unknown column",
        "'Commentaire interne'",
        "expected a heading of the codebook",
    )
    repeated = c.copy(N_ERROR)
    for r in repeated:
        r.append(r[dpo])
    c.error(
        "repeated-column.csv",
        serialise(repeated),
        "a question column present twice",
        "column repeated",
        f"also column {dpo + 1}",
    )
    dupid = c.copy(N_ERROR)
    dupid[3][0] = dupid[1][0]
    c.error(
        "duplicated-response-id.csv",
        serialise(dupid),
        "two records with the same response id",
        f"duplicated response id {dupid[1][0]}",
        rf"lines {line_of(dupid, 1)}, {line_of(dupid, 3)}",
        "column 'ID de la réponse'",
    )
    outside = c.copy(N_ERROR)
    outside[2][dpo] = "Oui, externalisé"
    c.error(
        "answer-outside-codebook.csv",
        serialise(outside),
        "an answer that is not an option of its question",
        rf"line {line_of(outside, 2)}\b",
        "answer outside the codebook options of 'dpo_nomme'",
        "'Oui, externalisé'",
        "expected one of",
        "closest known",
    )
    codes = c.copy(N_ERROR)
    codes[1][dpo] = "A2"
    c.error(
        "answer-codes.csv",
        serialise(codes),
        "answer codes ('A2') instead of answer texts",
        rf"line {line_of(codes, 1)}\b",
        "'A2'",
        "answer codes",
        "full answer texts",
    )
    multi = c.copy(N_ERROR)
    mc = c.col("clauses_domaines", 0)
    multi[3][mc] = "Peut-être"
    c.error(
        "bad-multiple-choice.csv",
        serialise(multi),
        "a multiple-choice cell that is neither Oui, Non, empty nor N/A",
        rf"line {line_of(multi, 3)}\b",
        "'Peut-être'",
        "expected 'Oui', 'Non'",
    )
    badid = c.copy(N_ERROR)
    badid[2][0] = "12a"
    c.error(
        "bad-response-id.csv",
        serialise(badid),
        "a response id that is not a number",
        rf"line {line_of(badid, 2)}\b",
        "response id is not a positive integer",
        "'12a'",
    )
    badpop = c.copy(N_ERROR)
    badpop[1][pop] = "beaucoup"
    c.error(
        "bad-population.csv",
        serialise(badpop),
        "a population that is not a number",
        rf"line {line_of(badpop, 1)}\b",
        "population not understood",
        "'beaucoup'",
    )
    c.error(
        "previous-edition.csv",
        synth.to_csv(synth.generate(2022, N_ERROR, SEED)),
        "a synthetic 2022 export given as the 2023 one",
        "looks like an export of edition 2022, not 2023",
        "--edition 2022",
    )
    c.error(
        "not-an-export.csv",
        "commune;population\nParis;2 133 111\nLyon;522 250\n",
        "a CSV file that is not a survey export",
        "not an export of the 2023 questionnaire",
        "0 of its 2 headings",
    )
    c.error(
        "pipe-separated.csv",
        serialise(small[:2], "|"),
        "'|' separator (not a LimeSurvey or spreadsheet choice)",
        "not an export of the 2023 questionnaire",
    )
    c.error(
        "mixed-encoding.csv",
        serialise(small[:-1]).encode("utf-8")
        + unicodedata.normalize("NFC", serialise([small[-1]])).encode("cp1252"),
        "a UTF-8 file whose last record was appended in cp1252",
        "mixed encodings",
        rf"line {line_of(small, len(small) - 1)}\b",
    )
    c.error(
        "utf16-broken.csv",
        "ID de la réponse,Dernière page\n5,13\n".encode("utf-16") + b"\x00",
        "UTF-16 with an odd trailing byte (cut file)",
        "not valid Unicode text",
    )
    nul = serialise(small[:2]).replace("Oui", "O\x00ui", 1)
    c.error(
        "binary-nul.csv",
        nul,
        "a NUL byte in a cell (binary content)",
        "binary content",
        rf"line {nul[: nul.index(chr(0))].count(chr(10)) + 1}\b",
    )
    c.error(
        "xlsx-renamed.csv",
        _zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"}),
        "a spreadsheet (.xlsx, a ZIP archive) renamed .csv",
        "ZIP archive",
        "not a CSV export",
        "Export results",
    )
    c.error(
        "gzip-export.csv",
        gzip.compress(serialise(small).encode("utf-8"), mtime=0),
        "a gzip-compressed export named .csv",
        "gzip archive",
        "not a CSV export",
    )
    field_cases(c)
    return c


#: The authors' enrichment labels → category, as the published tables count them.
AUTHOR_CATEGORIES = {
    "Commune": "commune",
    "EPCI": "epci",
    "Metropole": "metropole",
    "Departement": "departement",
    "Region": "region",
    "": "autre",
}
#: LimeSurvey's English-interface headings of the metadata and timing columns.
ENGLISH = {
    "ID de la réponse": "Response ID",
    "Date de soumission": "Date submitted",
    "Dernière page": "Last page",
    "Langue de départ": "Start language",
    "Tête de série": "Seed",
    "Temps total :": "Total time",
}
#: White space a spreadsheet or a hand edit leaves in a cell that looks empty.
BLANKS = (" ", "\u00a0", "\u202f", "  \t", "\u00a0\u00a0")


def abbreviate(heading: str, length: int = 15) -> str:
    """LimeSurvey's "abbreviated question text" heading: the question text and the
    sub-question text each cut to ``length`` characters, ellipsis ``.. ``."""
    m = re.fullmatch(r"(.*?)\s*(\[[^\]]*\])?\s*", heading, re.S)
    text, sub = m.group(1).strip(), (m.group(2) or "")[1:-1]
    out = text if len(text) <= length else text[:length] + ".. "
    if sub:
        out = f"{out.strip()} [{sub if len(sub) <= length else sub[:length] + '.. '}]"
    return out


def field_cases(c: Corpus) -> None:
    """What a field export brings (issue 14): identity without enrichment, duplicates
    recognised by SIRET or name, types and populations written differently, blank cells,
    nothing complete, too small a sample, other heading styles, Y/N multiple choice."""
    enrichment = [c.col("category_raw"), c.col("population_raw"), c.col("structure_key")]
    identity = [c.col("structure_name"), c.col("siret")]
    cat, pop, name_col, siret_col = c.col("category_raw"), c.col("population_raw"), *identity
    complete = set(c.complete())
    categories = {
        c.rows[k][0]: AUTHOR_CATEGORIES[c.rows[k][cat]]
        for k in range(1, len(c.rows))
        if k in complete
    }

    def without(rows: list[list[str]], cols: list[int]) -> list[list[str]]:
        return [[v for i, v in enumerate(r) if i not in cols] for r in rows]

    # 1. a field export: identity columns, no enrichment ----------------------------------------
    c.accepted(
        "field-export.csv",
        serialise(without(c.copy(), enrichment)),
        "the export as LimeSurvey gives it (structure name and SIRET, without the authors' "
        "three enrichment columns): categories from the reference, by SIRET else by name",
        encoding="utf-8",
        separator=",",
        dataset="field",
        categories=categories,
    )
    twice = c.copy()
    by_siret = next(k for k in sorted(complete) if twice[k][siret_col])
    by_name = next(
        k
        for k in sorted(complete)
        if not twice[k][siret_col] and twice[k][name_col] and not twice[k][cat]
    )
    next_id = max(int(r[0]) for r in twice[1:]) + 1
    again = []
    for k, rename in ((by_siret, lambda n: f"Ville de {n}"), (by_name, lambda n: f" {n.upper()} ")):
        dup = twice[k][:]
        dup[0] = str(next_id)
        dup[name_col] = rename(dup[name_col])
        dup[c.col("structure_key")] = ""
        again.append((dup[0], twice[k][0]))
        twice.append(dup)
        next_id += 1
    c.accepted(
        "field-export-twice.csv",
        serialise(without(twice, enrichment)),
        f"a field export where two structures answer twice: response {again[0][0]} repeats "
        f"{again[0][1]} with the same SIRET and another name ('Ville de …'), response "
        f"{again[1][0]} repeats {again[1][1]} (no SIRET) with its name in capitals and spaces: "
        "each structure counts once (drop log: duplicate_structure, identified by the "
        "reference and by the name)",
        encoding="utf-8",
        separator=",",
        dataset="field",
        categories=categories,
        duplicates_dropped=2,
        identified_by={again[0][0]: "reference", again[1][0]: "name"},
    )
    anonymous = without(c.copy(N_ERROR), enrichment + identity)
    c.error(
        "anonymous-export.csv",
        serialise(anonymous),
        "neither the enrichment columns nor the identity columns (structure name, SIRET): "
        "nobody can be classified",
        "no structure can be classified",
        re.escape("'Catégorie (enrichissement)'"),
        re.escape("'Quel est votre numéro SIRET ?'"),
    )

    # 2. values --------------------------------------------------------------------------------------
    variants = {
        "Commune": "Communes",
        "EPCI": "Communauté de communes",
        "Metropole": "Métropole",
        "Departement": "Conseil départemental",
        "Region": "Région Occitanie",
    }
    types = c.copy()
    for r in types[1:]:
        r[cat] = variants.get(r[cat], r[cat])
    c.accepted(
        "structure-types.csv",
        serialise(types),
        "structure types written differently: "
        + ", ".join(f"{a} → {b!r}" for a, b in variants.items()),
        encoding="utf-8",
        separator=",",
    )
    unknown = c.copy(N_ERROR)
    labelled = [k for k in range(1, len(unknown))]
    unknown[labelled[0]][cat] = "Collectivité territoriale"
    unknown[labelled[-1]][cat] = "=SOMME(A1:A2)"
    c.error(
        "structure-type-unknown.csv",
        serialise(unknown),
        "structure types outside the vocabulary (a vague label, a spreadsheet formula)",
        "unknown structure type",
        re.escape("column 'Catégorie (enrichissement)'"),
        rf"line {line_of(unknown, labelled[0])}\b",
        re.escape("'Collectivité territoriale'"),
        rf"line {line_of(unknown, labelled[-1])}\b",
        "expected one of",
    )
    commas = c.copy()
    for r in commas[1:]:
        if r[pop]:
            r[pop] = f"{int(r[pop]):,}"
    assert any("," in r[pop] for r in commas[1:])
    c.accepted(
        "population-thousands-comma.csv",
        serialise(commas),
        "populations with a comma as thousands separator ('7,555', '6,202,443')",
        encoding="utf-8",
        separator=",",
    )
    ambiguous = c.copy()
    with_pop = [k for k in range(1, len(ambiguous)) if ambiguous[k][pop]]
    small_pop = next(k for k in with_pop if int(ambiguous[k][pop]) < 1_000_000)
    other = next(k for k in with_pop if k != small_pop)
    ambiguous[small_pop][pop] = f"{int(ambiguous[small_pop][pop]):,}"
    ambiguous[other][pop] = f"{ambiguous[other][pop]},0"
    c.error(
        "population-ambiguous.csv",
        serialise(ambiguous),
        f"'{ambiguous[small_pop][pop]}' (comma = thousands?) in a column where "
        f"'{ambiguous[other][pop]}' uses the comma as decimal separator",
        rf"line {line_of(ambiguous, small_pop)}\b",
        re.escape("column 'Population totale (enrichissement)'"),
        "ambiguous",
        re.escape(repr(ambiguous[small_pop][pop])),
    )
    blank = c.copy()
    twin = max(complete)
    n = 0
    for k, r in enumerate(blank[1:], 1):
        if k == twin:
            continue
        for i, v in enumerate(r):
            if v == "":
                r[i] = BLANKS[n % len(BLANKS)]
                n += 1
    dup = blank[twin][:]
    dup[0] = str(max(int(r[0]) for r in blank[1:]) + 1)
    dup = [BLANKS[i % len(BLANKS)] if v == "" else v for i, v in enumerate(dup)]
    blank.append(dup)
    c.accepted(
        "blank-cells.csv",
        serialise(blank),
        f"empty cells written as spaces, tabs or no-break spaces (U+00A0, U+202F), and "
        f"response {dup[0]} repeating {blank[twin][0]} with its empty cells so written: a "
        "blank cell is empty everywhere, so the first of the two equal responses is kept",
        encoding="utf-8",
        separator=",",
        duplicates_dropped=1,
    )

    # 3. preconditions -------------------------------------------------------------------------------
    nr = c.col("numerique_responsable")
    none = c.copy(N_ERROR)
    for r in none[1:]:
        r[nr] = ""
    c.error(
        "incomplete-only.csv",
        serialise(none),
        "an export of incomplete responses only (nobody answered the last question)",
        "no complete response",
        f"0 of {N_ERROR}",
        re.escape(c.header[nr].strip()[:40]),
    )
    first = min(complete)
    c.add(
        "one-respondent.csv",
        serialise([c.header, c.rows[first]]),
        "one complete response: prepared, but too small a sample to publish anything",
        outcome="too-small",
        kept=1,
        message=["too small to publish", "1 complete response"],
    )

    # 4. heading styles and answer codes -------------------------------------------------------------
    coded = c.copy()
    coded[0] = [f"{c.cb.headings[cbmod.normalise_heading(h)][1].code}. {h}" for h in c.header]
    c.accepted(
        "codetext-headings.csv",
        serialise(coded),
        "LimeSurvey's 'Question code & question text' headings ('G03Q01. Commençons par …')",
        encoding="utf-8",
        separator=",",
        heading_style="codetext",
    )
    short = c.copy(N_ERROR)
    short[0] = [abbreviate(h) for h in c.header]
    c.error(
        "abbreviated-headings.csv",
        serialise(short),
        "LimeSurvey's 'abbreviated question text' headings (15 characters, '.. ')",
        "abbreviated headings",
        "Full question text",
    )
    english = c.copy()
    english[0] = [
        ENGLISH.get(h)
        or re.sub(r"^Durée pour le groupe : ", "Group time: ", h).replace(
            "Durée pour la question: ", "Question time: "
        )
        for h in c.header
    ]
    assert english[0] != c.header
    c.accepted(
        "english-interface.csv",
        serialise(english),
        "metadata and timing headings of LimeSurvey's English interface ('Response ID', "
        "'Date submitted', 'Total time', 'Group time: …', 'Question time: …')",
        encoding="utf-8",
        separator=",",
    )
    yn = c.copy()
    multiple = {c.header.index(col.heading) for q in c.cb.of_type("multiple") for col in q.columns}
    for r in yn[1:]:
        for i in multiple:
            r[i] = {"Oui": "Y", "Non": "N"}.get(r[i], r[i])
    c.accepted(
        "yn-multiple-choice.csv",
        serialise(yn),
        "multiple-choice cells as LimeSurvey's codes: Y (ticked), N or empty (not ticked)",
        encoding="utf-8",
        separator=",",
    )


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in members.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0)), content)
    return buf.getvalue()


def write(c: Corpus, out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        if old.is_file() and old.name != ".gitattributes":
            old.unlink()
    (out / ".gitattributes").write_text(
        "# Byte-exact test inputs (CRLF, CR, UTF-16, binary): never convert line ends.\n* -text\n",
        encoding="utf-8",
    )
    for name, data in c.files.items():
        (out / name).write_bytes(data)
    doc = {
        "generator": f"scripts/make_bad_corpus.py: analysis.survey.synth.generate({EDITION}, n={N}, "
        f"seed={SEED}); refused files keep {N_ERROR} responses",
        "edition": EDITION,
        "files": {
            name: {**c.expected[name], "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in c.files.items()
        },
    }
    header = (
        "# Expected outcome of each file of this directory: generated by "
        "scripts/make_bad_corpus.py, checked by tests/test_bad_inputs.py. Do not edit.\n"
    )
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)
    (out / "EXPECTED.yaml").write_text(header + text, encoding="utf-8")


def main() -> int:
    c = build()
    write(c)
    size = sum(len(d) for d in c.files.values())
    print(f"wrote {len(c.files)} files ({size / 1e6:.2f} MB) and EXPECTED.yaml to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
