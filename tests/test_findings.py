"""The report's findings on the real 2023 export: one number per finding, honest comparisons.

A chapter is opened on the real export (prepared once per module) with the published 2022
aggregates, as the report is built; its findings, key points, evolutions and claims are
checked against the estimates and the charts the chapters draw.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import ROOT

from analysis.report import claims
from analysis.report import findings as F
from analysis.report import french as fmt
from analysis.report.chapters import chapter as open_chapter
from analysis.survey import codebook as cbmod

pytestmark = pytest.mark.real

NOTEBOOKS = ROOT / "notebooks"


@pytest.fixture(scope="module")
def processed(real_2023_module, tmp_path_factory) -> Path:
    from analysis.build.prepare import prepare

    out = tmp_path_factory.mktemp("processed")
    data = out / "real-2023.parquet"
    prepare(2023, real_2023_module, data, out / "real-2023.meta.json", out / "real-2023.drops.csv")
    return data


@pytest.fixture(scope="module")
def real_2023_module():
    from conftest import REAL_2023

    if not REAL_2023.exists():
        pytest.skip("needs the real data in ../shared/data beside the repository")
    return REAL_2023


@pytest.fixture(scope="module")
def chapters(processed):
    from conftest import AGGREGATES_2022

    if not AGGREGATES_2022.exists():
        pytest.skip("needs the 2022 aggregates in ../shared/data beside the repository")
    names = (
        "contexte",
        "motivations",
        "organisation",
        "gouvernance",
        "environnement",
        "ia",
        "cybersecurite",
    )
    return {
        n: open_chapter(
            n,
            edition=2023,
            data_path=str(processed),
            previous_edition=2022,
            previous_path=str(AGGREGATES_2022),
        )
        for n in names
    }


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+\u202f%", text)


def test_every_number_of_a_finding_sentence_is_its_charts_value(chapters):
    checked = 0
    for f in F.FINDINGS:
        ch = chapters[f.chapter]
        fig, _cap = ch.chart_figure(f.id)
        values = fig.barometre["values"]
        item, option = F.resolve(ch, f)
        sentence = F.level_sentence(ch, f)
        types = F.types_sentence(ch, f)
        if f.kind == "share":
            key = "ensemble" if fig.barometre["chart"] == "by_type" else f"{item}|{option}"
            assert sentence.startswith(fmt.pct(values[key])), (f.id, sentence, values[key])
        # every percentage the sentence prints is one the chart shows
        shown = {fmt.pct(v) for v in values.values()}
        for number in _numbers(sentence + " " + types):
            assert number in shown, (f.id, number, sentence, types, sorted(shown))
        checked += 1
    assert checked == len(F.FINDINGS) >= 40


def test_key_points_and_titles_use_the_same_number(chapters):
    for name, ch in chapters.items():
        if name == "contexte":
            continue
        keys = [f for f in ch.findings() if f.key]
        assert 3 <= len(keys) <= 4, (name, [f.id for f in keys])
        for f in keys:
            fig = F.figure(ch, f)
            point = F.key_point(ch, f)
            assert fmt.pct(fig.pct) in point
            if "{Part}" in f.title:
                words = F.title(ch, f).lower()
                assert F.wording.proportion(fig.pct).text.lower() in words


def test_no_evolution_for_a_pair_marked_not_comparable(chapters):
    cb = cbmod.load(2023)
    not_comparable = {q.id for q in cb.questions if q.previous and q.previous.comparable == "no"}
    assert {"projets_domaines", "priorites"} <= not_comparable
    for name, ch in chapters.items():
        cmp = ch.comparison
        if cmp is not None:
            assert not set(cmp["question_id"]) & not_comparable, name
        for f in ch.findings():
            text = F.evolution_sentence(ch, f)
            if f.question in not_comparable:
                assert text.startswith("Pas de comparaison"), (f.id, text)
                assert not re.search(r"hausse|baisse|évolution", text)
                assert F.evolution_row(ch, f) is None
    rows = chapters["motivations"].key_findings(intro=False)
    for r in rows:
        if r["question_id"] in not_comparable:
            assert r["previous_pct"] is None and r["comparable"] == "no"


def test_every_comparison_names_the_answer_and_the_population(chapters):
    said = 0
    for f in F.FINDINGS:
        ch = chapters[f.chapter]
        text = F.evolution_sentence(ch, f)
        if not text or text.startswith("Pas de comparaison"):
            continue
        assert "hors communes de moins de 3 500 habitants" in text, text
        assert "«" in text and "2022" in text, text
        said += 1
    assert said >= 10


def test_introduction_key_findings_have_the_previous_value(chapters):
    rows = chapters["contexte"].key_findings()
    assert 6 <= len(rows) <= 8
    for r in rows:
        assert r["base_n"] == 191 and 0 <= r["pct"] <= 100
        if r["comparable"] in ("yes", "wording"):
            assert r["previous_pct"] is not None, r["id"]
            assert r["previous_base_n"] == 216, r  # the 2022 published base of comparisons
        else:
            assert r["previous_pct"] is None


def test_the_dsi_is_compared_on_leader_or_strong_involvement(chapters):
    cmp = chapters["organisation"].comparison
    rows = cmp[
        (cmp["question_id"] == "directions_implication") & (cmp["item"] == "Direction Informatique")
    ]
    assert "Fonction leader + Implication forte" in set(rows["option"])


def test_checked_claim_of_the_ia_chapter(chapters):
    ch = chapters["ia"]
    pred = ch.share("ia_techniques", "Modèles prédictifs")
    chat = ch.share("ia_techniques", "Modèle conversationnel (chatbot)")
    assert pred.base_n == chat.base_n == 52
    claims.check("ia", "prédictif devant", pred > chat)
    with pytest.raises(claims.ClaimError) as exc:
        ch.claim(
            "Les agents conversationnels ({chat}) devancent l'IA prédictive ({pred}).",
            chat > pred,
            chat=chat,
            pred=pred,
        )
    assert "'ia'" in str(exc.value) and "agents conversationnels" in str(exc.value)
    assert fmt.pct(pred.pct) in str(exc.value)


def _notebook_calls() -> dict[str, set[str]]:
    calls: dict[str, set[str]] = {"compact": set(), "annex": set()}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        src = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        calls["compact"] |= set(re.findall(r"r\.compact\(\"([a-z0-9_]+)\"\)", src))
        m = re.search(r"chapter\(\s*\"([a-z]+)\"", src)
        if "r.annex()" in src and m:
            calls["annex"].add(m.group(1))
    return calls


def test_every_tabulated_question_is_shown():
    cb = cbmod.load(2023)
    calls = _notebook_calls()
    for q in cb.of_type(*cbmod.TABULATED):
        shown = q.id in calls["compact"] or q.chapter in calls["annex"]
        assert shown, f"{q.id} ({q.chapter}) appears in no chapter nor annex"
    for qid in (
        "logiciels_choix",
        "technologies_mutualisees",
        "transparence_algo_info",
        "transparence_algo_actions",
        "rgpd_processus",
        "clauses_juridiques",
        "clauses_domaines",
        "ia_envisage_domaines",
    ):
        assert qid in calls["compact"], qid


def test_notebook_markdown_types_no_number():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for c in nb["cells"]:
            if c["cell_type"] == "markdown":
                text = "".join(c["source"])
                assert not re.search(r"\d+\s*%|\bpts\b", text), (path.name, text[:80])


def test_without_a_previous_edition_no_comparison_is_written(processed):
    ch = open_chapter("motivations", edition=2023, data_path=str(processed))
    for f in ch.findings():
        _title, sentences = F.lede(ch, f)
        assert sentences and not any("2022" in s or "None" in s for s in sentences), f.id
    rows = ch.key_findings()
    assert all(r["previous_pct"] is None for r in rows)
