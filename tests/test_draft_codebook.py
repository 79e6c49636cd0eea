"""Drafting a new edition's codebook from its export, linked to the previous edition; the
codebook schema and its located errors; the LimeSurvey structure file (.lss)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from edition2024 import (
    ADDED,
    DROPPED,
    IA_USE_OPTIONS,
    MOVED,
    NEW_CODES,
    RENAMED,
    write_export,
    write_lss,
)

from analysis.survey import draft as dr
from analysis.survey import lss as lssmod
from analysis.survey import schema
from analysis.survey.codebook import (
    CODEBOOK_DIR,
    CodebookError,
    from_dict,
    load,
    normalise_heading,
)


@pytest.fixture(scope="module")
def edition2024(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("e2024")
    return write_export(d / "synthetique-2024.csv"), write_lss(d / "edition-2024.lss")


@pytest.fixture(scope="module")
def drafted(edition2024):
    return dr.draft(edition2024[0], 2024, previous=2023)


def _by_text(cb, text: str):
    return next(q for q in cb.questions if q.text.startswith(text))


# -- schema ---------------------------------------------------------------------------------
def test_committed_codebooks_validate_against_the_schema():
    for edition in (2022, 2023):
        path = CODEBOOK_DIR / f"{edition}.yaml"
        text = path.read_text(encoding="utf-8")
        cb = schema.validate(yaml.safe_load(text), str(path), text)
        assert cb.edition == edition and len(cb.questions) == len(load(edition).questions)


def test_schema_accepts_the_previous_and_review_fields():
    raw = {
        "edition": 9,
        "questions": [
            {"id": "a", "chapter": "ia", "type": "single", "options": ["Oui", "Non"],
             "columns": [{"heading": "A", "code": "a"}],
             "previous": {"edition": 8, "id": "a_old", "options": {"Oui": "Oui !"},
                          "note": "n", "comparable": "wording", "comparable_why": "reworded"},
             "review": ["new option"]},
            {"id": "b", "chapter": "ia", "type": "text", "columns": [{"heading": "B", "code": "b"}],
             "review": "a note"},
        ],
    }  # fmt: skip
    cb = schema.validate(raw)
    assert cb.questions[0].previous.comparable == "wording"
    assert from_dict(raw)["a"].previous.id == "a_old"


BAD = """\
edition: 2031
questions:
- id: alpha
  chapter: ia
  type: single
  options: [Oui, Non]
  columns:
  - heading: Alpha ?
    code: A1
  previous:
    edition: 2030
    id: alpha
    comparable: maybe
- id: Beta
  chapter: ia
  type: text
  columns:
  - heading: Beta ?
    code: B1
- id: gamma
  chapter: ai
  type: text
  asked-if: {question: alpha, in: [Oui]}
  columns:
  - heading: Gamma ?
    code: C1
