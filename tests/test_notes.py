"""Positioning notes (``barometre notes``): figures, confidentiality, outputs, executors.

The confidentiality tests plant distinctive answers and free text in a small dataset and read
every note back with pypdf: a note shows only its own structure's answers, and figures over
groups with at least 5 other respondents (else a broader group, named in the note).
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from analysis.build import notes as bn
from analysis.build.prepare import prepare_cached
from analysis.report import notes as nt
from analysis.stats.estimates import estimate_all
from analysis.survey import codebook as cbmod

ROOT = Path(__file__).resolve().parent.parent
SYNTH_2023 = ROOT / "data" / "raw" / "synthetique-2023.csv"
SYNTH_2022 = ROOT / "data" / "raw" / "synthetique-2022.csv"


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    out = tmp_path_factory.mktemp("processed")
    cur = prepare_cached(2023, SYNTH_2023, out_dir=out, root=ROOT).path
    prev = prepare_cached(2022, SYNTH_2022, out_dir=out, root=ROOT).path
    return cur, prev


@pytest.fixture(scope="module")
def cb():
    return cbmod.load(2023)


@pytest.fixture(scope="module")
def spec(cb):
    return nt.load_spec(2023, cb)


def text_of(pdf: Path) -> str:
    """The note's text, hyphenation and line breaks undone, spaces folded."""
    text = "\n".join(p.extract_text() or "" for p in PdfReader(pdf).pages)
    text = re.sub(r"-\s*\n\s*", "", text)
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def write_processed(df: pd.DataFrame, like: Path, dest: Path) -> Path:
    """A processed dataset (parquet + metadata copied from ``like``) for make_notes."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(dest, index=False)
    shutil.copy(like.with_suffix(".meta.json"), dest.with_suffix(".meta.json"))
    return dest


# -- specification ----------------------------------------------------------------------------
def test_spec_of_2023_covers_the_six_chapters(spec):
    chapters = {i.chapter for i in spec.indicators}
    assert chapters == {
        "motivations",
        "organisation",
        "gouvernance",
        "environnement",
        "ia",
        "cybersecurite",
    }
    assert spec.request_question == "resultats_souhaites"
    # every stratum reaches the whole sample through its broader groups
    for s in ("commune_ge_100000", "metropole", "region", "autre"):
        assert spec.chain(s)[0] == s and spec.chain(s)[-1] == "ensemble"


def test_bad_spec_is_refused_with_the_indicator_named(tmp_path, cb):
    text = nt.spec_path(2023).read_text(encoding="utf-8")
    (tmp_path / "note-2023.yaml").write_text(
        text.replace('options: ["Existe"]', 'options: ["Existe bien"]'), encoding="utf-8"
    )
    with pytest.raises(
        nt.NotesError, match=r"note-2023\.yaml: indicator 'fonctions_data'.*Existe bien"
    ):
        nt.load_spec(2023, cb, tmp_path)


# -- figures ----------------------------------------------------------------------------------
def test_peer_figures_equal_the_estimates_table(processed, cb, spec):
    """Counts and bases of single-choice indicators are those of the report's estimates."""
    df = pd.read_parquet(processed[0])
    ctx = nt.contexts(df, spec, cb)
    est = estimate_all(df, cb, weight=None, groups=spec.members(), weighted_groups=())
    checked = 0
    for c in ctx[:40]:
        for ch in c["chapters"]:
            for it in ch["items"]:
                ind = next(i for i in spec.indicators if i.id == it["id"])
                if ind.items is not None:
                    continue
                for fig in (it["peer"], it["all"]):
                    if fig is None:
                        continue
                    rows = est[(est.question_id == ind.question) & (est.stratum == fig["group"])]
                    assert fig["base"] == rows["base_n"].iloc[0]
                    assert fig["count"] == rows[rows.option.isin(ind.options)]["count"].sum()
                    checked += 1
    assert checked > 100


