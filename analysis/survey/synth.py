"""Synthetic LimeSurvey exports of the barometer: realistic, deterministic, never real.

``generate(edition, n, seed)`` returns a DataFrame of strings laid out like a field export of
the edition (every column of the codebook, in codebook order = export order, with the exact
full-text headings); :func:`analysis.build.writers.write_synthetic_export` writes it as the real export is written (UTF-8, ``,``
separator, ``"`` quoting where needed, ``\\n`` line ends). Same ``(edition, n, seed)`` → same
bytes: one ``numpy.random.default_rng(seed)`` drives every draw, in a fixed order, and no
timestamp is written.

**Structures.** Respondents are sampled from the shipped reference of collectivités
(:mod:`analysis.survey.reference`) with the stratum mix of the edition's analysed sample, scaled to
``n`` (2023: the 191 responses kept by the published cleaning — autre 75, EPCI 33,
départements 25, métropoles 18, régions 10, communes 10 000–100 000 hab. 10, < 3 500 hab. 9,
3 500–10 000 hab. 6, ≥ 100 000 hab. 5; 2022: the 297 respondents of the published aggregates,
``Un EPCI`` split between EPCI and métropoles in the 2023 proportion). A stratum never gets more
structures than the reference holds (22 métropoles, 18 régions…): the excess goes to the other
strata in proportion. ``autre`` structures (syndicats, OPSN, agencies) get neutral invented
names ("Syndicat mixte numérique n° 12"), no SIRET, no category. Structures whose name is
shared by another entry of the reference are never drawn, so that a name identifies one
structure. Each structure fills the identifying columns (name; SIRET = SIREN + ``00012`` when
the reference has a SIREN) and the enrichment columns (``Catégorie (enrichissement)``:
``Commune``, ``EPCI``, ``Metropole``, ``Departement``, ``Region`` or empty; population;
``Structure (clé pseudonymisée)`` = ``S`` + 8 hex digits of the SHA-256 of the name).

**Answers.** Drawn per structure category (commune, epci, metropole, departement, region,
autre) from the answer frequencies shipped in ``data/synth/params-<edition>.json`` (built by
``scripts/build_synth_params.py``: aggregate proportions only), column by column and
independently given the category; a category without any respondent asked falls back to all
categories together (``ensemble``). The questionnaire's filters (codebook ``asked_if``) are
respected as LimeSurvey exports them: a question not asked leaves single-choice, ranking and
free-text cells empty and writes ``N/A`` in multiple-choice and matrix cells; a page not
reached leaves every cell empty except multiple-choice cells (``N/A``), as in the real 2023
file. Multiple-choice cells are ``Oui`` (ticked) or ``Non`` (shown, not ticked). Rankings hold
distinct items, ranks filled from the first. Free text is a neutral placeholder ("Réponse
libre synthétique."), for the share of respondents who wrote something in the real data; one
placeholder in ten carries a fake contact (``prénom.nom@exemple.invalid``, ``06 00 00 xx xx``)
so that ingestion's masking is exercised, one in ten spans two lines and one in ten is in
decomposed Unicode (NFD), as in the real file. Uploads are ``[]`` or empty with a filecount of
``0``; per-question durations are empty, group durations plausible (log-normal around the real
medians), ``Temps total :`` their sum.

**Completion and duplicates.** As in a real export, about 30 % of responses were opened but
never started (empty ``Dernière page``, nothing answered, ``Temps total :`` 0; 40 % of the
real 2023 export) and about 20 % stop early (``Dernière page`` below the last page, drawn from
the real distribution of abandoned responses; later pages empty; no ``Date de soumission``);
the others reach the last page and carry the placeholder submission date of the real export
(``1980-01-01 00:00:00``). A complete 2023 response weighs about 3.4 kB, as in the real file:
the never-started share keeps the default 400-response file under 1 MB and leaves about 190
responses after cleaning, as the real edition had. About 5 % of structures answer twice (same
name, same key; both responses started), so that the cleaning rule is exercised.
``ID de la réponse`` runs from 5.

**2022.** The 2022 codebook (``data/codebook/2022.yaml``) gives the columns: its 36 questions
plus the admin columns needed to ingest and clean the file (response id, submission, last
page, enrichment category, population and structure key). For a 2022 question that a 2023
question links to (codebook ``previous``), each answer is drawn from an equal mix — 50 % the
2023 per-category distribution of the linked question (its options mapped to the 2022 labels
by the crosswalk, options without a 2022 counterpart removed and the rest renormalised) and
50 % the published 2022 ``Total`` distribution (``data/synth/params-2022.json``) — which
shifts the 2023 answers half-way towards the 2022 results while keeping differences between
categories. The overall 2022 shares also follow the 2022 mix of respondents (many small
communes), so they need not lie between the 2023 and the published 2022 figures (IA projects:
2023 27 %, published 2022 15 %, synthetic 2022 about 14 %). When less than half of the 2023 distribution has a 2022 counterpart (the 2022
ranking of 3 priorities among 3 items, none of them but one asked in 2023), and for 2022
questions that no 2023 question links to, answers follow the 2022 ``Total`` alone.

Personal data: e-mails use the reserved domain ``exemple.invalid`` (RFC 2606), names come from
a short fixed list, phones are ``06 00 00 xx xx``. Nothing here comes from a real respondent.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.survey import codebook as cbmod
from analysis.survey.codebook import Codebook, Question
from analysis.survey.strata import STRATA, commune_stratum

__all__ = [
    "EDITIONS",
    "PARAMS_DIR",
    "SynthError",
    "asked_cells",
    "generate",
    "load_params",
    "pages",
]

ROOT = Path(__file__).resolve().parents[2]
PARAMS_DIR = ROOT / "data" / "synth"
EDITIONS = (2022, 2023)

#: Structure categories the answer distributions are estimated for, in this (fixed) order.
CATEGORIES = ("commune", "epci", "metropole", "departement", "region", "autre")
#: Parameter key of all categories together (fallback of a category without respondents).
ENSEMBLE = "ensemble"
#: ``Catégorie (enrichissement)`` labels of the real export.
CATEGORY_LABELS = {
    "commune": "Commune",
    "epci": "EPCI",
    "metropole": "Metropole",
    "departement": "Departement",
    "region": "Region",
    "autre": "",
}
#: Responses opened but never started (empty ``Dernière page``; 40 % of the real 2023 export).
NEVER_STARTED_RATE = 0.30
#: Responses that stop before the last page.
PARTIAL_RATE = 0.20
DUPLICATE_RATE = 0.05
FIRST_ID = 5
SUBMITTED = "1980-01-01 00:00:00"
PLACEHOLDER = "Réponse libre synthétique."
CONTACT_SHARE = 0.10
MULTILINE_SHARE = 0.10
NFD_SHARE = 0.10
EMPTY_LIST_SHARE = 0.05
TIMING_SIGMA = 0.8
SIRET_SUFFIX = "00012"
EMAIL_DOMAIN = "exemple.invalid"
#: Share of the 2023 per-category distribution in the 2022 mix (the rest: 2022 Total).
MIX_2023_SHARE = 0.5

FIRST_NAMES = (
    "Camille",
    "Dominique",
    "Claude",
    "Alex",
    "Sacha",
    "Maxime",
    "Charlie",
    "Andréa",
    "Morgan",
    "Lou",
)
LAST_NAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Durand",
    "Lefebvre",
    "Moreau",
    "Garnier",
    "Fournier",
    "Girard",
    "Mercier",
)
FUNCTIONS = (
    "Chargé(e) de mission données",
    "Directeur(rice) des systèmes d’information",
    "Responsable SIG",
    "Délégué(e) à la protection des données",
    "Directeur(rice) général(e) des services",
    "Administrateur(rice) des données",
)
AUTRE_KINDS = (
    "Syndicat mixte numérique",
    "Opérateur public de services numériques",
    "Agence départementale d’ingénierie",
    "Syndicat d’énergie",
    "Établissement public territorial",
    "Groupement d’intérêt public données",
)


class SynthError(ValueError):
    """Synthetic data cannot be produced as asked (bad arguments or parameter files)."""


# -- questionnaire structure ----------------------------------------------------------------
def pages(codebook: Codebook) -> tuple[dict[str, int], int]:
    """Page (1-based) of every question and the last page of the questionnaire.

    2023: the group of the question's LimeSurvey code, read from the timing columns
    (``Durée pour la question: <code>`` under the n-th ``Durée pour le groupe``). Without
    timing columns (2022), the rank of the question's ``group`` in codebook order. Admin
    metadata (response id, submission…) and enrichment columns are on page 0.
    """
    groups = [q for q in codebook.of_type("timing") if q.code.startswith("groupTime")]
    out: dict[str, int] = {}
    if groups:
        page_of_code: dict[str, int] = {}
        for g, q in enumerate(groups, start=1):
            for col in q.columns[1:]:
                page_of_code[col.heading.split(":", 1)[1].strip()] = g
        for q in codebook.questions:
            if q.type == "timing":
                continue
            page = page_of_code.get(q.code)
            if page is None and q.type != "admin":
                raise SynthError(
                    f"codebook {codebook.path or codebook.edition}: question {q.id!r} has code "
                    f"{q.code!r}, which no 'Durée pour la question' column names; expected "
                    "every question's code among the timing columns"
                )
            out[q.id] = page or 0
        return out, len(groups)
    order: dict[str, int] = {}
    for q in codebook.questions:
        if q.type == "admin":
            out[q.id] = 0
            continue
        out[q.id] = order.setdefault(q.group, len(order) + 1)
    return out, max(order.values(), default=1)


def asked_cells(
    codebook: Codebook, qid: str, cells: Callable[[str, str | None], np.ndarray], n: int
) -> np.ndarray:
    """Boolean array: which rows were asked ``qid``, from raw export cells.

    ``cells(question_id, item)`` returns the raw cells (strings, answers as the codebook's
    option labels) of a column: ``item`` None for a single choice. Multiple-choice options
    count as ticked when ``Oui``. The parent's own filter applies too (recursively).
    """
    question = codebook[qid]
    cond = question.asked_if
    if cond is None:
        return np.ones(n, dtype=bool)
    parent = codebook[cond.question]
    if cond.items:
        mask = np.zeros(n, dtype=bool)
        for item in cond.items:
            mask |= cells(parent.id, item) == "Oui"
    elif cond.item is not None and cond.values:
        mask = np.isin(cells(parent.id, cond.item), list(cond.values))
    elif cond.item is not None:
        mask = cells(parent.id, cond.item) == "Oui"
    else:
        mask = np.isin(cells(parent.id, None), list(cond.values))
    return mask & asked_cells(codebook, parent.id, cells, n)


def column_key(question: Question, item: str | None) -> str:
    """Key of a column in the parameter files: the item (multiple, matrix), the rank
    (ranking) or ``_`` (single)."""
    return "_" if item is None or question.type == "single" else str(item)


# -- parameters -----------------------------------------------------------------------------
def params_path(edition: int) -> Path:
    return PARAMS_DIR / f"params-{edition}.json"


@lru_cache(maxsize=4)
def _read_params(path: Path, mtime: float) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SynthError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "expected the file written by scripts/build_synth_params.py"
        ) from None
    if not isinstance(data, dict) or "questions" not in data:
        raise SynthError(f"{path}: no 'questions' key; expected the file written by "
                         "scripts/build_synth_params.py")  # fmt: skip
    return data


def load_params(edition: int, directory: Path | None = None) -> dict[str, Any]:
    """The shipped answer distributions of an edition (``data/synth/params-<edition>.json``)."""
    path = (directory or PARAMS_DIR) / f"params-{edition}.json"
    if not path.is_file():
        raise SynthError(
            f"{path}: not found; expected the parameters written by "
            "scripts/build_synth_params.py (shipped with the project)"
        )
    return _read_params(path, path.stat().st_mtime)


@dataclass(frozen=True)
class _Spec:
    """Sampling tables of one question: per column, a (category × value) probability table."""

    type: str
    values: tuple[str, ...]
    tables: dict[str, np.ndarray]
    ranked: np.ndarray | None = None  # ranking: (category × number of ranks filled)


def _values(question: Question) -> tuple[str, ...]:
    if question.type == "multiple":
        return ("Oui", "Non")
    if question.type == "ranking":
        return tuple(question.options)
    return (*question.options, "")


def _probabilities(raw: Any, size: int, where: str) -> np.ndarray:
    if not isinstance(raw, list) or len(raw) != size:
        raise SynthError(f"{where}: {raw!r}; expected a list of {size} proportions")
    p = np.asarray(raw, dtype=float)
    if (p < 0).any() or not np.isfinite(p).all():
        raise SynthError(f"{where}: {raw!r}; expected proportions between 0 and 1")
    return p


def _normalise(p: np.ndarray, where: str) -> np.ndarray:
    total = p.sum()
    if total <= 0:
        raise SynthError(f"{where}: all proportions are 0; expected at least one positive")
    return p / total


def _by_category(block: Mapping[str, Any], size: int, where: str) -> np.ndarray:
    """(category × value) table from ``{category: {"n": base, "p": [...]}}`` with fallback."""
    if ENSEMBLE not in block:
        raise SynthError(f"{where}: no {ENSEMBLE!r} entry; expected one per category and one "
                         f"for all categories ({ENSEMBLE!r})")  # fmt: skip
    rows = []
    for cat in CATEGORIES:
        entry = block.get(cat)
        if not entry or not entry.get("n"):
            entry = block[ENSEMBLE]
        rows.append(_normalise(_probabilities(entry.get("p"), size, f"{where}[{cat}]"), where))
    return np.vstack(rows)


def _specs_2023(cb: Codebook, params: Mapping[str, Any], where: str) -> dict[str, _Spec]:
    specs: dict[str, _Spec] = {}
    questions = params["questions"]
    for q in cb.of_type("single", "multiple", "matrix", "ranking"):
        qw = f"{where}: question {q.id!r}"
        if q.id not in questions:
            raise SynthError(
                f"{qw} missing; expected parameters for every single/multiple/matrix/ranking "
                f"question of the {cb.edition} codebook (re-run scripts/build_synth_params.py)"
            )
        qp = questions[q.id]
        values = _values(q)
        if tuple(qp.get("values", ())) != values or qp.get("type") != q.type:
            raise SynthError(
                f"{qw}: type {qp.get('type')!r}, values {qp.get('values')!r}; expected type "
                f"{q.type!r} and values {list(values)!r} as in the codebook (re-run "
                "scripts/build_synth_params.py)"
            )
        tables = {}
        for col in q.columns:
            key = column_key(q, col.item)
            if key not in qp.get("columns", {}):
                raise SynthError(f"{qw}: column {key!r} missing; expected one entry per column")
            tables[key] = _by_category(qp["columns"][key], len(values), f"{qw} column {key!r}")
        ranked = None
        if q.type == "ranking":
            ranked = _by_category(qp.get("ranked", {}), len(q.columns) + 1, f"{qw} 'ranked'")
        specs[q.id] = _Spec(q.type, values, tables, ranked)
    return specs


def _specs_2022(
    cb22: Codebook, cb23: Codebook, p22: Mapping[str, Any], p23: Mapping[str, Any], where: str
) -> dict[str, _Spec]:
    """2022 sampling tables: 50 % 2023 per category (crosswalked) + 50 % 2022 Total."""
    specs23 = _specs_2023(cb23, p23, str(params_path(2023)))
    linked = {q.previous.id: q for q in cb23.questions if q.previous and q.previous.edition == 2022}
    specs: dict[str, _Spec] = {}
    questions = p22["questions"]
    for q in cb22.of_type("single", "multiple", "matrix", "ranking"):
        qw = f"{where}: question {q.id!r}"
        if q.id not in questions:
            raise SynthError(f"{qw} missing; expected parameters for every 2022 question "
                             "(re-run scripts/build_synth_params.py)")  # fmt: skip
        qp = questions[q.id]
        values = _values(q)
        if tuple(qp.get("values", ())) != values or qp.get("type") != q.type:
            raise SynthError(
                f"{qw}: type {qp.get('type')!r}, values {qp.get('values')!r}; expected type "
                f"{q.type!r} and values {list(values)!r} as in the 2022 codebook"
            )
        q23 = linked.get(q.id)
        tables = {}
        for col in q.columns:
            key = column_key(q, col.item)
            entry = qp.get("columns", {}).get(key)
            if not entry:
                raise SynthError(f"{qw}: column {key!r} missing; expected one entry per column")
            total = _normalise(_probabilities(entry.get("p"), len(values), f"{qw} {key!r}"), qw)
            table = np.tile(total, (len(CATEGORIES), 1))
            if q23 is not None and q23.type == q.type and key in specs23[q23.id].tables:
                mapped = _crosswalk(q23, q, specs23[q23.id], key)
                if mapped is not None:
                    table = MIX_2023_SHARE * mapped + (1 - MIX_2023_SHARE) * table
            tables[key] = table
        ranked = None
        if q.type == "ranking":
            r = _probabilities(qp.get("ranked"), len(q.columns) + 1, f"{qw} 'ranked'")
            ranked = np.tile(_normalise(r, qw), (len(CATEGORIES), 1))
        specs[q.id] = _Spec(q.type, values, tables, ranked)
    return specs


def _crosswalk(q23: Question, q22: Question, spec23: _Spec, key: str) -> np.ndarray | None:
    """2023 table of a column mapped onto the 2022 values; None when under half maps."""
    values22 = _values(q22)
    index22 = {v: i for i, v in enumerate(values22)}
    options = q23.previous.options if q23.previous else {}
    src = spec23.tables[key]
    out = np.zeros((len(CATEGORIES), len(values22)))
    for j, v in enumerate(spec23.values):
        target = v if q23.type == "multiple" else options.get(v, v)
        if target in index22:
            out[:, index22[target]] += src[:, j]
    kept = out.sum(axis=1)
    if (kept < 0.5).any():
        return None
    return out / kept[:, None]


# -- structures -----------------------------------------------------------------------------
def _largest_remainder(weights: dict[str, float], total: int) -> dict[str, int]:
    keys = [k for k in STRATA if weights.get(k, 0) > 0]
    w = np.array([weights[k] for k in keys], dtype=float)
    exact = w / w.sum() * total
    base = np.floor(exact).astype(int)
    order = np.argsort(-(exact - base), kind="stable")
    base[order[: total - int(base.sum())]] += 1
    return dict(zip(keys, base.tolist(), strict=True))


def quotas(mix: Mapping[str, float], total: int, caps: Mapping[str, int]) -> dict[str, int]:
    """Structures per stratum: ``total`` split as ``mix`` (largest remainders), no stratum
    above its cap (structures available); the excess goes to the others in proportion."""
    free = {k: float(v) for k, v in mix.items() if v > 0}
    out: dict[str, int] = {}
    remaining = total
    while free:
        alloc = _largest_remainder(free, remaining)
        over = [k for k in alloc if k in caps and alloc[k] > caps[k]]
        if not over:
            out.update(alloc)
            break
        for k in over:
            out[k] = caps[k]
            remaining -= caps[k]
            del free[k]
    if sum(out.values()) < total:
        raise SynthError(
            f"cannot place {total} structures with the mix {dict(mix)}: the reference holds "
            f"only {sum(out.values())}; expected fewer responses"
        )
    return {k: out.get(k, 0) for k in STRATA}


@lru_cache(maxsize=2)
def _pools() -> dict[str, pd.DataFrame]:
    """Reference structures per stratum (homonyms excluded), sorted by uid."""
    from analysis.survey.reference import load_reference

    ent = load_reference().entities
    ent = ent[~ent["name"].duplicated(keep=False)]
    stratum = ent["category"].astype(object).copy()
    communes = ent["category"] == "commune"
    pop = ent.loc[communes, "population"].astype("float64")
    stratum[communes] = [commune_stratum(p) for p in pop.to_numpy()]
    ent = ent.assign(stratum=stratum.to_numpy()).dropna(subset=["stratum"])
    ent = ent.sort_values("uid", kind="stable")
    return {s: ent[ent["stratum"] == s].reset_index(drop=True) for s in STRATA if s != "autre"}


def _structures(mix: Mapping[str, float], total: int, rng: np.random.Generator) -> pd.DataFrame:
    """``total`` distinct structures: name, siret, category, population (string), stratum."""
    pools = _pools()
    caps = {s: len(p) for s, p in pools.items()}
    parts = []
    for stratum, k in quotas(mix, total, caps).items():
        if k == 0:
            continue
        if stratum == "autre":
            j = np.arange(k)
            names = [
                f"{AUTRE_KINDS[i % len(AUTRE_KINDS)]} n° {i // len(AUTRE_KINDS) + 1}"
                for i in j.tolist()
            ]
            parts.append(
                pd.DataFrame(
                    {
                        "name": names,
                        "siret": "",
                        "category": "autre",
                        "population": "",
                        "stratum": stratum,
                    }
                )
            )
            continue
        pool = pools[stratum]
        pick = pool.iloc[np.sort(rng.choice(len(pool), size=k, replace=False))]
        siren = pick["siren"].astype("string")
        parts.append(
            pd.DataFrame(
                {
                    "name": pick["name"].astype(str).to_numpy(),
                    "siret": (siren + SIRET_SUFFIX).fillna("").to_numpy(dtype=object),
                    "category": pick["category"].astype(str).to_numpy(),
                    "population": pick["population"].astype("string").fillna("").to_numpy(),
                    "stratum": stratum,
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["key"] = [
        "S" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8] for name in out["name"]
    ]
    return out


# -- drawing --------------------------------------------------------------------------------
def _draw(rng: np.random.Generator, table: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """Index of the value drawn for each row, from the row's category line of ``table``."""
    cum = np.cumsum(table, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(cat))
    return (u[:, None] >= cum[cat]).sum(axis=1)


