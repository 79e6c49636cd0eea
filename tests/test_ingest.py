"""Reading exports: the real 2023 file and its variants, synthetic exports, every error case."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from analysis.survey import codebook as cbmod
from analysis.survey.codebook import load
from analysis.survey.ingest import ADMIN_COLUMNS, IngestError, mask_personal, read_export

PERSONAL_IDS = ("courriel", "prenom", "nom", "fonction", "structure_name", "siret")


@pytest.fixture(scope="module")
def cb():
    return load(2023)


# -- synthetic exports built from the codebook ----------------------------------------------
MULTILINE = "Contact : jean.dupont@mairie.fr\nou au 01 23 45 67 89,\nmerci"


def synthetic(cb, n: int = 3, *, identifying: bool = True) -> tuple[list[str], list[list[str]]]:
    """A small valid export: every codebook column, n rows of plausible cells."""
    cols = [
        (q, c)
        for q in cb.questions
        for c in q.columns
        if identifying or not (q.identifying or q.type == "personal")
    ]
    personal = {
        "courriel": "jean.dupont@mairie.fr",
        "prenom": "Jean",
        "nom": "Dupont",
        "fonction": "DGS",
        "structure_name": "Mairie de Trifouilly",
        "siret": "21000000000017",
    }
    admin = {
        "submitted": "1980-01-01 00:00:00",
        "last_page": "13",
        "start_language": "fr",
        "seed": "42",
        "category_raw": "Commune",
        "population_raw": "1234",
    }
    rows = []
    for r in range(n):
        row = []
        first_text = True
        for q, c in cols:
            if q.id == "response_id":
                v = str(10 + r)
            elif q.id == "structure_key":
                v = f"K{r}"
            elif q.id in personal:
                v = personal[q.id]
            elif q.id in admin:
                v = admin[q.id]
            elif q.type in ("single", "matrix", "ranking"):
                v = "" if r == 2 else q.options[r % len(q.options)]
            elif q.type == "multiple":
                v = ("Oui", "Non", "N/A")[r % 3]
            elif q.type == "text":
                v = MULTILINE if (r == 0 and first_text) else ""
                first_text = False
            elif q.type == "timing":
                v = "12.5" if c.item == "groupe" else ""
            elif q.type == "upload":
                v = "0" if c.item == "filecount" else ""
            else:
                v = ""
            row.append(v)
        rows.append(row)
    return [c.heading for _, c in cols], rows


def write(
    path: Path,
    header: list[str],
    rows: list[list[str]],
    *,
    sep: str = ",",
    encoding: str = "utf-8",
    crlf: bool = False,
) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    text = buf.getvalue()
    if crlf:
        text = text.replace("\n", "\r\n")
    path.write_bytes(text.encode(encoding))
    return path


def test_synthetic_export_reads(cb, tmp_path):
    header, rows = synthetic(cb)
    exp = read_export(write(tmp_path / "s.csv", header, rows), cb)
    r = exp.responses
    assert r["response_id"].tolist() == [10, 11, 12]
    assert list(r.columns[: len(ADMIN_COLUMNS)]) == list(ADMIN_COLUMNS)
    assert r["rgpd_conformite"].tolist()[:2] == ["Oui, tout à fait", "Oui, partiellement"]
    assert pd.isna(r["rgpd_conformite"].iloc[2])
    assert r["clauses_domaines__rgpd"].tolist() == [True, False, pd.NA]
    assert r["submitted"].tolist() == [True] * 3 and r["last_page"].tolist() == [13] * 3
    # personal columns dropped; identifying ones kept apart
    assert not set(PERSONAL_IDS) & set(r.columns)
    assert exp.identity.columns.tolist() == ["response_id", "structure_name", "siret"]
    assert exp.identity["siret"].tolist() == ["21000000000017"] * 3
    for heading in (
        "Quelle est votre adresse électronique ? ",
        "Quel est votre nom ?",
        "Temps total :",
    ):
        assert heading in exp.dropped_columns
    assert not any(heading.startswith("Quel est le nom") for heading in exp.dropped_columns)
    # free text: line breaks kept, e-mail and phone masked
    text = r["souverainete_lignes"].iloc[0]
    assert text == "Contact : [courriel masqué]\nou au [téléphone masqué],\nmerci"
    assert r["souverainete_lignes"].dtype == "string"
    assert not any("@" in str(v) for v in r.select_dtypes("string").stack())


def test_mask_personal_french_formats():
    s = pd.Series(
        [
            "écrire à a.b-c@x.gouv.fr.",
            "tél 01 23 45 67 89 ou 06.12.34.56.78",
            "+33 6 12 34 56 78 / +33 (0)1 23 45 67 89 / 0033 1 23 45 67 89",
            "0612345678",
            "SIRET 21000000000017, 3 500 habitants, 2023",
            pd.NA,
        ],
        dtype="string",
    )
    out = mask_personal(s).tolist()
    assert out[0] == "écrire à [courriel masqué]."
    assert out[1] == "tél [téléphone masqué] ou [téléphone masqué]"
    assert out[2] == " / ".join(["[téléphone masqué]"] * 3)
    assert out[3] == "[téléphone masqué]"
    assert out[4] == "SIRET 21000000000017, 3 500 habitants, 2023"
    assert out[5] is pd.NA


def test_unknown_personal_looking_column_is_dropped(cb, tmp_path):
    header, rows = synthetic(cb, identifying=False)
    header.append("Numéro de téléphone")
    for row in rows:
        row.append("01 23 45 67 89")
    exp = read_export(write(tmp_path / "p.csv", header, rows), cb)
    assert "Numéro de téléphone" in exp.dropped_columns
    assert exp.identity["structure_name"].isna().all()


# -- the real export ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_export(cb):
    from conftest import REAL_2023

    if not REAL_2023.exists():
        pytest.skip("needs the real data in ../shared/data beside the repository")
    return read_export(REAL_2023, cb)


def test_real_export(cb, real_2023, real_export):
    exp = real_export
    r = exp.responses
    assert r.shape[0] == 1053
    assert exp.sha256 == hashlib.sha256(real_2023.read_bytes()).hexdigest()
    assert (exp.encoding, exp.separator, exp.heading_style) == ("utf-8", ",", "full")
    assert r["response_id"].dtype == "int64" and r["response_id"].is_unique
    assert r["response_id"].min() == 5 and r["response_id"].max() == 1057
    expected = list(ADMIN_COLUMNS) + [
        cid for q in cb.questions if q.type in cbmod.KEPT for cid in q.column_ids
    ]
    assert list(r.columns) == [*expected, "empty_cells"]
    assert not set(PERSONAL_IDS) & set(r.columns)
    for q in cb.questions:
        for cid in q.column_ids if q.type in cbmod.KEPT else ():
            dtype = r[cid].dtype
            if q.type in ("single", "matrix", "ranking"):
                assert isinstance(dtype, pd.CategoricalDtype), cid
                assert list(dtype.categories) == list(q.options), cid
                assert dtype.ordered == (q.type != "ranking"), cid
            elif q.type == "multiple":
                assert dtype == "boolean", cid
            elif q.type == "text":
                assert dtype == "string", cid
    # timing, upload and unused admin columns are listed as dropped
    n_timing = sum(len(q.columns) for q in cb.of_type("timing"))
    n_upload = sum(len(q.columns) for q in cb.of_type("upload"))
    assert len(exp.dropped_columns) == n_timing + n_upload + 3  # langue, graine, colonne vide
    # known counts (checked by hand on the file)
    assert r["rgpd_conformite"].notna().sum() == 1053 - 691
    assert r["clauses_domaines__rgpd"].isna().sum() == 880
    assert r["clauses_domaines__rgpd"].sum() == 162
    assert r["numerique_responsable"].notna().sum() == 205
    assert r["submitted"].sum() == 206
    assert r["structure_key"].notna().sum() == 1053 - r["structure_key"].isna().sum()
    assert r["category_raw"].value_counts()["Commune"] == 81
    assert r["population_raw"].dtype == "Int64"  # whole inhabitants (analysis.survey.values)
    assert (
        exp.identity.shape == (1053, 3)
        and exp.identity[["structure_name", "siret"]].isna().all().all()
    )


def _rewrite(real: Path, out: Path, *, header=None, sep=",", encoding="utf-8", transform=None):
    with real.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    if header is not None:
        rows[0] = header
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\n").writerows(rows)
    text = buf.getvalue()
    if transform is not None:
        text = transform(text)
    out.write_bytes(text.encode(encoding))
    return out


def test_real_export_variants_give_identical_frames(cb, real_2023, real_export, tmp_path):
    base = real_export.responses
    crlf = _rewrite(
        real_2023,
        tmp_path / "cp1252.csv",
        sep=";",
        encoding="cp1252",
        transform=lambda t: t.replace("\n", "\r\n"),  # also inside multi-line cells
    )
    exp = read_export(crlf, cb)
    assert (exp.encoding, exp.separator) == ("cp1252", ";")
    pd.testing.assert_frame_equal(exp.responses, base)

    codes = [cb.headings[cbmod.normalise_heading(h)][1].code for h in _header(real_2023)]
    coded = read_export(_rewrite(real_2023, tmp_path / "codes.csv", header=codes), cb)
    assert coded.heading_style == "code"
    pd.testing.assert_frame_equal(coded.responses, base)

    nfd = _rewrite(
        real_2023,
        tmp_path / "nfd.csv",
        sep="\t",
        encoding="utf-8-sig",
        transform=lambda t: unicodedata.normalize("NFD", t).replace("’", "'"),
    )
    exp = read_export(nfd, cb)
    assert (exp.encoding, exp.separator) == ("utf-8-sig", "\t")
    text_cols = [c for c in base.columns if base[c].dtype == "string" and c not in ADMIN_COLUMNS]
    other = [c for c in base.columns if c not in text_cols]
    pd.testing.assert_frame_equal(exp.responses[other], base[other])
    # free text keeps what respondents typed, up to NFC and the apostrophe
    for c in text_cols:
        left = exp.responses[c].fillna("")
        right = base[c].fillna("").str.replace("’", "'")
        assert (left == right).all(), c


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


TINY = {
    "edition": 1999,
    "questions": [
        {"id": "response_id", "chapter": "contexte", "type": "admin",
         "columns": [{"heading": "ID de la réponse", "code": "id"}]},
        {"id": "avis", "chapter": "contexte", "type": "single",
         "options": ["Très bien", "Pas du tout"],
         "columns": [{"heading": "Votre avis ? ", "code": "Q1"}]},
        {"id": "remarque", "chapter": "contexte", "type": "text",
         "columns": [{"heading": "Une remarque ?", "code": "Q2"}]},
    ],
}  # fmt: skip


def test_latin1_fallback(tmp_path):
    tiny = cbmod.from_dict(TINY)
    path = tmp_path / "l1.csv"
    # 0x81 is undefined in cp1252: only latin-1 decodes such a file
    path.write_bytes(
        "ID de la réponse;Votre avis ?;Une remarque ?\r\n1;Très bien;merci \x81\r\n".encode(
            "latin-1"
        )
    )
    exp = read_export(path, tiny)
    assert (exp.encoding, exp.separator) == ("latin-1", ";")
    assert exp.responses["avis"].tolist() == ["Très bien"]
    assert exp.responses["remarque"].tolist() == ["merci \x81"]


def test_cp1252_detected(tmp_path):
    tiny = cbmod.from_dict(TINY)
    path = tmp_path / "w.csv"
    path.write_bytes(
        "ID de la réponse\tVotre avis ?\tUne remarque ?\n7\tPas du tout\t“oui” – œuvre\n".encode(
            "cp1252"
        )
    )
    exp = read_export(path, tiny)
    assert (exp.encoding, exp.separator) == ("cp1252", "\t")
    assert exp.responses["remarque"].tolist() == ["“oui” – œuvre"]


# -- errors ---------------------------------------------------------------------------------
def _raises(path: Path, cb, *patterns: str, **kwargs) -> str:
    with pytest.raises(IngestError) as info:
        read_export(path, cb, **kwargs)
    msg = str(info.value)
    assert str(path) in msg, msg
    for p in patterns:
        assert re.search(p, msg), (p, msg)
    return msg


def test_error_empty_file(cb, tmp_path):
    p = tmp_path / "empty.csv"
    p.write_bytes(b"\n \n")
    _raises(p, cb, "empty file")


def test_error_headers_only(cb, tmp_path):
    header, _ = synthetic(cb)
    _raises(write(tmp_path / "h.csv", header, []), cb, "headers only", "line 2")


def test_error_unknown_column_names_the_closest_heading(cb, tmp_path):
    header, rows = synthetic(cb)
    i = header.index("Avez-vous nommé un(e) Délégué(e) à la Protection des Données (DPO) ?")
    header[i] = "Avez-vous nommé un Délégué à la Protection des Données ?"
    _raises(
        write(tmp_path / "u.csv", header, rows),
        cb,
        "unknown column",
        "line 1",
        re.escape("'Avez-vous nommé un Délégué à la Protection des Données ?'"),
        re.escape("closest known: 'Avez-vous nommé un(e) Délégué(e)"),
    )


def test_error_missing_question_column(cb, tmp_path):
    header, rows = synthetic(cb)
    i = next(k for k, h in enumerate(header) if h.startswith("Votre structure a-t-elle engagé"))
    del header[i]
    for row in rows:
        del row[i]
    _raises(
        write(tmp_path / "m.csv", header, rows),
        cb,
        "missing column of question 'numerique_responsable'",
        "Votre structure a-t-elle engagé une réflexion",
    )


def test_optional_columns_may_be_missing(cb, tmp_path):
    """Timing, upload, enrichment and identifying columns are optional."""
    keep = [
        k
        for k, (q, _) in enumerate((q, c) for q in cb.questions for c in q.columns)
        if q.type in cbmod.KEPT or q.id == "response_id"
    ]
    header, rows = synthetic(cb)
    exp = read_export(
        write(tmp_path / "o.csv", [header[k] for k in keep], [[r[k] for k in keep] for r in rows]),
        cb,
    )
    assert exp.responses["structure_key"].isna().all()
    assert exp.dropped_columns == ()


def test_error_answer_outside_options_gives_the_file_line(cb, tmp_path):
    header, rows = synthetic(cb)
    i = header.index("Avez-vous nommé un(e) Délégué(e) à la Protection des Données (DPO) ?")
    rows[1][i] = "Oui, externalisé"
    # row 1 holds a 3-line text cell: row 2 starts on line 1 + 3 + 1 = 5
    _raises(
        write(tmp_path / "a.csv", header, rows),
        cb,
        "line 5",
        "column 'Avez-vous nommé",
        "answer outside the codebook options of 'dpo_nomme'",
        "'Oui, externalisé'",
        "expected one of",
        "closest known: .Oui, externalis",
    )


def test_answers_are_normalised(cb, tmp_path):
    header, rows = synthetic(cb)
    i = header.index("Avez-vous nommé un(e) Délégué(e) à la Protection des Données (DPO) ?")
    rows[0][i] = unicodedata.normalize("NFD", "  Oui, externalisé auprès d'un prestataire ")
    exp = read_export(write(tmp_path / "n.csv", header, rows), cb)
    assert exp.responses["dpo_nomme"].iloc[0] == "Oui, externalisé auprès d’un prestataire"


def test_error_bad_multiple_choice_cell(cb, tmp_path):
    header, rows = synthetic(cb)
    i = header.index(
        "Quels sont le ou les domaines concernés par ces clauses ?  [Le respect du RGPD]"
    )
    rows[2][i] = "Peut-être"
    _raises(write(tmp_path / "b.csv", header, rows), cb, "line 6", "'Peut-être'", "'Oui', 'Non'")


def test_error_duplicated_response_ids(cb, tmp_path):
    header, rows = synthetic(cb)
    rows[2][0] = rows[0][0]
    _raises(
        write(tmp_path / "d.csv", header, rows),
        cb,
        "duplicated response id 10",
        "lines 2, 6",
        "column 'ID de la réponse'",
    )


def test_error_malformed_rows(cb, tmp_path):
    header, rows = synthetic(cb)
    long = [r[:] for r in rows]
    long[1].append("extra")
    _raises(write(tmp_path / "l.csv", header, long), cb, "too many fields", "line 5")
    short = [r[:] for r in rows]
    short[2] = short[2][:10]
    _raises(write(tmp_path / "s.csv", header, short), cb, "truncated row", "line 6")
    path = write(tmp_path / "q.csv", header, rows)
    path.write_bytes(path.read_bytes() + b'99,"unterminated\n')
    _raises(path, cb, "malformed row", "line 7")


def test_error_export_of_another_edition(cb, tmp_path):
    cb22 = load(2022)
    header = [c.heading for q in cb22.questions for c in q.columns]
    rows = [["" for _ in header]]
    _raises(
        write(tmp_path / "e22.csv", header, rows),
        cb,
        "this looks like an export of edition 2022",
    )


def test_error_limits(cb, tmp_path):
    header, rows = synthetic(cb)
    path = write(tmp_path / "big.csv", header, rows)
    _raises(path, cb, "bytes", "max_bytes=100", max_bytes=100)
    _raises(path, cb, "more than 2 responses", "line 6", "max_rows=2", max_rows=2)
    assert len(read_export(path, cb, max_rows=3).responses) == 3
