"""Synthetic exports: determinism, layout, filters, marginals, committed files, ingestion."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.build.writers import write_synthetic_export
from analysis.survey import codebook as cbmod
from analysis.survey import synth
from analysis.survey.codebook import normalise_heading

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
COMMITTED = {2023: (RAW / "synthetique-2023.csv", 2023), 2022: (RAW / "synthetique-2022.csv", 2022)}
CATEGORY_OF_LABEL = {
    "Commune": "commune",
    "EPCI": "epci",
    "Metropole": "metropole",
    "Departement": "departement",
    "Region": "region",
    "": "autre",
}


@pytest.fixture(scope="module")
def cb23():
    return cbmod.load(2023)


@pytest.fixture(scope="module")
def cb22():
    return cbmod.load(2022)


@pytest.fixture(scope="module")
def huge():
    """20 000 synthetic 2023 responses, for marginals."""
    return synth.generate(2023, 20_000, 12)


@pytest.fixture(scope="module")
def big():
    """4 000 synthetic 2023 responses (module-wide: generated once)."""
    return synth.generate(2023, 4000, 11)


def _heading(cb, qid, item=None):
    q = cb[qid]
    if item is None:
        return q.columns[0].heading
    return next(c.heading for c in q.columns if c.item == item)


def _complete(df: pd.DataFrame) -> pd.Series:
    return df["Dernière page"] == "13"


# -- determinism and format -----------------------------------------------------------------
def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = write_synthetic_export(2023, n=60, seed=5, out=tmp_path / "a.csv").read_bytes()
    b = write_synthetic_export(2023, n=60, seed=5, out=tmp_path / "b.csv").read_bytes()
    c = write_synthetic_export(2023, n=60, seed=6, out=tmp_path / "c.csv").read_bytes()
    assert a == b
    assert a != c
    assert synth.to_csv(synth.generate(2023, 60, 5)).encode("utf-8") == a
    d = write_synthetic_export(2022, n=60, seed=5, out=tmp_path / "d.csv").read_bytes()
    assert d == write_synthetic_export(2022, n=60, seed=5, out=tmp_path / "e.csv").read_bytes()


def test_file_format_like_the_real_export(tmp_path, cb23):
    path = write_synthetic_export(2023, n=80, seed=3, out=tmp_path / "synthetique-x.csv")
    data = path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")  # no BOM
    assert b"\r" not in data and data.endswith(b"\n")
    text = data.decode("utf-8")
    rows = list(csv.reader(text.splitlines(keepends=True)))
    header = rows[0]
    assert header == [c.heading for q in cb23.questions for c in q.columns]
    assert header.index("Tête de série") == 4
    assert len(rows) == 81 and all(len(r) == len(header) for r in rows)
    # minimal quoting: a heading with a comma is quoted, one without is not
    assert text.startswith("ID de la réponse,Date de soumission,Dernière page,")


def test_write_export_is_atomic_and_refuses_a_directory(tmp_path):
    out = tmp_path / "synthetique-2023.csv"
    out.write_text("old", encoding="utf-8")
    write_synthetic_export(2023, n=5, seed=1, out=out)
    assert out.read_text(encoding="utf-8").startswith("ID de la réponse")
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left
    with pytest.raises(synth.SynthError, match="is a directory"):
        write_synthetic_export(2023, n=5, seed=1, out=tmp_path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((2021, 10, 1), r"edition 2021; expected one of \(2022, 2023\)"),
        (("deux", 10, 1), r"edition 'deux'; expected one of"),
        ((2023, 0, 1), r"n = 0; expected a whole number of responses ≥ 1"),
        ((2023, 2.5, 1), r"n = 2.5; expected a whole number"),
        ((2023, 10, -1), r"seed = -1; expected a whole number ≥ 0"),
    ],
)
def test_bad_arguments_raise_a_clear_error(args, message):
    with pytest.raises(synth.SynthError, match=message):
        synth.generate(*args)


def test_bad_parameter_file_names_file_question_and_expectation(tmp_path, cb23):
    params = json.loads(synth.params_path(2023).read_text(encoding="utf-8"))
    del params["questions"]["acculturation"]
    (tmp_path / "params-2023.json").write_text(json.dumps(params), encoding="utf-8")
    loaded = synth.load_params(2023, tmp_path)
    with pytest.raises(synth.SynthError, match=r"params-2023.json: question 'acculturation' "
                       r"missing; expected parameters"):  # fmt: skip
        synth._specs_2023(cb23, loaded, str(tmp_path / "params-2023.json"))
    (tmp_path / "params-2022.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(synth.SynthError, match=r"params-2022.json: not valid JSON \(line 1"):
        synth.load_params(2022, tmp_path)
    with pytest.raises(synth.SynthError, match=r"not found; expected the parameters"):
        synth.load_params(2023, tmp_path / "nowhere")


def test_generate_20000_is_fast():
    synth.generate(2023, 10, 1)  # imports and the reference, once
    t0 = time.perf_counter()
    df = synth.generate(2023, 20_000, 1)
    seconds = time.perf_counter() - t0
    assert df.shape == (20_000, 305)
    assert seconds < 5, f"{seconds:.2f} s"


# -- columns --------------------------------------------------------------------------------
def _identifying(cb) -> list[str]:
    return [
        c.heading for q in cb.questions if q.type == "personal" or q.identifying for c in q.columns
    ]


def test_columns_are_the_codebook_with_six_identifying(cb23):
    df = synth.generate(2023, 10, 1)
    assert list(df.columns) == [c.heading for q in cb23.questions for c in q.columns]
    six = _identifying(cb23)
    assert len(six) == 6 and len(df.columns) == 305
    start = list(df.columns).index("Tête de série") + 1
    assert list(df.columns)[start : start + 4] == six[:4]  # e-mail, prénom, nom, fonction


def test_columns_are_the_real_export_plus_six_identifying(real_2023, cb23):
    with real_2023.open(encoding="utf-8", newline="") as fh:
        real = next(csv.reader(fh))
    df = synth.generate(2023, 10, 1)
    without = [h for h in df.columns if h not in set(_identifying(cb23))]
    assert without == real


# -- structure of the answers ---------------------------------------------------------------
def test_filters_respected(big, cb23):
    """Not asked (codebook asked_if, evaluated by the codebook on the typed frame): no answer;
    single/ranking/text empty, multiple/matrix N/A."""
    from analysis.survey import ingest

    typed = _typed(big, cb23)
    filtered = [q for q in cb23.questions if q.asked_if is not None]
    assert len(filtered) >= 20
    page, _ = synth.pages(cb23)
    reached = pd.to_numeric(big["Dernière page"], errors="coerce").fillna(-1).to_numpy()
    for q in filtered:
        asked = cbmod.asked_mask(cb23, q.id, typed).to_numpy()
        not_asked = ~asked & (reached >= page[q.id])
        assert not_asked.sum() > 50, q.id
        assert asked.sum() > 20, q.id
        for c in q.columns:
            cells = big[c.heading].to_numpy()[not_asked]
            expected = {"N/A"} if q.type in ("multiple", "matrix") else {""}
            assert set(cells) == expected, (q.id, c.heading, set(cells))
    assert ingest  # the typed frame comes from the ingestion of the generated file


def _typed(df: pd.DataFrame, cb) -> pd.DataFrame:
    """The generated export as ingestion types it (written to a temporary file)."""
    import tempfile

    from analysis.survey import ingest

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "synthetique-test.csv"
        path.write_text(synth.to_csv(df), encoding="utf-8", newline="")
        return ingest.read_export(path, cb).responses


def test_pages_not_reached_are_empty(big, cb23):
    page, last = synth.pages(cb23)
    assert last == 13
    lp = pd.to_numeric(big["Dernière page"], errors="coerce").fillna(-1).to_numpy()
    for q in cb23.of_type("single", "matrix", "ranking", "text", "multiple"):
        unreached = lp < page[q.id]
        for c in q.columns:
            expected = {"N/A"} if q.type == "multiple" else {""}
            assert set(big[c.heading].to_numpy()[unreached]) <= expected, q.id
    never = big["Dernière page"] == ""
    assert (big.loc[never, "Temps total :"] == "0").all()
    assert (big.loc[never, "Structure (clé pseudonymisée)"] == "").all()


def test_cells_look_like_limesurvey(big, cb23):
    for q in cb23.of_type("multiple"):
        for c in q.columns:
            assert set(big[c.heading]) <= {"Oui", "Non", "N/A"}, c.heading
    for q in cb23.of_type("single", "matrix"):
        for c in q.columns:
            assert set(big[c.heading]) <= {*q.options, "", "N/A"}, c.heading
    for q in cb23.of_type("upload"):
        docs, count = (big[c.heading] for c in q.columns)
        assert set(docs) <= {"", "[]"} and set(count) <= {"", "0"}
        assert ((docs == "[]") <= (count == "0")).all()
    for q in cb23.of_type("timing"):
        if q.code.startswith("groupTime"):
            for c in q.columns[1:]:  # per-question durations: always empty
                assert set(big[c.heading]) == {""}
    t = pd.to_numeric(big["Temps total :"])
    assert (t >= 0).all() and t[_complete(big)].median() > 300
    texts = {v for q in cb23.of_type("text") for v in big[q.columns[0].heading]} - {""}
    assert texts and all("Réponse libre synthétique." in unicode_nfc(t) for t in texts)


def unicode_nfc(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFC", text)


def test_rankings_hold_distinct_items_filled_from_the_first(big, cb23):
    q = cb23["priorites"]
    ranks = big[[c.heading for c in q.columns]].to_numpy()
    filled = ranks != ""
    assert (filled[:, 1:] <= filled[:, :-1]).all()  # no gap
    for row in ranks[filled.any(axis=1)]:
        items = [x for x in row if x]
        assert len(items) == len(set(items))
        assert set(items) <= set(q.options)
    assert filled[_complete(big).to_numpy()].all(axis=1).mean() > 0.7


def test_completion_duplicates_and_ids(big):
    n = len(big)
    ids = big["ID de la réponse"].astype(int)
    assert ids.tolist() == list(range(5, 5 + n))
    lp = big["Dernière page"]
    never = (lp == "").mean()
    early = lp.isin([str(k) for k in range(13)]).mean()
    assert abs(never - 0.30) < 0.03 and abs(early - 0.20) < 0.03
    assert ((big["Date de soumission"] == "1980-01-01 00:00:00") == (lp == "13")).all()
    assert set(big["Date de soumission"]) == {"", "1980-01-01 00:00:00"}
    keys = big["Structure (clé pseudonymisée)"]
    counts = keys[keys != ""].value_counts()
    assert counts.max() == 2
    structures = round(n / 1.05)
    assert abs((counts == 2).sum() / structures - 0.05) < 0.005  # every twice-answering one


def test_fake_identities_only(big, cb23):
    email = big[_heading(cb23, "courriel")]
    assert email[email != ""].str.fullmatch(r"[a-z]+\.[a-z]+@exemple\.invalid").all()
    text = synth.to_csv(big)
    assert not re.search(r"@[\w.-]+\.(fr|com|org|net|eu)\b", text)
    phones = re.findall(r"0\d(?: \d\d){4}", text)
    assert phones and all(p.startswith("06 00 00 ") for p in phones)
    first = big[_heading(cb23, "prenom")]
    assert set(first) - {""} <= set(synth.FIRST_NAMES)
    # the e-mail is the respondent's own name
    started = email != ""
    local = email[started].str.split("@").str[0]
    assert (local.str.split(".").str[0] == first[started].map(synth._ascii)).all()


def test_structures_siret_key_and_enrichment(big, cb23):
    from analysis.survey.reference import load_reference

    name = big[_heading(cb23, "structure_name")]
    siret = big[_heading(cb23, "siret")]
    key = big["Structure (clé pseudonymisée)"]
    label = big["Catégorie (enrichissement)"]
    shown = name != ""
    expected_key = name[shown].map(lambda s: "S" + hashlib.sha256(s.encode()).hexdigest()[:8])
    assert (key[shown] == expected_key).all()
    assert (key[~shown] == "").all() and (label[~shown] == "").all()
    # one key per name and one name per key
    assert name[shown].groupby(key[shown]).nunique().max() == 1
    with_siret = siret != ""
    assert siret[with_siret].str.fullmatch(r"\d{9}00012").all()
    found = load_reference().lookup_sirens(siret[with_siret])
    assert (found["name"].astype(str).to_numpy() == name[with_siret].to_numpy()).all()
    cats = found["category"].astype(str).to_numpy()
    assert (label[with_siret].map(CATEGORY_OF_LABEL).to_numpy() == cats).all()
    autre = shown & (label == "")
    assert (siret[autre] == "").all()
    assert name[autre].str.fullmatch(r".+ n° \d+").all()
    communes = label == "Commune"
    assert big.loc[communes, "Population totale (enrichissement)"].str.fullmatch(r"\d+").all()


def test_quotas_known_answers():
    # 10 split 1:1:2 → 2.5, 2.5, 5 → remainders to the first stratum in STRATA order
    assert {
        k: v for k, v in synth.quotas({"epci": 1, "metropole": 1, "autre": 2}, 10, {}).items() if v
    } == {"epci": 3, "metropole": 2, "autre": 5}
    # métropoles capped at 1: the other 9 split 1:2 between epci and autre
    got = synth.quotas({"epci": 1, "metropole": 1, "autre": 2}, 10, {"metropole": 1})
    assert {k: v for k, v in got.items() if v} == {"epci": 3, "metropole": 1, "autre": 6}
    with pytest.raises(synth.SynthError, match="the reference holds only 3"):
        synth.quotas({"region": 1}, 5, {"region": 3})


def test_stratum_mix_of_the_default_file(cb23):
    df = synth.generate(2023, 400, 2023)
    started = df["Structure (clé pseudonymisée)"] != ""
    labels = df.loc[started].drop_duplicates("Structure (clé pseudonymisée)")
    counts = labels["Catégorie (enrichissement)"].map(CATEGORY_OF_LABEL).value_counts()
    # 381 structures, 2023 mix 75:33:25:18:10:30 (communes); métropoles capped at the 22 of the
    # reference, régions at 18; about half of them started (the rest never did)
    assert counts["autre"] > counts["epci"] > counts["departement"] > counts["region"]
    assert counts["metropole"] <= 22 and counts["region"] <= 18


# -- marginals ------------------------------------------------------------------------------
CHECKED = (  # (question, item or None, value)
    ("rgpd_conformite", None, "Oui, partiellement"),
    ("acculturation", None, "Le niveau est insuffisant : le sujet n’est identifié que par quelques experts"),
    ("obstacles", "competences", "Oui"),
    ("cyber_mesures", "formation", "Oui"),
    ("numerique_responsable", None, "Non, le sujet n’a pas encore été traité"),
)  # fmt: skip


def _shares(df, cb, qid, item, value, asked=None):
    """Share of ``value`` per category among complete responses (asked when given)."""
    col = df[_heading(cb, qid, item)]
    cat = df["Catégorie (enrichissement)"].map(CATEGORY_OF_LABEL).fillna("autre")
    rows = _complete(df) if asked is None else asked
    return (col[rows] == value).groupby(cat[rows]).agg(["mean", "size"])


def _param(params, q, item, value, cat):
    qp = params["questions"][q.id]
    key = synth.column_key(q, item)
    entry = qp["columns"][key][cat]
    return entry["p"][qp["values"].index(value)]


def _close(share: float, p: float, size: int) -> bool:
    """|p̂ − p| < 0.05 on large groups; within 4 standard errors on any group of 30 or more."""
    se = max(np.sqrt(p * (1 - p) / size), 1 / size)
    return abs(share - p) < (0.05 if size >= 1000 else 4 * se)


def test_marginals_match_the_parameters(huge, cb23):
    params = synth.load_params(2023)
    checked = 0
    for qid, item, value in CHECKED:
        q = cb23[qid]
        assert item is None or item in {c.item for c in q.columns}
        for cat, row in _shares(huge, cb23, qid, item, value).iterrows():
            p = _param(params, q, item, value, cat)
            if row["size"] >= 30:
                assert _close(row["mean"], p, row["size"]), (qid, cat, row["mean"], p)
                checked += row["size"] >= 1000
    assert checked >= 10  # autre, commune and epci have over 1 000 complete responses
    # the filtered multiple choice, among those asked
    asked = huge[_heading(cb23, "clauses_juridiques")] == "Oui"
    shares = _shares(huge, cb23, "clauses_domaines", "rgpd", "Oui", _complete(huge) & asked)
    for cat, row in shares.iterrows():
        p = _param(params, cb23["clauses_domaines"], "rgpd", "Oui", cat)
        if row["size"] >= 30:
            assert _close(row["mean"], p, row["size"]), (cat, row["mean"], p)


def test_marginals_match_the_real_data(huge, cb23, real_2023):
    real = pd.read_csv(real_2023, dtype=str, keep_default_na=False).map(unicode_nfc)
    real.columns = [normalise_heading(c) for c in real.columns]
    complete = real[normalise_heading(_heading(cb23, "numerique_responsable"))] != ""
    rcat = real["Catégorie (enrichissement)"].map(CATEGORY_OF_LABEL).fillna("autre")
    for qid, item, value in CHECKED:
        col = real[normalise_heading(_heading(cb23, qid, item))].map(normalise_heading)
        truth = (col[complete] == normalise_heading(value)).groupby(rcat[complete]).mean()
        for cat, row in _shares(huge, cb23, qid, item, value).iterrows():
            if row["size"] >= 30:
                assert _close(row["mean"], truth[cat], row["size"]), (qid, cat, truth[cat])


# -- parameters -----------------------------------------------------------------------------
def test_parameters_hold_aggregates_only():
    for edition in (2022, 2023):
        text = synth.params_path(edition).read_text(encoding="utf-8")
        assert "Réponse libre" not in text and "@" not in text

        def sorted_keys(pairs):
            keys = [k for k, _ in pairs]
            assert keys == sorted(keys)
            return dict(pairs)

        json.loads(text, object_pairs_hook=sorted_keys)
    p23 = synth.load_params(2023)
    # the published 2023 sample (README of the real export): 191 responses per stratum
    assert p23["strata"] == {
        "autre": 75, "epci": 33, "departement": 25, "metropole": 18, "region": 10,
        "commune_10000_100000": 10, "commune_lt_3500": 9, "commune_3500_10000": 6,
        "commune_ge_100000": 5,
    }  # fmt: skip
    assert sum(p23["categories"].values()) == 205  # complete responses
    p22 = synth.load_params(2022)
    assert p22["strata"]["epci_metropole"] == 83 and sum(p22["strata"].values()) == 297


def test_parameters_are_what_the_script_writes(real_2023, aggregates_2022, tmp_path):
    import importlib.util
    import sys

    script = ROOT / "scripts" / "build_synth_params.py"
    spec = importlib.util.spec_from_file_location("build_synth_params", script)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        module.main(["--export-2023", str(real_2023), "--aggregates-2022", str(aggregates_2022),
                     "--out", str(tmp_path)])  # fmt: skip
    finally:
        sys.modules.pop(spec.name, None)
    for edition in (2023, 2022):
        fresh = (tmp_path / f"params-{edition}.json").read_bytes()
        assert fresh == synth.params_path(edition).read_bytes(), edition


# -- 2022 -----------------------------------------------------------------------------------
def test_2022_mix_known_answer(cb22, cb23):
    """rgpd_processus: 2023 'Non, mais …prévu' and 'Non, et … pas prévu' both map to 2022 'Non';
    the table is half the mapped 2023 distribution, half the 2022 Total."""
    p23, p22 = synth.load_params(2023), synth.load_params(2022)
    specs = synth._specs_2022(cb22, cb23, p22, p23, "params-2022")
    table = specs["rgpd_processus"].tables["_"]
    assert specs["rgpd_processus"].values == ("Oui", "Non", "Je ne sais pas", "")
    src = np.asarray(p23["questions"]["rgpd_processus"]["columns"]["_"]["autre"]["p"])
    src = src / src.sum()
    oui, prevu, pas_prevu, jnsp, empty = src
    mapped = np.array([oui, prevu + pas_prevu, jnsp, empty])
    total = np.asarray(p22["questions"]["rgpd_processus"]["columns"]["_"]["p"])
    expected = 0.5 * mapped / mapped.sum() + 0.5 * total / total.sum()
    autre = synth.CATEGORIES.index("autre")
    assert np.allclose(table[autre], expected)
    # ranking of 3 items, only one shared with 2023: the 2022 Total alone
    rank1 = specs["priorites"].tables["1"]
    p = np.asarray(p22["questions"]["priorites"]["columns"]["1"]["p"])
    assert np.allclose(rank1, p / p.sum())
    # a 2022 question no 2023 question links to: the 2022 Total alone, for every category
    exp = specs["experimentations"].tables["_"]
    assert np.allclose(exp, exp[0])


def test_2022_export_layout_and_ingestion(cb22, tmp_path):
    from analysis.survey import clean, ingest

    path = write_synthetic_export(2022, n=300, seed=4, out=tmp_path / "synthetique-2022.csv")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(df.columns) == [c.heading for q in cb22.questions for c in q.columns]
    export = ingest.read_export(path, cb22)
    assert len(export.responses) == 300
    kept, drops = clean.clean(export.responses, cb22)
    assert 100 < len(kept) < 200
    assert set(drops["reason"]) == {"incomplete", "duplicate_structure"}
    assert kept["structure_key"].dropna().is_unique
    filtered = [q for q in cb22.questions if q.asked_if is not None]
    typed = export.responses
    for q in filtered:
        asked = cbmod.asked_mask(cb22, q.id, typed)
        for cid in q.column_ids:
            assert typed.loc[~asked, cid].isna().all(), cid


def test_2022_shift_is_half_2023_by_category_half_2022_total(cb22):
    """cyber_attaque_subie 'Oui' (same options both years): each 2022 response draws it with
    0.5 × the 2023 share of its category + 0.5 × the 2022 Total share; over the generated
    responses the share matches the average of that over their categories."""
    df = synth.generate(2022, 20_000, 8)
    done = df["Dernière page"] == str(synth.pages(cb22)[1])
    col = df[_heading(cb22, "cyber_attaque_subie")][done]
    cat = df["Catégorie (enrichissement)"][done].map(CATEGORY_OF_LABEL).fillna("autre")
    p22 = synth.load_params(2022)["questions"]["cyber_attaque_subie"]
    total = np.asarray(p22["columns"]["_"]["p"])
    total = total[p22["values"].index("Oui")] / total.sum()
    p23 = synth.load_params(2023)["questions"]["cyber_attaque_subie"]

    def share23(c: str) -> float:
        p = np.asarray(p23["columns"]["_"][c]["p"])
        return p[p23["values"].index("Oui")] / p.sum()

    expected = (0.5 * cat.map(share23) + 0.5 * total).mean()
    share = (col == "Oui").mean()
    assert _close(share, expected, len(col)), (share, expected)
    assert len(col) > 8000


# -- committed files ------------------------------------------------------------------------
@pytest.mark.parametrize("edition", [2023, 2022])
def test_committed_files_are_a_fresh_generation(edition):
    path, seed = COMMITTED[edition]
    assert path.name.startswith("synthetique")
    fresh = synth.to_csv(synth.generate(edition, 400, seed)).encode("utf-8")
    assert path.read_bytes() == fresh, (
        f"{path.name} differs from the generator: re-run `barometre synth --edition {edition} "
        f"--n 400 --seed {seed} --out data/raw/{path.name}`"
    )
    assert path.stat().st_size < 1_000_000


def test_committed_2023_ingests_cleans_and_drops_identifying_columns(cb23):
    from analysis.survey import clean, enrich, ingest
    from analysis.survey.reference import load_reference

    path, _ = COMMITTED[2023]
    export = ingest.read_export(path, cb23)
    personal = [c.heading for q in cb23.of_type("personal") for c in q.columns]
    assert set(personal) <= set(export.dropped_columns)
    assert not {"courriel", "prenom", "nom", "fonction"} & set(export.responses.columns)
    assert not {"structure_name", "siret"} & set(export.responses.columns)
    assert export.identity["structure_name"].notna().sum() > 150
    strings = export.responses.select_dtypes(include=["string", "object"])
    for col in strings.columns:
        values = strings[col].dropna().astype(str)
        assert not values.str.contains(r"exemple\.invalid|06 00 00", regex=True).any(), col
    enriched, _ = enrich.enrich(export.responses, export.identity, load_reference())
    kept, drops = clean.clean(enriched, cb23)
    assert 150 < len(kept) < 260
    assert set(drops["reason"]) == {"incomplete", "duplicate_structure"}
    assert kept["structure_key"].dropna().is_unique
    assert set(kept["stratum"].astype(str)) >= {"autre", "epci", "departement", "metropole"}
