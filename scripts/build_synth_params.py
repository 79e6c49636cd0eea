"""Estimate the distributions of the synthetic exports (``data/synth/params-<edition>.json``).

Run by a developer who has the real data beside the repository::

    .venv/bin/python scripts/build_synth_params.py \\
        [--export-2023 ../shared/data/enquete-2023/reponses-2023.csv] \\
        [--aggregates-2022 ../shared/data/enquete-2022-agregats/All_statistics_2022.csv] \\
        [--out data/synth]

``params-2023.json`` holds, for every single/multiple/matrix/ranking question of the 2023
codebook, per structure category (commune, epci, metropole, departement, region, autre — the
export's ``Catégorie (enrichissement)``, empty = autre) and for all of them (``ensemble``), the
answer frequencies among the *complete* responses (those that answered the numérique
responsable question) that were *asked* the question (codebook ``asked_if``): ``n`` the base,
``p`` the proportions in the order of ``values`` (single and matrix: the options then ``""``,
no answer; multiple: ``Oui``, ``Non``; ranking: the item at each rank among those who filled
it, with ``ranked`` the distribution of the number of ranks filled). Also: the share of
non-empty answers of each free-text question among those asked (``text``), the median duration
of each questionnaire group (``timing``, seconds), the last page of the responses that stopped
before the end (``last_page``) and the respondents per stratum kept by the published cleaning
rule (``strata``: complete responses, one per structure key, the fewest empty cells first).

``params-2022.json`` holds, for every question of the 2022 codebook, the published ``Total``
distribution (297 respondents) in the same layout (without categories), and the respondents per
published group (``strata``; ``epci_metropole`` is the 2022 ``Un EPCI``).

Only aggregate proportions are written (rounded to 4 decimals, keys sorted): never a row, a
name or a free-text answer.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.build.files import atomic_write  # noqa: E402
from analysis.stats.estimates import SANS_REPONSE  # noqa: E402
from analysis.stats.published import read_aggregates  # noqa: E402
from analysis.survey import codebook as cbmod  # noqa: E402
from analysis.survey.codebook import Codebook, Question, normalise_heading  # noqa: E402
from analysis.survey.strata import STRATA, stratum_of  # noqa: E402
from analysis.survey.synth import (  # noqa: E402
    CATEGORIES,
    ENSEMBLE,
    asked_cells,
    column_key,
    pages,
)

SHARED = ROOT.parent / "shared" / "data"
DEFAULT_EXPORT = SHARED / "enquete-2023" / "reponses-2023.csv"
DEFAULT_AGGREGATES = SHARED / "enquete-2022-agregats" / "All_statistics_2022.csv"
COMPLETION = "numerique_responsable"
DIGITS = 4
EXPORT_CATEGORIES = {
    "Commune": "commune",
    "EPCI": "epci",
    "Metropole": "metropole",
    "Departement": "departement",
    "Region": "region",
}
TABULATED = ("single", "multiple", "matrix", "ranking")


def _round(values) -> list[float]:
    return [round(float(v), DIGITS) for v in values]


# -- 2023 -----------------------------------------------------------------------------------
def read_raw(path: Path, cb: Codebook) -> tuple[pd.DataFrame, dict[tuple[str, str | None], str]]:
    """Cells of the export (NFC, stripped) and the file heading of every codebook column."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    headings = rows[0]
    raw = pd.DataFrame(rows[1:], columns=range(len(headings)), dtype=object)
    raw = raw.map(lambda v: unicodedata.normalize("NFC", v).strip())
    by_heading = {normalise_heading(h): i for i, h in enumerate(headings)}
    where: dict[tuple[str, str | None], int] = {}
    for q in cb.questions:
        for c in q.columns:
            i = by_heading.get(normalise_heading(c.heading))
            if i is not None:
                where[(q.id, None if q.type == "single" else c.item)] = i
    return raw, where


def canonical(q: Question, values: pd.Series, path: Path, heading: str) -> np.ndarray:
    """Answers as the codebook's option labels; ``""`` for empty and ``N/A``."""
    if q.type == "multiple":
        return values.to_numpy(dtype=object)
    options = {normalise_heading(o): o for o in q.options}
    uniques = pd.unique(values)
    table = {}
    for u in uniques:
        if u in ("", "N/A"):
            table[u] = ""
        elif normalise_heading(u) in options:
            table[u] = options[normalise_heading(u)]
        else:
            raise SystemExit(f"{path}: column {heading!r}: answer {u!r} is not an option of "
                             f"{q.id!r}; expected one of {list(q.options)}")  # fmt: skip
    return values.map(table).to_numpy(dtype=object)


def _entry(counts: np.ndarray) -> dict:
    n = int(counts.sum())
    return {"n": n, "p": _round(counts / n if n else counts)}