"""


def test_schema_errors_name_file_line_question_and_what_to_do(tmp_path):
    path = tmp_path / "2031.yaml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(schema.SchemaError) as exc:
        schema.validate(yaml.safe_load(BAD), str(path), BAD)
    msg = str(exc.value)
    assert "4 problem(s)" in msg
    lines = msg.splitlines()[1:]
    assert lines[0].startswith(f"{path}, line 13, question 'alpha', previous.comparable: 'maybe'")
    assert lines[0].endswith("use one of: yes, wording, no")
    assert lines[1].startswith(f"{path}, line 14, question 'Beta', id: 'Beta' is not allowed")
    assert "snake_case" in lines[1]
    assert lines[2].startswith(f"{path}, line 21, question 'gamma', chapter: 'ai' is not allowed")
    assert "cybersecurite" in lines[2]
    assert lines[3].startswith(f"{path}, line 23, question 'gamma', asked-if: unknown key")


def test_rules_between_questions_are_located(tmp_path):
    text = BAD.replace("comparable: maybe", "comparable: 'no'").replace("Beta", "beta")
    text = text.replace("chapter: ai", "chapter: ia").replace("asked-if", "asked_if")
    text = text.replace("in: [Oui]", "in: [Peut-être]").replace("code: C1", "code: B1")
    with pytest.raises(schema.SchemaError) as exc:
        schema.validate(yaml.safe_load(text), "f.yaml", text)
    msg = str(exc.value)
    assert "f.yaml, line 23, question 'gamma', asked_if.in: filter values ['Peut-être']" in msg
    assert "f.yaml, line 26, question 'gamma', columns[0].code: code 'B1' also belongs" in msg


def test_load_reports_located_errors(tmp_path):
    (tmp_path / "2031.yaml").write_text(BAD, encoding="utf-8")
    with pytest.raises(CodebookError, match=r"2031.yaml, line 13, question 'alpha'"):
        load(2031, tmp_path)


# -- drafting an edition from itself ----------------------------------------------------------
def test_drafting_the_2023_export_against_2023_gives_the_2023_codebook():
    """Every question, type, code, group, chapter, option order, item and filter comes back."""
    got = from_dict(dr.draft(CODEBOOK_DIR.parent / "raw" / "synthetique-2023.csv", 2023,
                             previous=2023).codebook)  # fmt: skip
    ref = load(2023)
    assert [q.id for q in got.questions] == [q.id for q in ref.questions]
    for q in ref.questions:
        n = got[q.id]
        assert (n.type, n.code, n.chapter, n.options) == (q.type, q.code, q.chapter, q.options)
        assert [(c.heading, c.code, c.item) for c in n.columns] == [
            (c.heading, c.code, c.item) for c in q.columns
        ], q.id
        assert (n.asked_if and n.asked_if.describe()) == (q.asked_if and q.asked_if.describe())
        if q.type != "timing":
            assert n.group == q.group, q.id


# -- a new edition ----------------------------------------------------------------------------
def test_summary_of_a_new_edition(drafted):
    s = drafted.summary
    assert sorted(s.dropped) == sorted(DROPPED)
    assert [i for i, _m, _s in s.reworded] == ["environnement_outil", "hebergement"]
    assert len(s.new) == 3
    assert s.moved == [MOVED[0]]
    assert sorted(s.options_changed) == sorted({*RENAMED, *ADDED})
    text = s.text()
    assert "dropped (in 2023, not in 2024): 3: transparence_algo_info" in text
    assert "moved (another group or place): 1: logiciels_choix" in text


def test_new_edition_links_options_filters_and_reviews(drafted):
    cb = from_dict(drafted.codebook)
    prev = load(2023)
    # continuing questions keep their ids, items and filters
    for q in prev.questions:
        if q.id in DROPPED or q.type in ("timing",):
            continue
        assert q.id in cb, q.id
        if q.type not in ("admin", "personal"):
            assert cb[q.id].previous is not None and cb[q.id].previous.id == q.id
            assert (cb[q.id].asked_if and cb[q.id].asked_if.describe()) == (
                q.asked_if and q.asked_if.describe()
            )
    # a renamed option maps to its 2023 label; an added one comes before "Je ne sais pas"
    (qid, (old, new)), = RENAMED.items()  # fmt: skip
    assert cb[qid].previous.options == {new: old}
    assert cb[qid].options.index(new) == prev[qid].options.index(old)
    qid, (_old, added) = next(iter(ADDED.items()))
    assert cb[qid].options[-2:] == (added, "Je ne sais pas")
    # new questions: codes from the timing columns, a review note, the filter inferred
    use = _by_text(cb, "Vos agents utilisent-ils")
    usages = _by_text(cb, "Pour quels usages")
    assert (use.code, usages.code) == NEW_CODES[:2]
    assert use.chapter == "ia" and use.previous is None
    assert usages.type == "multiple" and [c.label for c in usages.columns][-1] != "Autre"
    assert usages.asked_if.question == use.id
    assert set(usages.asked_if.values) == set(IA_USE_OPTIONS[:2])
    assert cb[usages.id + "_autre"].asked_if == usages.asked_if
    raw = {q["id"]: q for q in drafted.codebook["questions"]}
    assert raw[use.id]["review"][0].startswith("new question: not found in 2023")
    assert any("chapter ia guessed" in r for r in raw[use.id]["review"])
    assert any("options ordered by a rule" in r for r in raw[use.id]["review"])
    assert raw["environnement_outil"]["review"][0].startswith("UNCERTAIN match")
    assert "review" not in raw["rgpd_conformite"]


def test_write_refuses_to_overwrite_and_round_trips(drafted, tmp_path):
    from analysis.build.writers import write_codebook

    path = write_codebook(drafted, tmp_path)
    assert path == tmp_path / "2024.yaml"
    with pytest.raises(dr.DraftError, match="--force"):
        write_codebook(drafted, tmp_path)
    write_codebook(drafted, tmp_path, force=True)
    cb = load(2024, tmp_path)
    assert len(cb.questions) == len(drafted.codebook["questions"])
    text = path.read_text(encoding="utf-8")
    assert "review:" in text and "&id" not in text  # no YAML anchors for a person to edit


def test_drafted_filters_hold_on_the_export(drafted, edition2024):
    """Shown exactly when asked (multiple, upload); answered only when asked (others)."""
    headings, rows = dr.read_raw(edition2024[0])
    m = np.array(rows, dtype=object)
    col = {normalise_heading(h): m[:, k] for k, h in enumerate(headings)}
    cb = from_dict(drafted.codebook)

    def asked(qid):
        q = cb[qid]
        c = q.asked_if
        if c is None:
            return np.ones(len(rows), dtype=bool)
        p = cb[c.question]
        cells = {x.item: col[normalise_heading(x.heading)] for x in p.columns}
        if c.items:
            sel = np.any([cells[i] == "Oui" for i in c.items], axis=0)
        elif c.item is not None:
            sel = np.isin(cells[c.item], c.values)
        else:
            sel = np.isin(col[normalise_heading(p.columns[0].heading)], c.values)
        return sel & asked(p.id)

    checked = 0
    for q in cb.questions:
        if q.asked_if is None:
            continue
        a = asked(q.id)
        cells = np.array([col[normalise_heading(c.heading)] for c in q.columns])
        if q.type == "multiple":
            assert ((cells != "N/A").any(axis=0) == a).all(), q.id
        elif q.type == "upload":
            assert ((cells[-1] != "") == a).all(), q.id
        else:
            assert not ((~np.isin(cells, ["", "N/A"])).any(axis=0) & ~a).any(), q.id
        checked += 1
    assert checked >= 25


# -- the .lss ---------------------------------------------------------------------------------
def test_lss_gives_codes_options_order_and_filters(edition2024):
    export, lss = edition2024
    structure = lssmod.read(lss)
    assert structure.language == "fr"
    assert structure.by_code[NEW_CODES[0]].answers == IA_USE_OPTIONS
    got = dr.draft(export, 2024, previous=2023, lss=lss)
    cb = from_dict(got.codebook)
    use = _by_text(cb, "Vos agents utilisent-ils")
    assert list(use.options) == IA_USE_OPTIONS  # the questionnaire's order, not a rule's
    usages = _by_text(cb, "Pour quels usages")
    assert usages.asked_if.values == tuple(IA_USE_OPTIONS[:2])
    assert [c.code for c in usages.columns] == [f"{NEW_CODES[1]}[SQ00{k}]" for k in (1, 2, 3)]
    raw = {q["id"]: q for q in got.codebook["questions"]}
    assert not any("ordered by a rule" in r for r in raw[use.id].get("review", []))
    # filters read from relevance equations agree with the 2023 ones where they continue
    prev = load(2023)
    for q in prev.questions:
        if q.asked_if is not None and q.id in cb and not q.id.endswith("_autre"):
            assert cb[q.id].asked_if.describe() == q.asked_if.describe(), q.id


def test_relevance_equations():
    assert lssmod.parse_relevance("1") is None
    assert lssmod.parse_relevance(' ((G3Q04.NAOK == "A1")) ') == ("G3Q04", [], ["A1"])
    assert lssmod.parse_relevance('G3Q04 == "A1" or G3Q04.NAOK == "A2"') == (
        "G3Q04", [], ["A1", "A2"])  # fmt: skip
    assert lssmod.parse_relevance('G5Q07_SQ001.NAOK == "Y" || G5Q07_SQ003.NAOK == "Y"') == (
        "G5Q07", ["SQ001", "SQ003"], ["Y"])  # fmt: skip
    with pytest.raises(ValueError, match="several questions"):
        lssmod.parse_relevance('A1.NAOK == "Y" or B2.NAOK == "Y"')
    with pytest.raises(ValueError, match="not understood"):
        lssmod.parse_relevance("count(A1, B2) > 1")


def test_hostile_or_wrong_lss_is_refused(tmp_path):
    bomb = tmp_path / "bomb.lss"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<document>&b;</document>',
        encoding="utf-8",
    )
    with pytest.raises(lssmod.LssError, match="not a readable LimeSurvey structure"):
        lssmod.read(bomb)
    other = tmp_path / "other.lss"
    other.write_text("<html><body/></html>", encoding="utf-8")
    with pytest.raises(lssmod.LssError, match="not a LimeSurvey structure"):
        lssmod.read(other)


# -- the real 2023 export -----------------------------------------------------------------------
def test_real_2023_drafted_against_itself_gives_the_committed_codebook(real_2023):
    """The export lacks the six identifying columns (removed before sharing) while its timing
    columns carry their codes: they are kept from the codebook, the other codes still align."""
    result = dr.draft(real_2023, 2023, previous=2023)
    assert "courriel, prenom, nom, fonction, structure_name, siret" in result.summary.text()
    got, ref = from_dict(result.codebook), load(2023)
    assert [q.id for q in got.questions] == [q.id for q in ref.questions]
    for q in ref.questions:
        n = got[q.id]
        assert (n.type, n.code, n.group, n.chapter, n.options) == (
            q.type, q.code, q.group, q.chapter, q.options), q.id  # fmt: skip
        assert [(c.heading, c.code, c.item) for c in n.columns] == [
            (c.heading, c.code, c.item) for c in q.columns
        ], q.id
        assert (n.asked_if and n.asked_if.describe()) == (q.asked_if and q.asked_if.describe())
    assert result.summary.review == 0


def test_real_2023_drafted_against_2022(real_2023):
    """Types and filters inferred from the real export agree with the hand-made codebook."""
    got = from_dict(dr.draft(real_2023, 2023, previous=2022).codebook)
    ref = load(2023)
    by_heading = {normalise_heading(q.columns[0].heading): q for q in got.questions}

    def first(cb, qid):
        return normalise_heading(cb[qid].columns[0].heading)

    types = filters = links = 0
    n_filters = n_links = 0
    for q in ref.questions:
        n = by_heading.get(normalise_heading(q.columns[0].heading))
        if n is None:
            continue
        types += n.type == q.type
        if q.asked_if is not None:
            n_filters += 1
            a, b = q.asked_if, n.asked_if
            filters += bool(
                b
                and first(ref, a.question) == first(got, b.question)
                and set(a.values) == set(b.values)
            )
        if q.previous is not None:
            n_links += 1
            links += n.previous is not None and n.previous.id == q.previous.id
    assert types >= 96  # of 97: only the column with an empty heading (admin) differs
    assert filters >= n_filters - 1 and n_filters == 27
    assert links >= n_links - 1  # projets_domaines (reworded by hand) is the exception


LSS_L10N = """<?xml version="1.0" encoding="UTF-8"?>
<document><LimeSurveyDocType>Survey</LimeSurveyDocType><DBVersion>600</DBVersion>
<languages><language>fr</language><language>en</language></languages>
<groups><rows><row><gid>1</gid><group_order>1</group_order></row></rows></groups>
<group_l10ns><rows>
 <row><gid>1</gid><group_name>Usages</group_name><language>fr</language></row>
 <row><gid>1</gid><group_name>Uses</group_name><language>en</language></row>
