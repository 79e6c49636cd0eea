"""Malformed and hostile exports: each file of tests/data/bad/ meets its written expectation.

``tests/data/bad/EXPECTED.yaml`` (generated with the files by ``scripts/make_bad_corpus.py``
from a synthetic export) says, for each file, either ``accepted`` — and then whether the
processed dataset is byte-identical to ``clean.csv``'s — or ``error`` with the regular
expressions the message must match. Refusals are checked on the real command
(``python -m analysis.cli prepare`` in a subprocess): exit status 2, ``error: …`` on stderr, no
traceback, nothing written. Files too big to commit (100 MB, a 200 000-character cell) are
generated here.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT
from openpyxl import load_workbook

from analysis import cli
from analysis.build import prepare as dataset
from analysis.build import writers
from analysis.stats import opendata as export

BAD = ROOT / "tests" / "data" / "bad"
EXPECTED = yaml.safe_load((BAD / "EXPECTED.yaml").read_text(encoding="utf-8"))
FILES: dict[str, dict] = EXPECTED["files"]
REFUSED = sorted(n for n, e in FILES.items() if e["outcome"] == "error")
ACCEPTED = sorted(n for n, e in FILES.items() if e["outcome"] == "accepted")
TOO_SMALL = sorted(n for n, e in FILES.items() if e["outcome"] == "too-small")
#: Internal column names a message must never show instead of the heading the user sees.
INTERNAL = ("population_raw", "category_raw", "structure_key", "response_id")


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def assert_user_error(proc: subprocess.CompletedProcess, *patterns: str) -> str:
    """Exit 2, one ``error:`` message, no traceback, every pattern found (after the line a
    run prints while it waits for another one in the same checkout)."""
    err = re.sub(r"\Awaiting for `barometre [^\n]*\n", "", proc.stderr)
    assert proc.returncode == 2, (proc.returncode, err[-2000:])
    assert err.startswith("error: "), err[-2000:]
    assert "Traceback" not in err and 'File "' not in err, err[-2000:]
    for p in patterns:
        assert re.search(p, err), (p, err)
    return err


# -- the corpus itself ----------------------------------------------------------------------------
def test_corpus_is_complete_small_and_as_generated():
    on_disk = sorted(
        p.name for p in BAD.iterdir() if p.name not in ("EXPECTED.yaml", ".gitattributes")
    )
    assert on_disk == sorted(FILES)
    assert len(FILES) >= 50 and len(REFUSED) >= 25 and len(ACCEPTED) >= 20 and TOO_SMALL
    assert sum((BAD / n).stat().st_size for n in on_disk) < 3_000_000
    for name, e in FILES.items():
        assert hashlib.sha256((BAD / name).read_bytes()).hexdigest() == e["sha256"], name
    # synthetic only: every e-mail address is a reserved or invented test domain
    text = (BAD / "clean.csv").read_text(encoding="utf-8")
    domains = set(re.findall(r"@([\w.-]+)", text))
    assert domains and domains <= {"exemple.invalid"}, domains


def test_corpus_is_what_the_script_writes():
    """The committed files are the script's output, not hand edits (while synth is stable)."""
    spec = importlib.util.spec_from_file_location(
        "make_bad_corpus", ROOT / "scripts" / "make_bad_corpus.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    corpus = module.build()
    if corpus.files["clean.csv"] != (BAD / "clean.csv").read_bytes():
        pytest.skip(
            "analysis.survey.synth now writes another base export: regenerate the corpus with "
            "scripts/make_bad_corpus.py"
        )
    assert sorted(corpus.files) == sorted(FILES)
    for name, data in corpus.files.items():
        assert data == (BAD / name).read_bytes(), name


# -- refused files: the real command, in subprocesses ---------------------------------------------
@pytest.fixture(scope="module")
def refusals(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    """``barometre prepare`` on every refused file, a few at a time."""
    base = tmp_path_factory.mktemp("refused")

    def one(name: str):
        out = base / name
        proc = run_cli(
            "prepare", "--edition", "2023", "--input", str(BAD / name), "--out-dir", str(out)
        )
        return name, (proc, out)

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(pool.map(one, REFUSED))


@pytest.mark.parametrize("name", REFUSED)
def test_refused_with_a_clear_message(refusals, name):
    proc, out = refusals[name]
    err = assert_user_error(proc, *FILES[name]["message"])
    assert str(BAD / name) in err  # the message names the file given
    assert "expected" in err and " — " in err  # what was expected, what to do
    assert len(err) < 2000
    assert not any(re.search(rf"\b{c}\b", err) for c in INTERNAL), err
    assert not out.exists() or not any(out.iterdir()), "a refused input wrote outputs"


# -- accepted files: same processed dataset --------------------------------------------------------
def _prepare(path: Path, out: Path) -> tuple[dict, Path]:
    stem = path.name.split(".")[0]
    paths = [out / f"{stem}{s}" for s in (".parquet", ".meta.json", ".drops.csv")]
    meta = dataset.prepare(2023, path, *paths)
    return meta, paths[0]


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[dict, Path]:
    return _prepare(BAD / "clean.csv", tmp_path_factory.mktemp("clean"))


@pytest.mark.parametrize("name", ACCEPTED)
def test_accepted_gives_the_clean_dataset(clean, tmp_path, name):
    e = FILES[name]
    meta, parquet = _prepare(BAD / name, tmp_path)
    assert (meta["encoding"], meta["separator"]) == (e["encoding"], e["separator"])
    assert meta["heading_style"] == e.get("heading_style", meta["heading_style"])
    assert meta["counts"]["kept"] == clean[0]["counts"]["kept"]
    drops = pd.read_csv(parquet.with_name(parquet.name.replace(".parquet", ".drops.csv")))
    if e["dataset"] == "field":
        # no enrichment columns: the categories come from the reference (SIRET, else name) and
        # are the authors' own; the identity columns are never written
        got = pd.read_parquet(parquet)
        assert dict(zip(got["response_id"].astype(str), got["category"], strict=True)) == {
            str(k): v for k, v in e["categories"].items()
        }
        dup = drops[drops["reason"] == "duplicate_structure"]
        assert dict(zip(dup["response_id"].astype(str), dup["identified_by"], strict=True)) == (
            e.get("identified_by", {})
        )
        assert set(drops["identified_by"]) <= {
            "structure_key",
            "reference",
            "siren",
            "name",
            "none",
        }
        assert "identity_key" not in got and "structure_name" not in got and "siret" not in got
    elif e["dataset"] == "same":
        assert parquet.read_bytes() == clean[1].read_bytes()
    else:  # identical but for the listed free-text cells
        got, ref = pd.read_parquet(parquet), pd.read_parquet(clean[1])
        assert list(got.columns) == list(ref.columns)
        for rid, cells in e["text"].items():
            row = got.index[got["response_id"] == int(rid)][0]
            for col, value in cells.items():
                assert got.at[row, col] == value, (rid, col)
                got.at[row, col] = ref.at[row, col]
        pd.testing.assert_frame_equal(got, ref)
    assert (drops["reason"] == "duplicate_structure").sum() == e.get("duplicates_dropped", 0)
    if "dropped_personal" in e:
        assert meta["dropped_columns"]["personal (by pattern)"] == e["dropped_personal"]
    for secret in e.get("absent", []):
        for f in tmp_path.iterdir():
            assert secret not in f.read_text(encoding="utf-8", errors="replace"), (secret, f)
        text = pd.read_parquet(parquet).select_dtypes(["string", "object"]).astype(str)
        assert not text.apply(lambda s, x=secret: s.str.contains(x, regex=False)).any().any()


#: The accepted classes of issue 14 (what a field export brings), also run as a user would.
FIELD = (
    "field-export.csv",
    "field-export-twice.csv",
    "structure-types.csv",
    "population-thousands-comma.csv",
    "blank-cells.csv",
    "codetext-headings.csv",
    "english-interface.csv",
    "yn-multiple-choice.csv",
)


@pytest.mark.parametrize("name", FIELD)
def test_field_exports_through_the_command(clean, tmp_path, name):
    """What a field export brings, through the real command: exit 0, no traceback, and the
    dataset the clean file gives (or, without enrichment, the authors' categories)."""
    e = FILES[name]
    proc = run_cli(
        "prepare", "--edition", "2023", "--input", str(BAD / name), "--out-dir", str(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    (parquet,) = tmp_path.glob("*.parquet")
    if e["dataset"] == "same":
        assert parquet.read_bytes() == clean[1].read_bytes()
    else:
        got = pd.read_parquet(parquet)
        assert sorted(got["response_id"].astype(str)) == sorted(map(str, e["categories"]))
    assert f"duplicate_structure {e.get('duplicates_dropped', 0)}" in proc.stdout


@pytest.mark.parametrize("name", TOO_SMALL)
def test_too_small_a_sample_is_prepared_and_says_so(tmp_path, name):
    e = FILES[name]
    proc = run_cli(
        "prepare", "--edition", "2023", "--input", str(BAD / name), "--out-dir", str(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    for p in e["message"]:
        assert re.search(p, proc.stderr), (p, proc.stderr)
    (meta_path,) = tmp_path.glob("*.meta.json")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    assert meta["counts"]["kept"] == e["kept"]
    assert meta["publishable"] is False


def test_accepted_through_the_command(clean, tmp_path):
    """What French Excel saves (cp1252, ';', CRLF), through the real command: exit 0."""
    proc = run_cli(
        "prepare", "--edition", "2023", "--input", str(BAD / "excel-fr.csv"),
        "--out-dir", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    # processed names: the whole input name and the edition
    assert (tmp_path / "excel-fr-2023.parquet").read_bytes() == clean[1].read_bytes()
    meta = json.loads((tmp_path / "excel-fr-2023.meta.json").read_text(encoding="utf-8"))
    assert (meta["encoding"], meta["separator"]) == ("cp1252", ";")


# -- generated here: too big to commit -------------------------------------------------------------
def _records() -> tuple[list[str], list[list[str]]]:
    with (BAD / "clean.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _line_of(header: list[str], rows: list[list[str]], k: int) -> int:
    """File line where response ``k`` (0-based) starts: line breaks written before it + 1."""
    return _csv([header, *rows[:k]]).count("\n") + 1


@pytest.fixture(scope="module")
def export_100mb(tmp_path_factory) -> Path:
    """A 100 MB export: the clean responses repeated with fresh response ids."""
    header, rows = _records()
    path = tmp_path_factory.mktemp("big") / "export-100mb.csv"
    bodies = [_csv([r[1:]]) for r in rows]  # each record without its id (multi-line cells kept)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(_csv([header]))
        rid = 1
        while fh.tell() < 100_000_000:
            fh.write("".join(f"{rid + k},{b}" for k, b in enumerate(bodies)))
            rid += len(bodies)
    assert path.stat().st_size >= 100_000_000
    return path


def test_size_limit_refuses_a_100mb_export(export_100mb, tmp_path):
    size = export_100mb.stat().st_size
    proc = run_cli(
        "prepare", "--edition", "2023", "--input", str(export_100mb),
        "--max-bytes", "50000000", "--out-dir", str(tmp_path),
    )  # fmt: skip
    assert_user_error(
        proc,
        re.escape(str(export_100mb)),
        f"file is {size} bytes",
        "max_bytes=50000000",
        "--max-bytes",
    )
    assert not any(tmp_path.iterdir())


def test_row_limit_stops_early(export_100mb, tmp_path):
    proc = run_cli(
        "prepare", "--edition", "2023", "--input", str(export_100mb),
        "--max-rows", "1000", "--out-dir", str(tmp_path),
    )  # fmt: skip
    header, rows = _records()
    per_block = _csv(rows).count("\n")  # lines of one block of len(rows) responses
    q, r = divmod(1000, len(rows))  # the 1001st response: after q blocks and r responses
    line = q * per_block + _line_of(header, rows, r)
    assert_user_error(proc, "more than 1000 responses", rf"line {line}\b", "--max-rows")


def test_row_limit_on_the_clean_file(tmp_path):
    proc = run_cli(
        "prepare", "--edition", "2023", "--input", str(BAD / "clean.csv"),
        "--max-rows", "5", "--out-dir", str(tmp_path),
    )  # fmt: skip
    header, rows = _records()
    line = _line_of(header, rows, 5)  # the sixth response
    assert line > 7  # multi-line cells before it
    assert_user_error(proc, "more than 5 responses", rf"line {line}\b", "max_rows=5")


def test_default_limits_and_build_flags(capsys, tmp_path):
    assert dataset.LIMITS == {"max_bytes": 200_000_000, "max_rows": 200_000}
    assert dataset.resolve_limits(None, None) == (200_000_000, 200_000)
    assert dataset.resolve_limits(0, -1) == (None, None)  # 0 = no limit
    size = (BAD / "clean.csv").stat().st_size
    # `build` takes the same flags; the limit is checked before anything is written
    try:
        code = cli.main(["build", "--input", str(BAD / "clean.csv"), "--max-bytes", str(size - 1)])
    finally:
        dataset.LIMITS.update(max_bytes=200_000_000, max_rows=200_000)
    assert code == 2
    err = capsys.readouterr().err
    assert f"file is {size} bytes; expected at most max_bytes={size - 1}" in err
    # exactly at the limit is fine
    meta = dataset.prepare(
        2023,
        BAD / "clean.csv",
        tmp_path / "c.parquet",
        tmp_path / "c.meta.json",
        tmp_path / "c.drops.csv",
        max_bytes=size,
        max_rows=10,
    )
    assert meta["counts"]["rows_in"] == 10


def _long_text_export(tmp_path: Path, size: int) -> tuple[Path, str, str, int]:
    from analysis.survey.codebook import load

    cb = load(2023)
    header, rows = _records()
    q = cb.of_type("text")[0]
    text_col = header.index(q.columns[0].heading)
    complete = header.index(cb["numerique_responsable"].columns[0].heading)
    k = next(i for i, r in enumerate(rows) if r[complete])
    words = "Une réponse longue, avec des virgules; des « guillemets » et\nun saut de ligne. "
    rows[k][text_col] = (words * (size // len(words) + 1))[:size]
    path = tmp_path / "long-text.csv"
    path.write_text(_csv([header, *rows]), encoding="utf-8")
    return path, rows[k][0], rows[k][text_col], text_col


def test_long_free_text_is_accepted(tmp_path):
    """A 1 MB free-text answer (pasted document) is an answer: kept as typed, up to the
    file-size limit; the file over --max-bytes is refused before it is read."""
    path, rid, text, _ = _long_text_export(tmp_path, 1_000_000)
    out = tmp_path / "o"
    proc = run_cli("prepare", "--edition", "2023", "--input", str(path), "--out-dir", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    (parquet,) = out.glob("*.parquet")
    got = pd.read_parquet(parquet)
    from analysis.survey.codebook import load

    col = load(2023).of_type("text")[0].column_ids[0]
    assert got.loc[got["response_id"] == int(rid), col].iloc[0] == text
    size = path.stat().st_size
    proc = run_cli(
        "prepare", "--edition", "2023", "--input", str(path), "--out-dir", str(tmp_path / "p"),
        "--max-bytes", str(size - 1),
    )  # fmt: skip
    err = assert_user_error(proc, f"file is {size} bytes", "--max-bytes")
    assert "réponse longue" not in err


# -- spreadsheet-safe CSV / XLSX -------------------------------------------------------------------
RISKY = ("=", "+", "-", "@", "\t", "\r")


def _csv_cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [c for row in csv.reader(fh) for c in row]


def test_one_list_of_formula_prefixes():
    assert export.FORMULA_PREFIXES == RISKY


def test_spreadsheet_safe_neutralises_text_only():
    frame = pd.DataFrame(
        {
            "n": [-1, 2, 3],
            "x": [-1.5, 0.0, float("nan")],
            "reason": pd.Categorical(['=HYPERLINK("http://x")', "incomplete", "@SUM(A1)"]),
            "note": ["+33 6 00 00 00 00", None, "-moins"],
        }
    )
    out = export.spreadsheet_safe(frame)
    assert out["n"].tolist() == [-1, 2, 3] and out["x"].iloc[0] == -1.5
    assert out["reason"].tolist() == ['\'=HYPERLINK("http://x")', "incomplete", "'@SUM(A1)"]
    assert out["note"].tolist()[::2] == ["'+33 6 00 00 00 00", "'-moins"]
    assert frame["reason"].iloc[0].startswith("=")  # the input is not modified


def test_drop_log_is_spreadsheet_safe(tmp_path, monkeypatch):
    """Whatever a drop reason says, the drop log written by prepare cannot run a formula."""
    from analysis.survey import clean as clean_mod

    real = clean_mod.clean

    def hostile_clean(responses, codebook, **kw):
        kept, drops = real(responses, codebook, **kw)
        drops = drops.astype({"reason": "object"})
        drops.loc[0, "reason"] = '=HYPERLINK("http://x","clic")'
        return kept, drops

    monkeypatch.setattr(clean_mod, "clean", hostile_clean)
    meta, parquet = _prepare(BAD / "hostile-text.csv", tmp_path)
    cells = _csv_cells(tmp_path / "hostile-text.drops.csv")
    assert '\'=HYPERLINK("http://x","clic")' in cells
    assert not [c for c in cells if c.startswith(RISKY)]


def test_open_data_from_hostile_text_is_spreadsheet_safe(tmp_path):
    """The open-data CSV/XLSX of an export full of formulas: no cell a spreadsheet would run."""
    meta, parquet = _prepare(BAD / "hostile-text.csv", tmp_path)
    out = writers.tables_for(parquet, 2023, tmp_path / "tables.csv", min_base=1)
    cells = _csv_cells(out)
    numeric = {i for i, c in enumerate(cells[: len(export.COLUMNS)]) if c in export.NUMERIC_COLUMNS}
    width = len(export.COLUMNS)
    text_cells = [c for k, c in enumerate(cells) if k % width not in numeric]
    assert text_cells and not [c for c in text_cells if c.startswith(RISKY)]
    for planted in ("cmd|", "<script>", "@SUM"):
        assert not [c for c in cells if planted in c]  # free text is never tabulated
    wb = load_workbook(out.with_suffix(".xlsx"))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f"
                assert not (isinstance(c.value, str) and c.value.startswith(RISKY)), c.value


# -- the real 2023 export, re-encoded ---------------------------------------------------------------
@pytest.mark.real
def test_real_export_in_utf16_and_transliterated_latin1(real_2023, tmp_path):
    """The real export saved as UTF-16 (no BOM) or as latin-1 by a transliterating converter
    gives the same typed responses (free text up to the transliteration)."""
    from analysis.survey.codebook import load
    from analysis.survey.ingest import read_export

    cb = load(2023)
    base = read_export(real_2023, cb).responses
    text = unicodedata.normalize("NFC", real_2023.read_text(encoding="utf-8"))
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(text.encode("utf-16-le"))
    got = read_export(utf16, cb)
    assert got.encoding == "utf-16-le"
    pd.testing.assert_frame_equal(got.responses, base)

    translit = str.maketrans({"’": "'", "…": "...", "œ": "oe", "Œ": "OE", "–": "-", "—": "-"})
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(text.translate(translit).encode("latin-1", errors="replace"))
    got = read_export(latin1, cb)
    texts = [c for c in base.columns if base[c].dtype == "string"]
    others = [c for c in base.columns if c not in texts]
    pd.testing.assert_frame_equal(got.responses[others], base[others])
    for c in texts:
        expected = base[c].fillna("").str.translate(translit)
        expected = expected.str.encode("latin-1", errors="replace").str.decode("latin-1")
        assert (got.responses[c].fillna("") == expected).all(), c
