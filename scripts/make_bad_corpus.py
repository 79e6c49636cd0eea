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
        "population_raw is not a number",
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
    return c


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