def _ranking(
    rng: np.random.Generator, spec: _Spec, keys: list[str], cat: np.ndarray
) -> list[np.ndarray]:
    """Distinct items per row, ranks filled from the first (the rest empty)."""
    n, k_items = len(cat), len(spec.values)
    n_ranked = _draw(rng, spec.ranked, cat)
    used = np.zeros((n, k_items), dtype=bool)
    values = np.asarray(spec.values, dtype=object)
    out = []
    for r, key in enumerate(keys):
        p = spec.tables[key][cat] * ~used
        total = p.sum(axis=1)
        flat = total <= 0
        p[flat] = (~used[flat]).astype(float)
        p = p / p.sum(axis=1, keepdims=True)
        cum = np.cumsum(p, axis=1)
        cum[:, -1] = 1.0
        idx = np.minimum((rng.random(n)[:, None] >= cum).sum(axis=1), k_items - 1)
        filled = n_ranked > r
        used[np.arange(n)[filled], idx[filled]] = True
        out.append(np.where(filled, values[idx], ""))
    return out


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _texts(rng: np.random.Generator, shown: np.ndarray, share: float) -> np.ndarray:
    """Free text: the placeholder for ``share`` of the rows shown; among them, one in ten
    with a fake contact, one in ten on two lines, one in ten in decomposed Unicode (NFD), as
    real exports have all three."""
    n = len(shown)
    filled = shown & (rng.random(n) < share)
    variant = rng.random((3, n)) < np.array([[CONTACT_SHARE], [MULTILINE_SHARE], [NFD_SHARE]])
    first = rng.integers(len(FIRST_NAMES), size=n)
    last = rng.integers(len(LAST_NAMES), size=n)
    digits = rng.integers(10_000, size=n)
    out = np.full(n, "", dtype=object)
    out[filled] = PLACEHOLDER
    for i in np.flatnonzero(filled & variant.any(axis=0)).tolist():
        text = PLACEHOLDER
        if variant[0, i]:
            email = f"{_ascii(FIRST_NAMES[first[i]])}.{_ascii(LAST_NAMES[last[i]])}@{EMAIL_DOMAIN}"
            text += f" Contact : {email}, 06 00 00 {digits[i] // 100:02d} {digits[i] % 100:02d}."
        if variant[1, i]:
            text += "\nSuite de la réponse sur une seconde ligne."
        if variant[2, i]:
            text = unicodedata.normalize("NFD", text)
        out[i] = text
    return out