def params_2023(path: Path, cb: Codebook) -> dict:
    raw, where = read_raw(path, cb)
    headings_of = {(q.id, c.item): c.heading for q in cb.questions for c in q.columns}
    cells: dict[tuple[str, str | None], np.ndarray] = {}
    for q in cb.of_type(*TABULATED):
        for c in q.columns:
            key = (q.id, None if q.type == "single" else c.item)
            cells[key] = canonical(q, raw[where[key]], path, c.heading)
    n_rows = len(raw)
    complete = cells[(COMPLETION, None)] != ""
    cat_col = raw[where[("category_raw", None)]]
    category = cat_col.map(EXPORT_CATEGORIES).fillna("autre").to_numpy(dtype=object)
    groups = {c: complete & (category == c) for c in CATEGORIES}
    groups[ENSEMBLE] = complete

    def get(qid: str, item: str | None) -> np.ndarray:
        return cells[(qid, item)]

    questions: dict[str, dict] = {}
    for q in cb.of_type(*TABULATED):
        asked = asked_cells(cb, q.id, get, n_rows)
        cols: dict[str, dict] = {}
        if q.type in ("single", "matrix"):
            values = [*q.options, ""]
        elif q.type == "multiple":
            values = ["Oui", "Non"]
        else:
            values = list(q.options)
        for c in q.columns:
            x = get(q.id, None if q.type == "single" else c.item)
            block = {}
            for name, rows in groups.items():
                sel = x[rows & asked]
                if q.type == "ranking":
                    sel = sel[sel != ""]
                if q.type == "multiple" and not set(sel) <= {"Oui", "Non"}:
                    raise SystemExit(f"{path}: column {headings_of[(q.id, c.item)]!r}: cells "
                                     f"{sorted(set(sel))} where asked; expected Oui or Non")  # fmt: skip
                counts = np.array([(sel == v).sum() for v in values], dtype=float)
                block[name] = _entry(counts)
            cols[column_key(q, c.item)] = block
        entry = {"type": q.type, "values": values, "columns": cols}
        if q.type == "ranking":
            filled = np.vstack([get(q.id, c.item) != "" for c in q.columns]).sum(axis=0)
            entry["ranked"] = {
                name: _entry(np.bincount(filled[rows & asked], minlength=len(q.columns) + 1))
                for name, rows in groups.items()
            }
        questions[q.id] = entry

    text: dict[str, float] = {}
    for q in cb.of_type("text"):
        x = raw[where[(q.id, None)]].to_numpy(dtype=object)
        rows = complete & asked_cells(cb, q.id, get, n_rows)
        text[q.id] = round(float((x[rows] != "").mean()) if rows.any() else 0.0, DIGITS)

    timing: dict[str, float] = {}
    for q in cb.of_type("timing"):
        if q.code.startswith("groupTime"):
            t = pd.to_numeric(raw[where[(q.id, q.columns[0].item)]], errors="coerce")
            timing[q.id] = round(float(t[complete].median()), 1)

    last = raw[where[("last_page", None)]]
    page, n_pages = pages(cb)
    lp = pd.to_numeric(last, errors="coerce")
    early = lp[(lp >= 0) & (lp < n_pages)].astype(int)
    lp_counts = early.value_counts().reindex(range(n_pages), fill_value=0)

    strata = published_strata(raw, where, complete)
    return {
        "edition": 2023,
        "source": (
            f"{path.name}: {n_rows} responses, {int(complete.sum())} complete (answered "
            f"{COMPLETION!r}); proportions among the complete responses asked each question"
        ),
        "categories": {c: int(groups[c].sum()) for c in CATEGORIES},
        "questions": questions,
        "text": text,
        "timing": timing,
        "last_page": {
            "values": list(range(n_pages)),
            "p": _round(lp_counts.to_numpy() / lp_counts.sum()),
        },
        "strata": strata,
    }


def published_strata(raw: pd.DataFrame, where: dict, complete: np.ndarray) -> dict[str, int]:
    """Respondents per stratum after the published rule: complete, one per structure key
    (the fewest empty cells, the first in file order on ties)."""
    key = raw[where[("structure_key", None)]]
    frame = pd.DataFrame(
        {
            "key": key.replace("", pd.NA),
            "empty": (raw == "").sum(axis=1),
            "category": raw[where[("category_raw", None)]].map(EXPORT_CATEGORIES).fillna("autre"),
            "population": pd.to_numeric(raw[where[("population_raw", None)]], errors="coerce"),
        }
    )[complete]
    frame = frame.reset_index().rename(columns={"index": "position"})
    keyed = frame[frame["key"].notna()].sort_values(["empty", "position"], kind="stable")
    kept = pd.concat([keyed.drop_duplicates("key"), frame[frame["key"].isna()]])
    strata = [
        stratum_of(c, None if np.isnan(p) else p) or "autre"
        for c, p in zip(kept["category"], kept["population"], strict=True)
    ]
    counts = Counter(strata)
    return {s: int(counts.get(s, 0)) for s in STRATA}