</rows></group_l10ns>
<questions><rows>
 <row><qid>1</qid><parent_qid>0</parent_qid><gid>1</gid><type>L</type><title>Q1</title>
  <question_order>1</question_order><relevance>1</relevance></row>
 <row><qid>2</qid><parent_qid>0</parent_qid><gid>1</gid><type>M</type><title>Q2</title>
  <question_order>2</question_order><relevance>((Q1.NAOK == "A2"))</relevance></row>
</rows></questions>
<subquestions><rows>
 <row><qid>3</qid><parent_qid>2</parent_qid><gid>1</gid><type>T</type><title>SQ002</title>
  <question_order>2</question_order></row>
 <row><qid>4</qid><parent_qid>2</parent_qid><gid>1</gid><type>T</type><title>SQ001</title>
  <question_order>1</question_order></row>
</rows></subquestions>
<question_l10ns><rows>
 <row><qid>1</qid><question>&lt;p&gt;Utilisez-vous l&#8217;IA ?&lt;/p&gt;</question><language>fr</language></row>
 <row><qid>1</qid><question>Do you use AI?</question><language>en</language></row>
 <row><qid>2</qid><question>Pour quoi ?</question><language>fr</language></row>
 <row><qid>3</qid><question>Traduire</question><language>fr</language></row>
 <row><qid>4</qid><question>Rédiger</question><language>fr</language></row>