# -- generation -----------------------------------------------------------------------------
def _check_args(edition: Any, n: Any, seed: Any) -> int:
    try:
        edition = int(edition)
    except (TypeError, ValueError):
        raise SynthError(f"edition {edition!r}; expected one of {EDITIONS}") from None
    if edition not in EDITIONS:
        raise SynthError(f"edition {edition}; expected one of {EDITIONS}")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise SynthError(f"n = {n!r}; expected a whole number of responses ≥ 1")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SynthError(f"seed = {seed!r}; expected a whole number ≥ 0")
    return edition


def _mix(edition: int) -> dict[str, float]:
    strata = load_params(2023).get("strata")
    if not isinstance(strata, dict) or not strata:
        raise SynthError(f"{params_path(2023)}: no 'strata' mix; expected respondents per stratum")
    if edition == 2023:
        return {k: float(strata.get(k, 0)) for k in STRATA}
    s22 = load_params(2022).get("strata")
    if not isinstance(s22, dict) or "epci_metropole" not in s22:
        raise SynthError(
            f"{params_path(2022)}: 'strata' has no 'epci_metropole'; expected the 2022 "
            "respondents per published group"
        )
    metro = strata.get("metropole", 0) / max(strata.get("metropole", 0) + strata.get("epci", 0), 1)
    mix = {k: float(s22.get(k, 0)) for k in STRATA}
    mix["metropole"] = s22["epci_metropole"] * metro
    mix["epci"] = s22["epci_metropole"] * (1 - metro)
    return mix


