"""The 2023 and 2022 codebooks: coverage of the real export, filters, crosswalk both ways."""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd
import pytest
import yaml

from analysis.survey import codebook as cbmod
from analysis.survey.codebook import CodebookError, asked_mask, from_dict, load, normalise_heading

IDENTIFYING = {
    "Quelle est votre adresse électronique ? ": "personal",
    "Quel est votre prénom ?": "personal",
    "Quel est votre nom ?": "personal",
    "Quelle est votre fonction ? ": "personal",
    "Quel est le nom de votre structure ? ": "admin",
    "Quel est votre numéro SIRET ?": "admin",
}


@pytest.fixture(scope="module")
def cb23():
    return load(2023)


@pytest.fixture(scope="module")
def cb22():
    return load(2022)


@pytest.fixture
def raw23(real_2023) -> pd.DataFrame:
    """The real export as strings, exactly as written (no NA conversion, empty heading kept)."""
    import csv

    with real_2023.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return pd.DataFrame(rows[1:], columns=rows[0])


def _headings(path) -> list[str]:
    import csv

    with path.open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


# -- structure ------------------------------------------------------------------------------
def test_codebooks_load_and_validate(cb23, cb22):
    assert cb23.edition == 2023 and cb22.edition == 2022
    # the 36 survey questions of the aggregates, plus the admin columns of a 2022 export
    assert len([q for q in cb22.questions if q.type != "admin"]) == 36
    assert {q.id for q in cb22.questions if q.type == "admin"} == {
        "response_id",
        "submitted",
        "last_page",
        "category_raw",
        "population_raw",
        "structure_key",
    }
    assert sum(len(q.columns) for q in cb23.questions) == 299 + 6
    assert {q.type for q in cb23.questions} == set(cbmod.TYPES) - {"numeric"}


def test_identifying_columns_are_flagged(cb23):
    by_heading = {c.heading: q for q in cb23.questions for c in q.columns}
    for heading, qtype in IDENTIFYING.items():
        assert by_heading[heading].type == qtype
    assert {q.id for q in cb23.questions if q.identifying} == {"structure_name", "siret"}
    assert {q.id for q in cb23.of_type("personal")} == {"courriel", "prenom", "nom", "fonction"}


def test_every_real_column_belongs_to_exactly_one_question(cb23, real_2023):
    headings = _headings(real_2023)
    assert len(headings) == 299
    known = cb23.headings
    assert [h for h in headings if normalise_heading(h) not in known] == []
    # nothing extra in the codebook but the six identifying columns of a field export
    extra = set(known) - {normalise_heading(h) for h in headings}
    assert extra == {normalise_heading(h) for h in IDENTIFYING}
    # and in export order
    order = [c.heading for q in cb23.questions for c in q.columns if c.heading not in IDENTIFYING]
    assert order == headings


def test_empty_heading_column_is_accounted_for(cb23, raw23):
    q, _ = cb23.headings[""]
    assert q.type == "admin" and q.code == "G08Q01"
    assert (raw23.iloc[:, 103] == "").all()


def test_question_codes_follow_the_timing_columns(cb23, real_2023):
    """Group by group, question codes are the 'Durée pour la question' codes, in order."""
    headings = _headings(real_2023)
    groups: list[tuple[str, list[str]]] = []
    for h in headings:
        if h.startswith("Durée pour le groupe : "):
            groups.append((h.removeprefix("Durée pour le groupe : "), []))
        elif h.startswith("Durée pour la question: "):
            groups[-1][1].append(h.removeprefix("Durée pour la question: "))
    assert len(groups) == 13
    for name, codes in groups:
        qs = [q for q in cb23.questions if q.group == name and q.type != "timing"]
        ours = [q.code for q in qs if not q.columns[0].code.endswith("[other]")]
        assert ours == codes, name
    assert cb23["rgpd_conformite"].code == "G03Q01"
    assert cb23["priorites"].code == "G4Q03"
    assert cb23["charte_ethique"].code == "G05Q69"


def test_sub_question_codes(cb23):
    q = cb23["clauses_domaines"]
    assert [c.code for c in q.columns] == [f"G3Q05[SQ00{k}]" for k in range(1, 5)]
    assert cb23["clauses_domaines_autre"].columns[0].code == "G3Q05[other]"
    assert [c.code for c in cb23["priorites"].columns] == [f"G4Q03[{k}]" for k in range(1, 6)]
    assert cb23["priorites"].column_ids[0] == "priorites__rang1"
    assert cb23["projets_domaines"].column_ids[-1] == "projets_domaines__autre"