</rows></question_l10ns>
<answers><rows>
 <row><aid>10</aid><qid>1</qid><code>A2</code><sortorder>1</sortorder><scale_id>0</scale_id></row>
 <row><aid>11</aid><qid>1</qid><code>A1</code><sortorder>2</sortorder><scale_id>0</scale_id></row>
</rows></answers>
<answer_l10ns><rows>
 <row><aid>10</aid><answer>Oui</answer><language>fr</language></row>
 <row><aid>11</aid><answer>Non</answer><language>fr</language></row>
 <row><aid>10</aid><answer>Yes</answer><language>en</language></row>
</rows></answer_l10ns>
</document>
"""


def test_lss_of_limesurvey_4_and_later(tmp_path):
    """Texts in the *_l10ns sections, the survey's first language, orders respected."""
    path = tmp_path / "survey.lss"
    path.write_text(LSS_L10N, encoding="utf-8")
    s = lssmod.read(path)
    q1, q2 = s.questions
    assert (q1.code, q1.kind, q1.text, q1.group) == ("Q1", "L", "Utilisez-vous l’IA ?", "Usages")
    assert q1.answers == ["Oui", "Non"] and q1.answer_codes == {"A2": "Oui", "A1": "Non"}
    assert (q2.sub_codes, q2.sub_labels) == (["SQ001", "SQ002"], ["Rédiger", "Traduire"])
    assert q2.relevance_parsed == ("Q1", [], ["A2"])
    assert s.find("Pour quoi ?", ["Traduire"]) is q2