def test_own_answers_and_status(processed, cb, spec):
    df = pd.read_parquet(processed[0])
    ctx = {c["response_id"]: c for c in nt.contexts(df, spec, cb)}
    wanted = df[df.resultats_souhaites == "Oui"]
    assert sorted(ctx) == sorted(wanted.response_id.tolist())
    for _, row in wanted.head(30).iterrows():
        it = next(
            i
            for ch in ctx[row.response_id]["chapters"]
            for i in ch["items"]
            if i["id"] == "gouvernance_regles"
        )
        answer = row.gouvernance_regles
        if pd.isna(answer):
            assert it["status"] == "sans_reponse" and it["answer"] == ""
        else:
            assert it["answer"] == answer
            assert it["status"] == ("oui" if answer == "Oui" else "non")


# -- confidentiality --------------------------------------------------------------------------
DISTINCT = "Oui, externalisé auprès d’un prestataire"


@pytest.fixture(scope="module")
def planted(processed, cb, tmp_path_factory):
    """40 respondents: 5 régions (4 others each: too few), 6 départements (5 others: enough),
    29 others; free text "SECRET-<id>" everywhere; one département alone answers DISTINCT to the
    DPO question; the régions alone adopted an ethics charter."""
    df = pd.read_parquet(processed[0])
    df = df[df.stratum.astype(str).isin(["epci", "metropole", "autre"])].head(29)
    extra = pd.read_parquet(processed[0]).query("stratum not in ['epci', 'metropole', 'autre']")
    extra = extra.head(11).copy()
    extra["stratum"] = ["region"] * 5 + ["departement"] * 6
    df = pd.concat([df, extra]).sort_values("response_id").reset_index(drop=True)
    df["stratum"] = pd.Categorical(df["stratum"].astype(str), categories=list(nt.STRATA))
    df["resultats_souhaites"] = "Oui"
    for q in cb.of_type("text"):
        if q.id in df:
            df[q.id] = [f"SECRET-{r}" for r in df.response_id]
    df["dpo_nomme"] = "Oui, en interne"
    lone = int(df[df.stratum == "departement"].response_id.iloc[0])
    df.loc[df.response_id == lone, "dpo_nomme"] = DISTINCT
    df["charte_ethique"] = np.where(df.stratum == "region", "Oui", "Je ne sais pas")
    tmp = tmp_path_factory.mktemp("planted")
    data = write_processed(df, processed[0], tmp / "planted.parquet")
    out = tmp / "notes"
    res = bn.make_notes(data, 2023, out, jobs=1)
    texts = {p.name: text_of(p) for p in sorted(out.glob("note-*.pdf"))}
    return df, lone, res, out, texts


def test_every_note_is_2_to_4_pages_and_indexed(planted):
    df, _, res, out, texts = planted
    assert res.count == len(df) == len(texts) == 40
    assert set(res.pages) <= {2, 3, 4}
    for pdf in out.glob("note-*.pdf"):
        assert 2 <= len(PdfReader(pdf).pages) <= 4
    rows = list(csv.DictReader((out / "index.csv").open(encoding="utf-8")))
    assert [r["file"] for r in rows] == [f"note-{r}.pdf" for r in df.response_id]
    assert [r["stratum"] for r in rows] == df.stratum.astype(str).tolist()
    assert all(re.fullmatch(r"note-\d+\.pdf", p.name) for p in out.glob("*.pdf"))


def test_no_note_shows_free_text_identity_or_another_structures_answer(planted):
    df, lone, _, _, texts = planted
    keys = [k for k in df.structure_key.astype(str) if k and k != "<NA>"]
    assert keys
    for name, text in texts.items():
        assert "SECRET" not in text, name
        assert not any(k in text for k in keys), name
        shown = "prestataire" in text
        assert shown == (name == f"note-{lone}.pdf"), name
    # the planted answer is there in its own note (the check above can fail)
    assert "Votre réponse : « " + DISTINCT.replace("’", "'") in texts[f"note-{lone}.pdf"].replace(
        "’", "'"
    )