# -- 2022 -----------------------------------------------------------------------------------
def params_2022(path: Path, cb: Codebook) -> dict:
    agg = read_aggregates(path, cb)
    total = agg[(agg["stratum"] == "ensemble") & ~agg["derived"]]
    questions: dict[str, dict] = {}
    for q in cb.of_type(*TABULATED):
        rows = total[total["question_id"] == q.id]
        if rows.empty:
            raise SystemExit(f"{path}: no Total rows for 2022 question {q.id!r}")
        base = int(rows["base_n"].iloc[0])
        cols: dict[str, dict] = {}
        if q.type in ("single", "matrix"):
            values = [*q.options, ""]
            for c in q.columns:
                block = rows if q.type == "single" else rows[rows["item"] == c.label]
                counts = {o: int(v) for o, v in zip(block["option"], block["count"], strict=True)}
                unknown = set(counts) - set(q.options) - {SANS_REPONSE}
                if unknown or block.empty:
                    raise SystemExit(f"{path}: {q.id!r} {c.label!r}: answers {sorted(unknown)} "
                                     f"not in the codebook options {list(q.options)}")  # fmt: skip
                opts = np.array([counts.get(o, 0) for o in q.options], dtype=float)
                if q.asked_if is not None:  # among those asked (and answering)
                    cols[column_key(q, c.item)] = {"n": int(opts.sum()),
                                                   "p": _round([*(opts / opts.sum()), 0.0])}  # fmt: skip
                else:
                    p = opts / base
                    cols[column_key(q, c.item)] = {"n": base,
                                                   "p": _round([*p, max(0.0, 1 - p.sum())])}  # fmt: skip
        elif q.type == "multiple":
            values = ["Oui", "Non"]
            answered = int(rows["answered_n"].iloc[0])
            for c in q.columns:
                hit = rows.loc[rows["option"] == c.label, "count"]
                if hit.empty:
                    raise SystemExit(f"{path}: {q.id!r}: no row for option {c.label!r}")
                p = float(hit.iloc[0]) / answered
                cols[column_key(q, c.item)] = {"n": answered, "p": _round([p, 1 - p])}
        else:  # ranking: item at each rank
            values = list(q.options)
            ge = []
            for c in q.columns:
                block = rows[rows["option"] == f"rang {c.item}"]
                counts = {i: int(v) for i, v in zip(block["item"], block["count"], strict=True)}
                items = np.array([counts.get(o, 0) for o in q.options], dtype=float)
                ge.append(items.sum() / base)
                cols[column_key(q, c.item)] = {"n": int(items.sum()),
                                               "p": _round(items / items.sum())}  # fmt: skip
            ge = np.array([1.0, *ge, 0.0])
            ranked = np.clip(ge[:-1] - ge[1:], 0, None)
        entry = {"type": q.type, "values": values, "columns": cols}
        if q.type == "ranking":
            entry["ranked"] = _round(ranked / ranked.sum())
        questions[q.id] = entry
    groups = agg.groupby("stratum")["base_n"].first()
    strata = {s: int(groups.get(s, 0)) for s in STRATA if s not in ("epci", "metropole")}
    strata["epci_metropole"] = int(groups["epci_metropole"])
    return {
        "edition": 2022,
        "source": (
            f"{path.name}: published 2022 aggregates, group 'Total' ({int(groups['ensemble'])} "
            "respondents); single and matrix: share of all respondents (filtered questions: of "
            "those who answered); multiple: share of those who answered; ranking: item at each "
            "rank among those who filled it"
        ),
        "questions": questions,
        "strata": strata,
    }


_NUMBERS = re.compile(r"\[\s*(-?[0-9.e+-]+(?:,\s*-?[0-9.e+-]+)*)\s*\]")


def dump(data: dict) -> str:
    """Indented JSON, keys sorted, lists of numbers on one line."""
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
    return (
        _NUMBERS.sub(lambda m: "[" + ", ".join(m.group(1).replace(",", " ").split()) + "]", text)
        + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--export-2023", type=Path, default=DEFAULT_EXPORT)
    ap.add_argument("--aggregates-2022", type=Path, default=DEFAULT_AGGREGATES)
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "synth")
    args = ap.parse_args(argv)
    for p in (args.export_2023, args.aggregates_2022):
        if not p.is_file():
            raise SystemExit(f"{p}: not found; expected the real data beside the repository")
    p23 = params_2023(args.export_2023, cbmod.load(2023))
    p22 = params_2022(args.aggregates_2022, cbmod.load(2022))
    for edition, data in ((2023, p23), (2022, p22)):
        path = atomic_write(args.out / f"params-{edition}.json", dump(data))
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