def test_first_edition_without_previous_guesses_chapters_from_words():
    got = dr.draft(CODEBOOK_DIR.parent / "raw" / "synthetique-2023.csv", 2023, previous=None)
    cb = from_dict(got.codebook)
    by_heading = {c.heading: q for q in cb.questions for c in q.columns}
    ref = [q for q in load(2023).questions if q.type not in ("admin", "personal", "timing")]
    right = sum(by_heading[q.columns[0].heading].chapter == q.chapter for q in ref)
    assert right >= 0.9 * len(ref)  # 68 of 74 when measured
    # codes from the timing columns, personal columns included
    for q in load(2023).questions:
        if q.type != "timing":
            assert by_heading[q.columns[0].heading].code == q.code, q.id
    assert "new: 63 (no previous edition)" in got.summary.text()
    assert all(q.previous is None for q in cb.questions)


def test_cli_codebook_draft_refusal_and_check(tmp_path, edition2024, capsys):
    from analysis.cli import main

    args = ["codebook", "--edition", "2024", "--input", str(edition2024[0]),
            "--previous-edition", "2023", "--out", str(tmp_path)]  # fmt: skip
    assert main(args) == 0
    assert "new: 3:" in capsys.readouterr().out
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["codebook", "--check", "--edition", "2024", "--out", str(tmp_path)]) == 0
    assert "2024.yaml: valid (104 questions; 7 question(s)" in capsys.readouterr().out
    path = tmp_path / "2024.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("chapter: ia", "chapter: IA", 1),
                    encoding="utf-8")  # fmt: skip
    assert main(["codebook", "--check", "--edition", "2024", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}, line " in err and "chapter: 'IA' is not allowed — use one of" in err
    assert main(["codebook", "--edition", "2024", "--out", str(tmp_path)]) == 2
    assert "give --input" in capsys.readouterr().err


def test_export_with_code_headings_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text(
        "id,submitdate,lastpage,G01Q05,G3Q05[SQ001],G3Q05[SQ002],G3Q08,G3Q08_filecount,"
        "interviewtime,G01Q05Time\n1,,13,A1,Y,N,,0,12,\n",
        encoding="utf-8",
    )
    with pytest.raises(dr.DraftError, match=r"codes.csv, line 1: the headings are LimeSurvey"):
        dr.draft(path, 2024, previous=2023)


def test_bad_exports_name_file_line_and_what_to_do(tmp_path):
    header = "ID de la réponse,Question A ?,Question B ?\n"
    empty = tmp_path / "empty.csv"
    empty.write_text(header, encoding="utf-8")
    with pytest.raises(dr.DraftError, match=r"empty.csv: no response in the export"):
        dr.draft(empty, 2024, previous=2023)
    cut = tmp_path / "cut.csv"
    cut.write_text(header + "1,Oui,Non\n2,Oui\n", encoding="utf-8")
    with pytest.raises(dr.DraftError, match=r"cut.csv, line 3: 2 fields where the header has 3"):
        dr.draft(cut, 2024, previous=2023)
    with pytest.raises(dr.DraftError, match=r"missing.csv: no such file"):
        dr.draft(tmp_path / "missing.csv", 2024, previous=2023)


def test_same_text_another_shape_is_not_linked_but_said(tmp_path):
    text = load(2023)["ia_projets"].text
    path = tmp_path / "shape.csv"
    rows = ["1,Oui,Non", "2,Non,Oui", "3,Oui,Oui", "4,N/A,N/A"]
    path.write_text(
        f'ID de la réponse,"{text} [En interne]","{text} [Avec un prestataire]"\n'
        + "\n".join(rows) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    got = dr.draft(path, 2024, previous=2023)
    (q,) = [q for q in got.codebook["questions"] if q["type"] == "multiple"]
    assert "previous" not in q
    assert "changed from single to multiple: not linked" in q["review"][1]
    assert "ia_projets" in got.summary.dropped


def test_export_without_timing_columns_keeps_the_previous_codes():
    """The synthetic 2022 export has no timing columns: continuing questions keep their 2022
    codes, groups, items and column codes; its four filters come back from the N/A pattern."""
    got = dr.draft(CODEBOOK_DIR.parent / "raw" / "synthetique-2022.csv", 2022, previous=2022)
    cb, ref = from_dict(got.codebook), load(2022)
    for q in ref.questions:
        n = cb[q.id]
        assert (n.code, n.group, n.type, n.options) == (q.code, q.group, q.type, q.options), q.id
        assert [(c.code, c.item) for c in n.columns] == [(c.code, c.item) for c in q.columns]
        assert (n.asked_if and n.asked_if.describe()) == (q.asked_if and q.asked_if.describe())
    assert got.summary.review == 0 and got.summary.notes == []