def test_small_groups_fall_back_to_a_broader_group_and_say_so(planted):
    df, _, _, _, texts = planted
    regions = set(df[df.stratum == "region"].response_id)
    for name, text in texts.items():
        # 5 régions = 4 others: no figure over the régions alone, in any note
        assert "des régions répondantes" not in text, name
        rid = int(name[5:-4])
        if rid in regions:
            assert "Vos pairs : Départements et régions" in text
            assert "trop peu de répondants pour une comparaison confidentielle" in text
        elif rid in set(df[df.stratum == "departement"].response_id):
            assert "Vos pairs : Départements —" in text  # 6 = 5 others: enough
            assert "des départements répondants" in text


def test_every_figure_is_over_at_least_5_other_respondents(planted, cb, spec):
    df = planted[0]
    ctx = nt.contexts(df, spec, cb)
    met, asked, _ = nt.indicators(df, spec, cb)
    pos = {r: i for i, r in enumerate(df.response_id)}
    ids = [i.id for i in spec.indicators]
    n = 0
    for c in ctx:
        for ch in c["chapters"]:
            for it in ch["items"]:
                self_in = bool(asked[pos[c["response_id"]], ids.index(it["id"])])
                for fig in (it["peer"], it["all"]):
                    if fig is not None:
                        assert fig["base"] - self_in >= 5
                        n += 1
        if c["peer"] is not None:
            assert c["peer"]["n"] - 1 >= 5
    assert n > 500


# -- previous edition -------------------------------------------------------------------------
def test_previous_edition_matched_on_the_structure_key(processed, cb, spec):
    cur, prev = (pd.read_parquet(p) for p in processed)
    ctx = nt.contexts(cur, spec, cb, previous=prev, previous_codebook=cbmod.load(2022))
    prev_keys = set(prev.structure_key.dropna().astype(str))
    matched = [c for c in ctx if c["previous"] is not None]
    assert matched
    by_id = cur.set_index("response_id")
    for c in ctx:
        key = str(by_id.loc[c["response_id"], "structure_key"])
        assert (c["previous"] is not None) == (key in prev_keys)
    c = matched[0]
    key = by_id.loc[c["response_id"], "structure_key"]
    row22 = prev[prev.structure_key == key].iloc[0]
    it = next(i for i in c["previous"]["items"] if i["id"] == "gouvernance_regles")
    assert it["before_answer"] == (
        "" if pd.isna(row22.gouvernance_regles) else row22.gouvernance_regles
    )
    ids = {i["id"] for i in c["previous"]["items"]}
    # not comparable: no crosswalk to 2022 (environnement_outil) or items missing in 2022
    assert "environnement_outil" not in ids and "fonctions_data" not in ids
    assert {"gouvernance_regles", "ia_projets", "acculturation"} <= ids


# -- outputs ----------------------------------------------------------------------------------
def test_outputs_are_replaced_as_one_unit(planted, tmp_path):
    df, _, _, out, _ = planted
    data = out.parent / "planted.parquet"
    dest = tmp_path / "notes"
    bn.make_notes(data, 2023, dest, jobs=1)
    before = {p.name: p.read_bytes() for p in dest.iterdir()}
    bn.make_notes(data, 2023, dest, jobs=1)  # same inputs: byte-identical notes
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before
    broken = tmp_path / "broken.typ"
    broken.write_text(nt.template_path().read_text(encoding="utf-8") + "\n#undefined-function()\n")
    with pytest.raises(nt.NotesError, match="failed to compile"):
        bn.make_notes(data, 2023, dest, jobs=1, template=broken)
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before
    short = tmp_path / "short.typ"
    short.write_text("#let d = json(bytes(sys.inputs.data))\nNote #d.response_id\n")
    with pytest.raises(nt.NotesError, match=r"outside 2–4 pages, e\.g\. note-\d+\.pdf \(1 pages\)"):
        bn.make_notes(data, 2023, dest, jobs=1, template=short)
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before
    assert not list(tmp_path.glob(".notes.*"))