def test_chapters(cb23):
    chapter = {q.id: q.chapter for q in cb23.questions}
    assert chapter["rgpd_conformite"] == "gouvernance"
    assert chapter["priorites"] == "motivations"
    assert chapter["environnement_outil"] == "environnement"
    assert chapter["acculturation"] == "motivations"
    assert chapter["obstacles"] == "motivations"
    assert chapter["directions_implication"] == "organisation"
    assert chapter["opendata_obligations"] == "gouvernance"
    assert chapter["ia_projets"] == "ia"
    assert chapter["hebergement"] == "organisation"
    assert chapter["cyber_attaque_subie"] == "cybersecurite"
    assert chapter["numerique_responsable"] == "environnement"
    assert chapter["commentaires"] == "contexte"


def test_other_texts_are_separate_text_questions(cb23):
    for q in cb23.of_type("multiple"):
        assert all(c.label != "Autre" for c in q.columns), q.id
    autres = [q for q in cb23.of_type("text") if q.columns[0].heading.endswith("[Autre]")]
    assert len(autres) == 12
    assert all(q.id.endswith("_autre") for q in autres)


# -- options --------------------------------------------------------------------------------
def test_options_cover_every_real_answer(cb23, raw23):
    for heading in raw23.columns:
        q, _ = cb23.headings[normalise_heading(heading)]
        seen = {normalise_heading(v) for v in raw23[heading].unique()} - {"", "N/A"}
        if q.type == "multiple":
            assert seen <= {"Oui", "Non"}, (q.id, seen)
        elif q.type in ("single", "matrix", "ranking"):
            assert seen <= {normalise_heading(o) for o in q.options}, (q.id, seen)


def test_options_are_all_observed_and_ordered(cb23, raw23):
    for q in cb23.of_type("single", "matrix", "ranking"):
        cols = [c.heading for c in q.columns]
        seen = Counter(normalise_heading(v) for c in cols for v in raw23[c])
        assert all(seen[normalise_heading(o)] for o in q.options), q.id
        if "Je ne sais pas" in q.options:
            assert q.options[-1] == "Je ne sais pas", q.id
        if "Oui" in q.options:
            assert q.options[0] == "Oui", q.id


# -- filters --------------------------------------------------------------------------------
def _raw_asked(cb, qid: str, raw: pd.DataFrame) -> pd.Series:
    """asked_if evaluated on the raw strings (independent of analysis.survey.ingest)."""
    q = cb[qid]
    cond = q.asked_if
    if cond is None:
        return pd.Series(True, index=raw.index)
    parent = cb[cond.question]
    col = {c.item: c.heading for c in parent.columns}
    if cond.items:
        mask = (raw[[col[i] for i in cond.items]] == "Oui").any(axis=1)
    elif cond.item is not None and cond.values:
        mask = (
            raw[col[cond.item]]
            .map(normalise_heading)
            .isin({normalise_heading(v) for v in cond.values})
        )
    elif cond.item is not None:
        mask = raw[col[cond.item]] == "Oui"
    else:
        mask = (
            raw[parent.columns[0].heading]
            .map(normalise_heading)
            .isin({normalise_heading(v) for v in cond.values})
        )
    return mask & _raw_asked(cb, parent.id, raw)


def test_filters_hold_on_the_real_export(cb23, raw23):
    """Shown exactly when asked (multiple, upload); answered only when asked (text, single)."""
    filtered = [q for q in cb23.questions if q.asked_if is not None]
    assert len(filtered) >= 20
    for q in filtered:
        asked = _raw_asked(cb23, q.id, raw23)
        assert asked.any() and not asked.all(), q.id
        if q.type == "multiple":
            shown = (raw23[[c.heading for c in q.columns]] != "N/A").any(axis=1)
            assert (shown == asked).all(), q.id
        elif q.type == "upload":
            shown = raw23[q.columns[1].heading] != ""  # filecount: 0 when shown, no file
            assert (shown == asked).all(), q.id
        else:
            answered = (raw23[[c.heading for c in q.columns]] != "").any(axis=1)
            assert not (answered & ~asked).any(), q.id


def test_named_filters(cb23):
    expect = {
        "clauses_domaines": ("clauses_juridiques", ("Oui",)),
        "gouvernance_regles_types": ("gouvernance_regles", ("Oui",)),
        "charte_ethique_document": ("charte_ethique", ("Oui",)),
        "ia_techniques": ("ia_projets", ("Oui",)),
        "cyber_attaque_details": ("cyber_attaque_subie", ("Oui",)),
    }
    for qid, (parent, values) in expect.items():
        cond = cb23[qid].asked_if
        assert (cond.question, cond.values) == (parent, values), qid
    # numérique responsable themes were shown to every respondent reaching the page
    assert cb23["nr_thematiques"].asked_if is None
    assert cb23["nr_inclusion"].asked_if.items == ("inclusion", "accessibilite")


