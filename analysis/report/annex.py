"""The annex of questions no chapter shows yet: a new edition's new questions are published
(with their leading answer) before a person writes them into a chapter.

Which questions a chapter shows is read from the chapter notebooks' code cells (the question
ids they name in calls such as ``r.figure("ia_projets")``), so the annex follows the
notebooks as they are, without executing them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from analysis.survey.codebook import TABULATED, Codebook, Question

__all__ = ["NOTEBOOKS", "shown_question_ids", "unshown_questions", "unshown_rows", "show_unshown"]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
_LITERAL = re.compile(r"""["']([a-z0-9_]+)["']""")
#: Notebooks that list questions rather than present them (the annex itself).
NOT_CHAPTERS = ("99-notice-technique",)


def shown_question_ids(notebooks: Path | None = None) -> set[str]:
    """Every snake_case string literal of the chapter notebooks' code cells (question ids
    among them: matched against the codebook by :func:`unshown_questions`)."""
    out: set[str] = set()
    for path in sorted(Path(notebooks or NOTEBOOKS).glob("*.ipynb")):
        if path.stem in NOT_CHAPTERS:
            continue
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code":
                src = cell.get("source", "")
                out.update(_LITERAL.findall(src if isinstance(src, str) else "".join(src)))
    return out


def unshown_questions(codebook: Codebook, shown_ids: set[str] | list[str]) -> list[Question]:
    """The edition's tabulated questions that no chapter shows, in questionnaire order."""
    shown = set(shown_ids)
    return [q for q in codebook.of_type(*TABULATED) if q.id not in shown]


def unshown_rows(chapter, shown_ids: set[str] | list[str] | None = None) -> list[dict]:
    """One row per unshown question: text, type, base and most frequent answer (ensemble)."""
    shown = shown_question_ids() if shown_ids is None else shown_ids
    from analysis.stats.estimates import SANS_REPONSE

    est = chapter.estimates
    rows = []
    for q in unshown_questions(chapter.codebook, shown):
        sub = est[(est["question_id"] == q.id) & (est["stratum"] == "ensemble")]
        sub = sub[~sub["suppressed"].astype(bool) & (sub["option"] != SANS_REPONSE)]
        if q.type == "ranking":  # the item most often ranked first
            sub = sub[sub["option"] == "rang 1"]
        row = {"question": q, "base": None, "answer": None, "pct": None}
        if not sub.empty:
            top = sub.sort_values(["pct", "option"], ascending=[False, True]).iloc[0]
            label = str(top["option"])
            item = str(top.get("item") or "")
            if q.type == "ranking":
                label = f"{item} (classé premier)"
            elif item and q.type in ("multiple", "matrix"):
                labels = {c.item: c.label for c in q.columns}
                label = f"{labels.get(item) or item}" + (
                    f" : {top['option']}" if q.type == "matrix" else ""
                )
            row.update(base=int(top["base_n"]), answer=label, pct=float(top["pct"]))
        rows.append(row)
    return rows


_TYPES_FR = {
    "single": "choix\u00a0unique",
    "multiple": "choix\u00a0multiples",
    "matrix": "matrice",
    "ranking": "classement",
    "numeric": "numérique",
}


def show_unshown(chapter, shown_ids: set[str] | list[str] | None = None) -> None:
    """Display the annex table (or a sentence when every question is shown)."""
    from IPython.display import display

    from analysis.report import french as fmt
    from analysis.report.tables import show_table

    rows = unshown_rows(chapter, shown_ids)
    if not rows:
        text = "Toutes les questions tabulées de l'édition sont présentées dans les chapitres."
        display({"text/markdown": text, "text/plain": text}, raw=True)
        return
    lines = [
        "| Question | Type | Base (n) | Réponse la plus fréquente | Part |",
        "|:------------------------------------|:------------|------------:|:------------------------|------------:|",
    ]
    for r in rows:
        q = r["question"]
        text = " ".join(q.text.split())
        text = text if len(text) <= 120 else text[:119] + "…"
        lines.append(
            "| "
            + " | ".join(
                [
                    fmt.typo(text).replace("|", "/"),
                    _TYPES_FR.get(q.type, q.type),
                    fmt.num(r["base"]) if r["base"] is not None else "–",
                    (r["answer"] or "–").replace("|", "/"),
                    fmt.pct(r["pct"]) if r["pct"] is not None else "–",
                ]
            )
            + " |"
        )
    show_table(
        "\n".join(lines),
        f"Questions de l'édition {chapter.edition} qui ne sont présentées dans aucun chapitre",
        "tbl-questions-non-presentees",
    )


def cache_dependency(source: Path) -> str:
    """What a notebook calling :func:`show_unshown` depends on beyond its own cells: the
    question ids the other chapters show (the build engine adds it to the cache key)."""
    if "show_unshown" not in source.read_text(encoding="utf-8"):
        return ""
    return json.dumps(sorted(shown_question_ids(source.parent)))