def test_process_pool_gives_the_same_notes(planted, tmp_path):
    out = planted[3]
    dest = tmp_path / "notes"
    res = bn.make_notes(out.parent / "planted.parquet", 2023, dest, jobs=2)
    assert res.executor == "2 processes"
    for p in out.iterdir():
        assert (dest / p.name).read_bytes() == p.read_bytes()


def test_dask_cluster_executor(planted, tmp_path):
    distributed = pytest.importorskip("distributed")
    df, _, _, out, _ = planted
    # 8 respondents: the whole sample (7 others) is every note's peer group
    small = write_processed(df.head(8), out.parent / "planted.parquet", tmp_path / "small.parquet")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        res = bn.make_notes(small, 2023, tmp_path / "notes", scheduler=cluster.scheduler_address)
    assert res.executor.startswith("dask scheduler")
    assert res.count == 8 and len(list((tmp_path / "notes").glob("note-*.pdf"))) == 8
    bn.make_notes(small, 2023, tmp_path / "inline", jobs=1)
    for p in (tmp_path / "inline").iterdir():
        assert (tmp_path / "notes" / p.name).read_bytes() == p.read_bytes()


# -- real data --------------------------------------------------------------------------------
@pytest.mark.real
def test_real_2023_notes(real_2023, tmp_path, cb, spec):
    res = prepare_cached(2023, real_2023, out_dir=tmp_path / "processed", root=ROOT)
    df = pd.read_parquet(res.path)
    ctx = nt.contexts(df, spec, cb)
    assert len(ctx) == 186  # of 191 kept, 186 answered "Oui" (README of the real data)
    by_stratum = {}
    for c in ctx:
        by_stratum.setdefault(c["stratum"], set()).add(c["peer"]["group"])
    # 5 communes of 100 000 hab. or more = 4 others: compared with all communes
    assert by_stratum["commune_ge_100000"] == {"commune"}
    assert by_stratum["metropole"] == {"metropole"}
    tpl = nt.read_template()
    for c in ctx[::20]:
        assert 2 <= nt.page_count(nt.render(tpl, c)) <= 4


def test_cli_on_a_dask_cluster(tmp_path, monkeypatch, capsys):
    """``barometre notes --scheduler``: the command renders on the cluster's workers."""
    distributed = pytest.importorskip("distributed")
    from analysis import cli
    from analysis.build import prepare, writers

    monkeypatch.setattr(prepare, "PROCESSED", str(tmp_path / "processed"))
    export = writers.write_synthetic_export(
        2023, n=60, seed=3, out=tmp_path / "synthetique-cli.csv"
    )
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        code = cli.main(
            [
                "notes",
                "--edition",
                "2023",
                "--input",
                str(export),
                "--out",
                str(tmp_path / "out"),
                "--scheduler",
                cluster.scheduler_address,
            ]
        )
    assert code == 0
    assert f"dask scheduler {cluster.scheduler_address}" in capsys.readouterr().out
    rows = list(csv.DictReader((tmp_path / "out" / "index.csv").open(encoding="utf-8")))
    assert rows and all((tmp_path / "out" / r["file"]).is_file() for r in rows)
    assert not (ROOT / "data" / "processed" / "synthetique-cli.parquet").exists()


def test_cli_error_is_one_clear_message(tmp_path, monkeypatch, capsys):
    from analysis import cli
    from analysis.build import prepare

    monkeypatch.setattr(prepare, "PROCESSED", str(tmp_path / "processed"))
    broken = tmp_path / "templates"
    broken.mkdir()
    (broken / "note.typ").write_text("#let x = (\n", encoding="utf-8")
    shutil.copy(nt.spec_path(2023), broken / "note-2023.yaml")
    monkeypatch.setattr(nt, "TEMPLATES", broken)
    code = cli.main(
        [
            "notes",
            "--edition",
            "2023",
            "--input",
            str(SYNTH_2023),
            "--out",
            str(tmp_path / "o"),
            "--jobs",
            "1",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "failed to compile" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