def generate(edition: int, n: int, seed: int) -> pd.DataFrame:
    """A synthetic export of ``edition`` with ``n`` responses: strings, export headings.

    Deterministic: the same arguments give the same frame. See the module docstring.
    """
    edition = _check_args(edition, n, seed)
    n = int(n)
    rng = np.random.default_rng(int(seed))
    cb = cbmod.load(edition)
    p23 = load_params(2023)
    if edition == 2023:
        specs = _specs_2023(cb, p23, str(params_path(2023)))
    else:
        specs = _specs_2022(cb, cbmod.load(2023), load_params(2022), p23,
                            str(params_path(2022)))  # fmt: skip
    page, last = pages(cb)

    # structures, duplicates and completion
    n_struct = max(1, round(n / (1 + DUPLICATE_RATE)))
    structures = _structures(_mix(edition), n_struct, rng)
    twice = rng.choice(n_struct, size=n - n_struct, replace=False)
    row_struct = rng.permutation(np.concatenate([np.arange(n_struct), twice]))
    rows = structures.iloc[row_struct].reset_index(drop=True)
    duplicated = np.isin(row_struct, twice)
    cat = rows["category"].map({c: i for i, c in enumerate(CATEGORIES)}).to_numpy()

    lp = p23.get("last_page", {})
    lp_values = np.asarray(lp.get("values", [0]), dtype=int)
    lp_p = _normalise(_probabilities(lp.get("p"), len(lp_values), "last_page"), "last_page")
    status = rng.random(n)
    never = (status < NEVER_STARTED_RATE) & ~duplicated
    partial = (status < NEVER_STARTED_RATE + PARTIAL_RATE) & ~never
    early = lp_values[_draw(rng, lp_p[None, :], np.zeros(n, dtype=int))]
    if last != len(lp_values):  # 2022: the 2023 distribution scaled to its number of pages
        early = np.floor(early * last / len(lp_values)).astype(int)
    last_page = np.where(partial, early, last)
    id_page = page.get("structure_name", 1)
    last_page = np.where(duplicated, np.maximum(last_page, id_page), last_page)
    last_page = np.where(never, -1, last_page)  # -1: not even the first page
    identified = last_page >= id_page

    text_share = p23.get("text", {})
    timing = p23.get("timing", {})
    cells: dict[tuple[str, str | None], np.ndarray] = {}
    columns: dict[str, np.ndarray] = {}

    def get(qid: str, item: str | None) -> np.ndarray:
        if (qid, item) not in cells:
            raise SynthError(f"question {qid!r} item {item!r} is used by a filter before it is "
                             "generated; expected filters on earlier questions")  # fmt: skip
        return cells[(qid, item)]

    empty = np.full(n, "", dtype=object)
    people = _people(rng, n)
    group_times: list[np.ndarray] = []
    for q in cb.questions:
        reached = last_page >= page.get(q.id, 0)
        if q.type in ("single", "multiple", "matrix", "ranking", "text", "upload"):
            shown = reached & asked_cells(cb, q.id, get, n)
        else:
            shown = reached
        if q.type in ("single", "matrix"):
            spec = specs[q.id]
            values = np.asarray(spec.values, dtype=object)
            for col in q.columns:
                drawn = values[_draw(rng, spec.tables[column_key(q, col.item)], cat)]
                out = np.where(shown, drawn, "N/A" if q.type == "matrix" else "")
                out = np.where(reached, out, "")
                cells[(q.id, None if q.type == "single" else col.item)] = out
                columns[col.heading] = out
        elif q.type == "multiple":
            spec = specs[q.id]
            for col in q.columns:
                drawn = np.asarray(spec.values, dtype=object)[
                    _draw(rng, spec.tables[column_key(q, col.item)], cat)
                ]
                out = np.where(shown, drawn, "N/A")
                cells[(q.id, col.item)] = out
                columns[col.heading] = out
        elif q.type == "ranking":
            spec = specs[q.id]
            keys = [column_key(q, c.item) for c in q.columns]
            for col, drawn in zip(q.columns, _ranking(rng, spec, keys, cat), strict=True):
                out = np.where(shown, drawn, "")
                cells[(q.id, col.item)] = out
                columns[col.heading] = out
        elif q.type == "text":
            out = _texts(rng, shown, float(text_share.get(q.id, 0.0)))
            cells[(q.id, None)] = out
            columns[q.columns[0].heading] = out
        elif q.type == "upload":
            lists = np.where(rng.random(n) < EMPTY_LIST_SHARE, "[]", "")
            for col in q.columns:
                value = "0" if col.item == "filecount" else lists
                columns[col.heading] = np.where(shown, value, "").astype(object)
        elif q.type == "numeric":
            raise SynthError(
                f"codebook {cb.path or cb.edition}: question {q.id!r} is numeric; the synthetic "
                "exports have no distribution for numeric answers yet (expected single, "
                "multiple, matrix, ranking, text, upload, timing, personal or admin)"
            )
        elif q.type == "personal":
            if q.id not in people:
                raise SynthError(f"personal question {q.id!r}: no fake value for it; expected "
                                 f"one of {sorted(people)}")  # fmt: skip
            columns[q.columns[0].heading] = np.where(shown, people[q.id], "")
        elif q.type == "timing":
            if q.code.startswith("groupTime"):
                g = len(group_times) + 1
                median = float(timing.get(q.id, 60.0))
                t = np.round(median * np.exp(TIMING_SIGMA * rng.standard_normal(n)), 2)
                t = np.where(last_page + 1 >= g, t, np.nan)
                group_times.append(t)
                columns[q.columns[0].heading] = _seconds(t)
                for col in q.columns[1:]:
                    columns[col.heading] = empty
            else:  # total: filled once the groups are known (below)
                for col in q.columns:
                    columns[col.heading] = empty
        else:
            columns[q.columns[0].heading] = _admin(q, rng, n, last_page, last, identified, rows)
    if group_times:
        total = np.nansum(np.vstack(group_times), axis=0)
        (qt,) = [q for q in cb.of_type("timing") if not q.code.startswith("groupTime")]
        columns[qt.columns[0].heading] = np.where(never, "0", _seconds(np.round(total, 2)))
    headings = [c.heading for q in cb.questions for c in q.columns]
    return pd.DataFrame({h: columns[h] for h in headings}, columns=headings)


