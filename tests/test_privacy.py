"""Personal data never reaches an output.

Unit tests: the heading pattern that drops unknown personal-looking columns, the masking of
e-mails, phone numbers and names in free text. End to end (slow): the whole report and the
open data built from an export seeded with fake e-mails, names and phone numbers — in the
identity columns, in an extra "Téléphone" column and inside free-text answers — contain none
of them, in any file of ``_book/``, ``executed/``, ``data/processed/``, the export or ``.build/``.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import repocopy
from pypdf import PdfReader

from analysis.survey import ingest
from analysis.survey.codebook import load


# -- unit ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "heading",
    [
        "Courriel",
        "Téléphone",
        "Telephone",
        "Tél.",
        "Nom",
        "Prénom",
        "Prenom",
        "E-mail",
        "Email",
        "Mail",
        "Adresse mail du référent",
        "Nom du contact",
        "Numéro de portable",
        "Votre fonction",
        "First name",
    ],
)
def test_personal_looking_headings_are_recognised(heading):
    assert ingest._PERSONAL_HEADING.search(unicodedata.normalize("NFC", heading))


@pytest.mark.parametrize(
    "heading", ["Commentaire interne", "Nombre d'agents", "Avez-vous nommé un DPO ?", "Domaine"]
)
def test_ordinary_headings_are_not_taken_for_personal(heading):
    assert not ingest._PERSONAL_HEADING.search(heading)


def test_every_personal_column_of_the_codebook_looks_personal():
    """A field export's personal columns would be dropped even without their codebook entry."""
    cb = load(2023)
    for q in cb.of_type("personal"):
        for c in q.columns:
            assert ingest._PERSONAL_HEADING.search(c.heading), c.heading


def test_names_are_masked_as_whole_words_in_any_case():
    names = ingest.name_words(pd.Series(["Jean-Marc", "Le Goff", None, "Li", "d'Artagnan"]))
    assert names == {"jean-marc", "jean", "marc", "goff", "d'artagnan", "artagnan"}
    s = pd.Series(
        [
            "Voir JEAN-MARC le goff (goff@x.fr) au 06 12 34 56 78",
            "Goffin et Jean restent",
            "li, la, le",
            pd.NA,
            "Saint-Goff, D’Artagnan et MARC-ANTOINE",
        ],
        dtype="string",
    )
    out = ingest.mask_personal(s, names).tolist()
    assert out[0] == "Voir [nom masqué] le [nom masqué] ([courriel masqué]) au [téléphone masqué]"
    # whole words only (not "Goffin"), parts of compound names too ("Jean" of "Jean-Marc")
    assert out[1] == "Goffin et [nom masqué] restent"
    assert out[2] == "li, la, le"
    assert out[3] is pd.NA
    assert out[4] == "Saint-[nom masqué], D’[nom masqué] et [nom masqué]-ANTOINE"
    assert ingest.name_words(pd.Series(["", "Li", None])) == frozenset()


# -- end to end ---------------------------------------------------------------------------------
def _variants(secret: str) -> set[str]:
    folded = unicodedata.normalize("NFKD", secret)
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return {s.casefold() for s in (secret, unicodedata.normalize("NFD", secret), plain)}


def _texts(path: Path) -> list[str]:
    """What a reader could find in a file: its bytes as text and, for containers, their text."""
    data = path.read_bytes()
    texts = [data.decode("utf-8", errors="replace"), data.decode("latin-1")]
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        texts.append("\n".join(frame.astype(str).to_numpy().ravel()))
        texts.append(" ".join(map(str, frame.columns)))
    elif path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            texts += [z.read(n).decode("utf-8", errors="replace") for n in z.namelist()]
    elif path.suffix == ".pdf":
        texts += [p.extract_text() or "" for p in PdfReader(path).pages]
    elif path.suffix == ".ipynb":
        texts.append(json.dumps(json.loads(data), ensure_ascii=False))
    return texts


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> repocopy.Built:
    return repocopy.built(tmp_path_factory)


pytestmark_slow = pytest.mark.slow


@pytestmark_slow
def test_seeded_input_carries_the_secrets(built):
    text = (built.repo / repocopy.SEEDED).read_text(encoding="utf-8")
    for secret in repocopy.SECRETS:
        assert secret in text, secret
    assert text.count(repocopy.FREE_TEXT) == repocopy.PLANTED


@pytestmark_slow
def test_no_personal_data_in_any_output(built):
    files = [
        p
        for d in (*repocopy.OUTPUT_DIRS, ".build")
        for p in sorted((built.repo / d).rglob("*"))
        if p.is_file()
    ]
    kinds = {p.suffix for p in files}
    assert {".html", ".pdf", ".svg", ".ipynb", ".parquet", ".csv", ".xlsx", ".json"} <= kinds
    needles = {v: s for s in repocopy.SECRETS for v in _variants(s)}
    rendered = ("_book", "executed")
    for path in files:
        rel = path.relative_to(built.repo).as_posix()
        for text in _texts(path):
            low = text.casefold()
            found = [needles[n] for n in needles if n in low]
            assert not found, (rel, found)
            if rel.startswith(rendered):  # free text (hostile HTML) is never rendered
                assert "alert('barometre')" not in low, rel


@pytestmark_slow
def test_free_text_is_kept_masked_and_personal_columns_are_dropped(built):
    name = Path(repocopy.SEEDED).stem
    processed = built.repo / "data" / "processed"
    frame = pd.read_parquet(processed / f"{name}.parquet")
    meta = json.loads((processed / f"{name}.meta.json").read_text(encoding="utf-8"))
    assert not {"courriel", "prenom", "nom", "fonction", "structure_name", "siret"} & set(frame)
    assert meta["dropped_columns"]["personal"] == 4
    assert meta["dropped_columns"]["personal (by pattern)"] == 1  # the "Téléphone" column
    text = frame.select_dtypes("string")
    masked = text.apply(lambda s: s.str.startswith("Contact : [nom masqué] [nom masqué]"))
    # planted in complete responses; some of them fall to the one-per-structure rule
    assert 0 < int(masked.sum().sum()) <= repocopy.PLANTED
    sample = text[masked].stack().iloc[0]
    assert sample == (
        "Contact : [nom masqué] [nom masqué], [téléphone masqué] / [téléphone masqué] / "
        "[téléphone masqué], écrire à [courriel masqué]"
    )
    # hostile HTML is data: stored as typed (masked), never rendered (checked above)
    assert text.apply(lambda s: s.str.contains("<script>", regex=False)).any().any()
    assert re.search(r"\d", meta["input_sha256"])