def test_asked_mask_on_typed_columns_matches_raw(cb23, raw23, real_2023):
    from analysis.survey.ingest import read_export

    typed = read_export(real_2023, cb23).responses
    for q in cb23.questions:
        if q.asked_if is None or q.type not in cbmod.KEPT:
            continue
        got = asked_mask(cb23, q.id, typed)
        assert got.dtype == bool
        assert (got.to_numpy() == _raw_asked(cb23, q.id, raw23).to_numpy()).all(), q.id


def test_asked_mask_known_answers():
    cb = from_dict(
        {
            "edition": 1,
            "questions": [
                {"id": "a", "chapter": "ia", "type": "single", "options": ["Oui", "Non"],
                 "columns": [{"heading": "A", "code": "a"}]},
                {"id": "m", "chapter": "ia", "type": "multiple",
                 "columns": [{"heading": "M [x]", "code": "m1", "item": "x"},
                             {"heading": "M [y]", "code": "m2", "item": "y"}],
                 "asked_if": {"question": "a", "in": ["Oui"]}},
                {"id": "t", "chapter": "ia", "type": "text", "columns": [{"heading": "T", "code": "t"}],
                 "asked_if": {"question": "m", "items": ["x", "y"]}},
            ],
        }
    )  # fmt: skip
    frame = pd.DataFrame(
        {
            "a": pd.Categorical(["Oui", "Oui", "Non", None], categories=["Oui", "Non"]),
            "m__x": pd.array([True, False, pd.NA, pd.NA], dtype="boolean"),
            "m__y": pd.array([False, False, pd.NA, pd.NA], dtype="boolean"),
        }
    )
    assert asked_mask(cb, "a", frame).tolist() == [True] * 4
    assert asked_mask(cb, "m", frame).tolist() == [True, True, False, False]
    assert asked_mask(cb, "t", frame).tolist() == [True, False, False, False]
    assert cb["t"].asked_if.describe() == "m [x ou y] cochée"


# -- schema extensions ----------------------------------------------------------------------
def test_from_dict_ignores_extra_top_level_keys_and_checks_items():
    base = {
        "edition": 9,
        "not_in_2023": [{"id": "x", "reason": "gone"}],
        "questions": [
            {"id": "m", "chapter": "ia", "type": "multiple",
             "columns": [{"heading": "M [x]", "code": "m1", "item": "x"}]},
            {"id": "s", "chapter": "ia", "type": "admin", "identifying": True,
             "columns": [{"heading": "S", "code": "s"}]},
            {"id": "t", "chapter": "ia", "type": "text", "columns": [{"heading": "T", "code": "t"}],
             "asked_if": {"question": "m", "items": ["x", "zz"]}},
        ],
    }  # fmt: skip
    with pytest.raises(CodebookError, match="'zz'"):
        from_dict(base)
    base["questions"][2]["asked_if"]["items"] = ["x"]
    cb = from_dict(base)
    assert cb["s"].identifying and not cb["m"].identifying


# -- crosswalk ------------------------------------------------------------------------------
def _yaml(edition: int) -> dict:
    return yaml.safe_load((cbmod.CODEBOOK_DIR / f"{edition}.yaml").read_text(encoding="utf-8"))


def test_crosswalk_2023_to_2022(cb23, cb22):
    linked = [q for q in cb23.questions if q.previous is not None]
    assert len(linked) >= 25
    for q in linked:
        assert q.previous.edition == 2022
        old = cb22[q.previous.id]  # exists
        assert old.type == q.type, q.id
        for new_label, old_label in q.previous.options.items():
            assert new_label in q.options, (q.id, new_label)
            assert old_label in old.options, (q.id, old_label)
        if q.type in ("multiple", "matrix"):  # items line up by id
            shared = {c.item for c in q.columns} & {c.item for c in old.columns}
            assert shared, q.id
            labels_new = {c.item: normalise_heading(c.label).split()[:2] for c in q.columns}
            for c in old.columns:  # same item id: same label, up to the wording's tail
                if c.item in labels_new:
                    assert labels_new[c.item] == normalise_heading(c.label).split()[:2], c.item
        # an option with the same label in both editions is never mapped
        same = {normalise_heading(o) for o in q.options} & {
            normalise_heading(o) for o in old.options
        }
        assert not same & {normalise_heading(k) for k in q.previous.options}, q.id