def _seconds(t: np.ndarray) -> np.ndarray:
    out = np.full(len(t), "", dtype=object)
    ok = ~np.isnan(t)
    out[ok] = [f"{x:.2f}" for x in t[ok].tolist()]
    return out


def _people(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Fake respondents: first name, name, job title and the matching e-mail."""
    first = np.asarray(FIRST_NAMES, dtype=object)[rng.integers(len(FIRST_NAMES), size=n)]
    last = np.asarray(LAST_NAMES, dtype=object)[rng.integers(len(LAST_NAMES), size=n)]
    job = np.asarray(FUNCTIONS, dtype=object)[rng.integers(len(FUNCTIONS), size=n)]
    emails = {
        (a, b): f"{_ascii(a)}.{_ascii(b)}@{EMAIL_DOMAIN}" for a in FIRST_NAMES for b in LAST_NAMES
    }
    email = np.asarray([emails[(a, b)] for a, b in zip(first, last, strict=True)], dtype=object)
    return {"courriel": email, "prenom": first, "nom": last, "fonction": job}


def _admin(
    q: Question,
    rng: np.random.Generator,
    n: int,
    last_page: np.ndarray,
    last: int,
    identified: np.ndarray,
    rows: pd.DataFrame,
) -> np.ndarray:
    """Admin columns: LimeSurvey metadata, identifying fields and enrichment."""
    if q.id == "response_id":
        return np.arange(FIRST_ID, FIRST_ID + n).astype(str).astype(object)
    if q.id == "submitted":
        return np.where(last_page >= last, SUBMITTED, "").astype(object)
    if q.id == "last_page":
        return np.where(last_page >= 0, last_page.astype(str), "").astype(object)
    if q.id == "start_language":
        return np.full(n, "fr", dtype=object)
    if q.id == "seed":
        return rng.integers(100_000_000, 2**31 - 1, size=n).astype(str).astype(object)
    source = {
        "structure_name": rows["name"],
        "siret": rows["siret"],
        "category_raw": rows["category"].map(CATEGORY_LABELS),
        "population_raw": rows["population"],
        "structure_key": rows["key"],
    }.get(q.id)
    if source is None:  # e.g. the untitled, always empty column
        return np.full(n, "", dtype=object)
    return np.where(identified, source.to_numpy(dtype=object), "").astype(object)


def to_csv(frame: pd.DataFrame) -> str:
    """The export's text: UTF-8 without BOM, ``,``, minimal ``"`` quoting, ``\\n`` line ends."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue()
