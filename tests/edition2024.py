"""A synthetic "2024" edition made from the embedded synthetic 2023 export, for the tests of
codebook drafting (tests/test_draft_codebook.py): questions dropped, added (with a filter),
reworded, moved, options renamed and added — and the LimeSurvey structure file (.lss) of that
questionnaire, written from the 2023 codebook and the same changes.

Deterministic (seeded); written into a temporary directory, never committed.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from xml.sax.saxutils import escape

from conftest import ROOT

from analysis.survey.codebook import load

SOURCE = ROOT / "data" / "raw" / "synthetique-2023.csv"
#: 2023 questions the 2024 questionnaire no longer asks (none is named by a chapter).
DROPPED = ("transparence_algo_info", "technologies_mutualisees", "cyber_attaque_details")
#: Reworded question texts (2023 → 2024): a light one (sure match) and a heavier one.
REWORDED = {
    "hebergement": (
        "Aujourd’hui, les données de votre structure sont majoritairement hébergées :",
        "Aujourd’hui, les données de votre structure sont principalement hébergées :",
    ),
    "environnement_outil": (
        "Selon-vous, la maîtrise de la donnée constitue-t-elle un outil pertinent",
        "D’après vous, la maîtrise des données est-elle un outil utile",
    ),
}
#: Options renamed (2023 label → 2024 label) and added (label, given instead of an old one).
RENAMED = {
    "cyber_risque_niveau": ("Le sujet n’est pas identifié", "Le sujet n’est pas encore identifié")
}
ADDED = {
    "hebergement": ("Chez des éditeurs de logiciels (SaaS)", "Dans un cloud souverain européen")
}
#: Moved: this question now comes after that one (same group).
MOVED = ("logiciels_choix", "interoperabilite")
#: New questions, after the last question of the IA group (2023 code G09Q07).
IA_USE = "Vos agents utilisent-ils des outils d’intelligence artificielle générative ?"
IA_USE_OPTIONS = ["Oui, régulièrement", "Oui, ponctuellement", "Non", "Je ne sais pas"]
IA_USAGES = "Pour quels usages ces outils sont-ils employés ?"
IA_USAGES_ITEMS = ["Rédaction de courriers", "Synthèse de documents", "Traduction"]
IA_CHARTER = "Votre structure a-t-elle adopté une charte d’usage de l’intelligence artificielle ?"
NEW_CODES = ("G09Q08", "G09Q09", "G09Q10")
AFTER = "ia_envisage_domaines"  # the 2023 question the new ones follow (with its [Autre] text)


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def write_export(dest: Path, source: Path = SOURCE, seed: int = 2024) -> Path:
    """Write the 2024 export to ``dest`` (a CSV path) and return it."""
    cb = load(2023)
    headings, rows = _read(source)
    col = {h: k for k, h in enumerate(headings)}
    rng = random.Random(seed)
    # columns of each 2023 question, in export order
    blocks: list[tuple[str, list[tuple[str, list[str]]]]] = []
    for q in cb.questions:
        if q.type == "timing":
            continue
        cols = [
            (c.heading, [r[col[c.heading]] for r in rows]) for c in q.columns if c.heading in col
        ]
        if cols:
            blocks.append((q.id, cols))
    by_id = dict(blocks)
    # answers changed in place
    for qid, (old, new) in RENAMED.items():
        for _h, values in by_id[qid]:
            values[:] = [new if v == old else v for v in values]
    for qid, (old, new) in ADDED.items():
        for _h, values in by_id[qid]:
            values[:] = [new if v == old and rng.random() < 0.5 else v for v in values]
    # dropped, reworded, moved
    blocks = [(qid, cols) for qid, cols in blocks if qid not in DROPPED]
    for qid, (old, new) in REWORDED.items():
        by_id[qid][:] = [(h.replace(old, new), v) for h, v in by_id[qid]]
    moved = next(b for b in blocks if b[0] == MOVED[0])
    blocks.remove(moved)
    blocks.insert([b[0] for b in blocks].index(MOVED[1]) + 1, moved)
    # new questions, answered by the rows that reached the IA page
    reached = [v != "" for v in by_id["ia_envisage"][0][1]]
    use = [rng.choice(IA_USE_OPTIONS[:3] * 2 + IA_USE_OPTIONS[3:]) if r else "" for r in reached]
    shown = [u in IA_USE_OPTIONS[:2] for u in use]
    usages = [
        (f"{IA_USAGES} [{item}]", [rng.choice(["Oui", "Non"]) if s else "N/A" for s in shown])
        for item in IA_USAGES_ITEMS
    ]
    other = [("Réponse libre synthétique." if s and rng.random() < 0.1 else "") for s in shown]
    usages.append((f"{IA_USAGES} [Autre]", other))
    charter = [rng.choice(["Oui", "Non", "Non", "Je ne sais pas"]) if r else "" for r in reached]
    at = [b[0] for b in blocks].index(AFTER + "_autre") + 1
    blocks[at:at] = [
        ("ia_usage", [(IA_USE, use)]),
        ("ia_usages", usages),
        ("ia_charte", [(IA_CHARTER, charter)]),
    ]
    # timing columns: 2023 codes minus the dropped ones, the moved one and the new ones in place
    code = {q.id: q.code for q in cb.questions}
    dropped_codes = {code[q] for q in DROPPED}
    timing: list[tuple[str, list[str]]] = []
    for q in cb.of_type("timing"):
        for c in q.columns:
            if c.item in dropped_codes or c.item == code[MOVED[0]]:
                continue
            values = [r[col[c.heading]] for r in rows] if c.heading in col else [""] * len(rows)
            timing.append((c.heading, values))
            if c.item == code[MOVED[1]]:
                timing.append((f"Durée pour la question: {code[MOVED[0]]}", [""] * len(rows)))
            if c.item == code[AFTER]:
                timing += [(f"Durée pour la question: {k}", [""] * len(rows)) for k in NEW_CODES]
    survey = [c for _qid, cols in blocks for c in cols]
    enrich = [c for c in survey if "(enrichissement)" in c[0] or "pseudonymisée" in c[0]]
    columns = [c for c in survey if c not in enrich] + timing + enrich
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([h for h, _v in columns])
        for k in range(len(rows)):
            w.writerow([v[k] for _h, v in columns])
    return dest


# -- the .lss of the 2024 questionnaire ------------------------------------------------------
_LSS_TYPE = {"single": "L", "multiple": "M", "matrix": "F", "ranking": "R", "numeric": "N",
             "text": "T", "upload": "|", "personal": "S"}  # fmt: skip


def _row(fields: dict[str, object]) -> str:
    cells = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return f"<row>{cells}</row>"


def write_lss(dest: Path) -> Path:
    """Write the structure file of the 2024 questionnaire (LimeSurvey 3 layout)."""
    cb = load(2023)
    qs = [q for q in cb.questions if q.type in _LSS_TYPE and q.id not in DROPPED
          and not q.columns[0].code.endswith("[other]")]  # fmt: skip
    spec = []  # (code, type, text, group, options, subs, relevance, other)
    others = {q.columns[0].code.removesuffix("[other]") for q in cb.questions
              if q.columns[0].code.endswith("[other]")}  # fmt: skip
    answer_code = {}
    sub_code = {}
    for q in qs:
        text = q.text
        for old, new in [REWORDED.get(q.id, ("", ""))]:
            text = text.replace(old, new) if old else text
        options = list(q.options)
        if q.id in RENAMED:
            old, new = RENAMED[q.id]
            options = [new if o == old else o for o in options]
        if q.id in ADDED:
            options.insert(options.index("Je ne sais pas"), ADDED[q.id][1])
        subs = [c.label for c in q.columns] if q.type in ("multiple", "matrix") else []
        answer_code[q.id] = {o: f"A{k + 1}" for k, o in enumerate(options)}
        sub_code[q.id] = {c.item: f"SQ{k + 1:03d}" for k, c in enumerate(q.columns)}
        spec.append([q.id, q.code, _LSS_TYPE[q.type], text, q.group, options, subs, q.asked_if,
                     q.code in others])  # fmt: skip
    ids = [s[0] for s in spec]
    spec.insert(ids.index(MOVED[1]) + 1, spec.pop(ids.index(MOVED[0])))
    ids = [s[0] for s in spec]
    group_ia = next(s[4] for s in spec if s[0] == AFTER)
    new = [
        ["ia_usage", NEW_CODES[0], "L", IA_USE, group_ia, IA_USE_OPTIONS, [], None, False],
        ["ia_usages", NEW_CODES[1], "M", IA_USAGES, group_ia, [], IA_USAGES_ITEMS, "USE", True],
        ["ia_charte", NEW_CODES[2], "L", IA_CHARTER, group_ia, ["Oui", "Non", "Je ne sais pas"],
         [], None, False],
    ]  # fmt: skip
    answer_code["ia_usage"] = {o: f"A{k + 1}" for k, o in enumerate(IA_USE_OPTIONS)}
    at = ids.index(AFTER) + 1
    spec[at:at] = new
    code_of = {s[0]: s[1] for s in spec}
    groups: dict[str, int] = {}
    questions, subquestions, answers = [], [], []
    qid = 1000
    for order, (_ident, code, kind, text, group, options, subs, cond, other) in enumerate(spec):
        gid = groups.setdefault(group, len(groups) + 1)
        qid += 1
        relevance = "1"
        if cond == "USE":
            relevance = f'(({NEW_CODES[0]}.NAOK == "A1" or {NEW_CODES[0]}.NAOK == "A2"))'
        elif cond is not None and cond.question in code_of:
            parent = code_of[cond.question]
            if cond.items:
                relevance = " or ".join(
                    f'{parent}_{sub_code[cond.question][i]}.NAOK == "Y"' for i in cond.items
                )
            elif cond.item is not None:
                relevance = " or ".join(
                    f"{parent}_{sub_code[cond.question][cond.item]}.NAOK == "
                    f'"{answer_code[cond.question][v]}"'
                    for v in cond.values
                )
            else:
                relevance = " or ".join(
                    f'{parent}.NAOK == "{answer_code[cond.question][v]}"' for v in cond.values
                )
        questions.append(_row({"qid": qid, "parent_qid": 0, "gid": gid, "type": kind,
                               "title": code, "question": f"<p>{escape(text)}</p>",
                               "other": "Y" if other else "N", "question_order": order,
                               "language": "fr", "scale_id": 0, "relevance": relevance}))  # fmt: skip
        for k, label in enumerate(subs):
            subquestions.append(_row({"qid": qid * 100 + k, "parent_qid": qid, "gid": gid,
                                      "type": "T", "title": f"SQ{k + 1:03d}", "question": label,
                                      "question_order": k, "language": "fr", "scale_id": 0}))  # fmt: skip
        for k, label in enumerate(options):
            answers.append(_row({"qid": qid, "code": f"A{k + 1}", "answer": label,
                                 "sortorder": k, "language": "fr", "scale_id": 0}))  # fmt: skip
    group_rows = [_row({"gid": g, "group_name": name, "group_order": g, "language": "fr"})
                  for name, g in groups.items()]  # fmt: skip
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<document>'
        "<LimeSurveyDocType>Survey</LimeSurveyDocType><DBVersion>366</DBVersion>"
        "<languages><language>fr</language></languages>"
        f"<answers><rows>{''.join(answers)}</rows></answers>"
        f"<groups><rows>{''.join(group_rows)}</rows></groups>"
        f"<questions><rows>{''.join(questions)}</rows></questions>"
        f"<subquestions><rows>{''.join(subquestions)}</rows></subquestions>"
        "</document>\n"
    )
    dest.write_text(xml, encoding="utf-8")
    return dest