def test_crosswalk_2022_to_2023(cb23, cb22):
    raw = _yaml(2022)
    not_in = {e["id"]: e["reason"] for e in raw["not_in_2023"]}
    assert all(len(r) > 10 for r in not_in.values())
    linked = {q.previous.id for q in cb23.questions if q.previous is not None}
    for q in cb22.questions:
        if q.type == "admin":
            continue
        assert (q.id in linked) != (q.id in not_in), q.id
    assert set(not_in) <= {q.id for q in cb22.questions}


def test_crosswalk_matches_question_text(cb23, cb22):
    """Linked questions share their wording, up to collectivité → structure/organisation."""

    def words(text: str) -> set[str]:
        text = normalise_heading(text).lower()
        text = re.sub(r"collectivit[ée]|structure|organisation", "X", text)
        return set(re.findall(r"\w+", text))

    for q in cb23.questions:
        if q.previous is None or q.id == "projets_domaines":  # reworded, see its note
            continue
        a, b = words(q.text), words(cb22[q.previous.id].text)
        assert len(a & b) / len(a | b) > 0.5, (q.id, a ^ b)


# -- 2022 against the aggregates ------------------------------------------------------------
@pytest.fixture
def agg22(aggregates_2022) -> pd.DataFrame:
    a = pd.read_csv(aggregates_2022)
    a["ident"] = a["Question"].str.strip().str.split(". ", n=1).str[0]
    a["qcode"] = a["ident"].str.extract(r"^([A-Za-z0-9]+?)(?:\[\w+\]|(?:AO|SQ)\d+\])?$")[0]
    a["answer"] = a["Réponses"].str.strip()
    return a


def test_2022_codebook_covers_the_aggregates(cb22, agg22):
    survey = [q for q in cb22.questions if q.type != "admin"]
    assert {q.code for q in survey} == set(agg22["qcode"])
    for q in survey:
        block = agg22[agg22["qcode"] == q.code]
        answers = set(block["answer"]) - {"Sans réponse"}
        if q.type == "multiple":
            labels = {normalise_heading(a.rsplit("[", 1)[1]) for a in answers}
            assert labels == {normalise_heading(c.label) for c in q.columns}, q.id
        else:
            assert {normalise_heading(a) for a in answers} <= {
                normalise_heading(o) for o in q.options
            }, q.id
            assert len(set(block["ident"])) == len(q.columns), q.id


def test_2022_filters_match_the_number_of_answers(cb22, agg22):
    """Filtered 2022 questions: 'Nombre de réponses' = structures whose parent answer fits."""
    filtered = [q for q in cb22.questions if q.asked_if is not None]
    assert {q.code for q in filtered} == {"G2Q00005", "G4Q00003", "G5Q00002", "G6Q00005"}
    for q in filtered:
        parent = cb22[q.asked_if.question]
        for structure, block in agg22[agg22["qcode"] == q.code].groupby("Structure"):
            n_answers = block["Nombre de réponses"].iloc[0]
            p = agg22[(agg22["qcode"] == parent.code) & (agg22["Structure"] == structure)]
            fits = p.loc[p["answer"].isin(q.asked_if.values), "Occurrences"].sum()
            if q.code == "G5Q00002":  # consistent, not exact: some did not answer
                assert n_answers <= fits, structure
            else:
                assert n_answers == fits, (q.code, structure)


def test_every_crosswalk_says_whether_it_is_comparable_and_why(cb23):
    linked = [q for q in cb23.questions if q.previous is not None]
    assert linked
    for q in linked:
        assert q.previous.comparable in ("yes", "wording", "no"), q.id
        assert len(q.previous.comparable_why) > 10, q.id
    status = {q.id: q.previous.comparable for q in linked}
    # 2022 asked about uses identified, 2023 about projects engaged; 3 vs 5 ranked items
    assert status["projets_domaines"] == "no"
    assert status["priorites"] == "no"
    # the DSI's involvement: 2023's new "Fonction leader" level is compared with it added
    dirs = cb23["directions_implication"].previous
    assert dirs.comparable == "wording" and dirs.options["Fonction leader"] == "Implication forte"


def test_comparable_must_be_yes_wording_or_no():
    raw = {
        "edition": 2023,
        "questions": [
            {
                "id": "q",
                "chapter": "ia",
                "type": "single",
                "text": "Q ?",
                "options": ["Oui", "Non"],
                "columns": [{"heading": "Q ?"}],
                "previous": {"edition": 2022, "id": "q", "comparable": "maybe"},
            }
        ],
    }
    with pytest.raises(cbmod.CodebookError, match="comparable"):
        cbmod.from_dict(raw)
