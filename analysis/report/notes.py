"""Positioning notes: one confidential PDF per respondent who asked for the results.

A note puts the structure's own answers to the key questions of each chapter beside its peers
(same stratum) and all respondents, gives a short profile across the six chapters and, when the
structure answered the previous edition too, what changed since. Everything comes from the
processed dataset, computed once for all respondents:

1. :func:`load_spec` reads ``data/templates/note-<edition>.yaml`` (indicators, peer groups,
   wording) and checks it against the edition's codebook;
2. :func:`indicators` evaluates every indicator for every respondent at once (n × k booleans:
   met, asked, answered);
3. :class:`Peers` holds the counts and bases of every indicator in every group (one matrix
   product, n × g group membership), and picks, for each stratum, indicator and "was I asked",
   the narrowest group with at least ``min_others`` OTHER respondents in the base;
4. :func:`contexts` assembles one plain JSON-able dict per note — the structure's own answers
   (labels from the codebook, never a free-text cell) and group aggregates only;
5. :func:`render_batch` compiles the typst template (``data/templates/note.typ``) with each
   context passed as JSON through ``sys.inputs``: researchers edit the template and the YAML,
   never Python. It runs in any ``concurrent.futures`` executor (see
   :mod:`analysis.build.notes`).

Confidentiality rule: a note shows the structure's own answers and aggregates over groups
whose base counts at least ``min_others`` (5) respondents other than the structure; otherwise
the next broader group of the YAML's chain is used and the note names it. Identity columns are
dropped at ingestion; free-text answers are never read here.

Figures are shares of respondents (``count`` over ``base``, unweighted): the base is the
respondents of the group who were asked the question (codebook ``asked_if``; all of them for an
unconditional question), non-response included — as in the report's tables
(:mod:`analysis.stats.estimates`), whose counts these equal (tested).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analysis.report import french
from analysis.survey.codebook import Codebook, asked_mask
from analysis.survey.strata import STRATA

TEMPLATES = Path(__file__).resolve().parents[2] / "data" / "templates"
TEMPLATE = "note.typ"
ALL = "ensemble"
#: Page counts a note must have.
PAGES = (2, 4)


class NotesError(ValueError):
    """The notes' specification, template or inputs are not usable as given."""


# -- specification ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Indicator:
    id: str
    chapter: str
    question: str
    options: tuple[str, ...]
    label: str
    oui: str
    non: str
    #: Matrix rows / multiple-choice options looked at (None: single choice).
    items: tuple[str, ...] | None = None
    profile: bool = True


@dataclass(frozen=True)
class Group:
    id: str
    label: str
    des: str
    broader: str | None


@dataclass(frozen=True)
class NoteSpec:
    edition: int
    request_question: str
    request_answer: str
    min_others: int
    chapters: dict[str, str]
    groups: dict[str, Group]
    indicators: tuple[Indicator, ...]
    path: Path

    def chain(self, stratum: str) -> list[str]:
        """The stratum's group, then each broader one, up to the whole sample."""
        out, g = [], stratum
        while g is not None:
            out.append(g)
            g = self.groups[g].broader
        return out

    def members(self) -> dict[str, tuple[str, ...]]:
        """Group id → member strata (the strata whose chain passes through it)."""
        return {
            g: tuple(s for s in STRATA if g in self.chain(s))
            for g in self.groups
            if any(g in self.chain(s) for s in STRATA)
        }


def spec_path(edition: int, directory: Path | None = None) -> Path:
    return (directory or TEMPLATES) / f"note-{edition}.yaml"


def load_spec(edition: int, codebook: Codebook, directory: Path | None = None) -> NoteSpec:
    """Read and check ``note-<edition>.yaml`` against the edition's codebook."""
    path = spec_path(edition, directory)
    if not path.is_file():
        raise NotesError(
            f"{path}: no notes specification for edition {edition}; write one (see "
            f"note-2023.yaml and docs/notes.md)"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise NotesError(f"{path}: not valid YAML: {exc}") from exc

    def bad(what: str) -> NotesError:
        return NotesError(f"{path}: {what}")

    if not isinstance(raw, dict):
        raise bad("expected a mapping with 'chapters', 'groups' and 'indicators'")
    for key in ("chapters", "groups", "indicators"):
        if key not in raw:
            raise bad(f"missing key {key!r}")
    groups: dict[str, Group] = {}
    for gid, g in (raw.get("groups") or {}).items():
        if not isinstance(g, dict) or not g.get("label") or not g.get("des"):
            raise bad(f"group {gid!r}: expected 'label' and 'des'")
        groups[str(gid)] = Group(str(gid), str(g["label"]), str(g["des"]), g.get("broader"))
    if ALL not in groups:
        raise bad(f"groups: no {ALL!r} group (all respondents)")
    for g in groups.values():
        if g.broader is not None and g.broader not in groups:
            raise bad(f"group {g.id!r}: broader group {g.broader!r} is not defined")
    for s in STRATA:
        if s not in groups:
            raise bad(f"groups: stratum {s!r} has no entry; expected one per stratum")
        seen: list[str] = []
        g: str | None = s
        while g is not None:
            if g in seen:
                raise bad(f"group {s!r}: the chain of broader groups loops ({' → '.join(seen)})")
            seen.append(g)
            g = groups[g].broader
        if seen[-1] != ALL:
            raise bad(f"group {s!r}: the chain of broader groups ends at {seen[-1]!r}, not {ALL!r}")
    chapters = {str(k): str(v) for k, v in (raw.get("chapters") or {}).items()}
    inds: list[Indicator] = []
    for i, r in enumerate(raw.get("indicators") or []):
        ident = r.get("id", f"#{i + 1}") if isinstance(r, dict) else f"#{i + 1}"
        try:
            ind = Indicator(
                id=str(r["id"]),
                chapter=str(r["chapter"]),
                question=str(r["question"]),
                options=tuple(str(o) for o in r["options"]),
                label=str(r["label"]),
                oui=str(r["oui"]),
                non=str(r["non"]),
                items=None if r.get("items") is None else _items(r["items"], codebook, r),
                profile=bool(r.get("profile", True)),
            )
        except (KeyError, TypeError) as exc:
            raise bad(f"indicator {ident!r}: missing or bad key {exc}") from None
        _check_indicator(ind, codebook, chapters, bad)
        inds.append(ind)
    ids = [i.id for i in inds]
    if len(set(ids)) != len(ids):
        raise bad("two indicators have the same id")
    rq = str(raw.get("request_question", ""))
    if rq not in codebook or codebook[rq].type != "single":
        raise bad(f"request_question {rq!r}: expected a single-choice question of the codebook")
    ra = str(raw.get("request_answer", ""))
    if ra not in codebook[rq].options:
        raise bad(f"request_answer {ra!r}: expected one of {list(codebook[rq].options)}")
    min_others = int(raw.get("min_others", 5))
    if min_others < 1:
        raise bad("min_others: expected at least 1")
    return NoteSpec(
        edition=int(raw.get("edition", edition)),
        request_question=rq,
        request_answer=ra,
        min_others=min_others,
        chapters=chapters,
        groups=groups,
        indicators=tuple(inds),
        path=path,
    )


def _items(raw: Any, codebook: Codebook, r: dict) -> tuple[str, ...]:
    if raw == "all":
        q = codebook[str(r["question"])] if str(r["question"]) in codebook else None
        return tuple(str(c.item) for c in q.columns) if q is not None else ()
    return tuple(str(x) for x in raw)


def _check_indicator(ind: Indicator, codebook: Codebook, chapters: dict, bad) -> None:
    where = f"indicator {ind.id!r}"
    if ind.chapter not in chapters:
        raise bad(f"{where}: chapter {ind.chapter!r} is not listed under 'chapters'")
    if ind.question not in codebook:
        raise bad(f"{where}: question {ind.question!r} is not in the {codebook.edition} codebook")
    q = codebook[ind.question]
    if q.type == "single":
        if ind.items is not None:
            raise bad(f"{where}: {q.id!r} is a single choice; remove 'items'")
    elif q.type in ("matrix", "multiple"):
        if not ind.items:
            raise bad(f"{where}: {q.id!r} is a {q.type}; give 'items' (rows/options or all)")
        known = {c.item for c in q.columns}
        unknown = [i for i in ind.items if i not in known]
        if unknown:
            raise bad(
                f"{where}: items {unknown} are not items of {q.id!r}; expected {sorted(known)}"
            )
    else:
        raise bad(f"{where}: {q.id!r} has type {q.type!r}; expected single, matrix or multiple")
    if q.type != "multiple":
        unknown = [o for o in ind.options if o not in q.options]
        if unknown or not ind.options:
            raise bad(
                f"{where}: options {unknown or '(none)'} are not answers of {q.id!r}; "
                f"expected some of {list(q.options)}"
            )


# -- indicators, for every respondent at once -------------------------------------------------
def _columns(ind: Indicator, codebook: Codebook) -> list[str]:
    q = codebook[ind.question]
    if ind.items is None:
        return [q.id]
    return [f"{q.id}__{i}" for i in ind.items]


def _ticked(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.fillna(False).to_numpy(dtype=bool)
    v = s.astype("object")
    return ~(v.isna() | v.isin([False, "", "Non", "N/A"])).to_numpy(dtype=bool)


def indicators(
    df: pd.DataFrame, spec: NoteSpec, codebook: Codebook, indicators_: tuple | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(met, asked, answered)``: n × k booleans for the k indicators.

    asked: the codebook's ``asked_if`` holds, or the respondent answered anyway (as in the
    estimates); answered: at least one looked-at column has an answer; met: answered and one
    of the looked-at columns has a "yes" option (matrix/single) or is ticked (multiple).
    """
    inds = spec.indicators if indicators_ is None else indicators_
    n = len(df)
    met = np.zeros((n, len(inds)), dtype=bool)
    asked = np.zeros_like(met)
    answered = np.zeros_like(met)
    for j, ind in enumerate(inds):
        q = codebook[ind.question]
        cols = _columns(ind, codebook)
        missing = [c for c in cols if c not in df]
        if missing:
            raise NotesError(
                f"processed dataset: no column {missing[0]!r} for indicator {ind.id!r}; "
                "expected the columns of the codebook"
            )
        if q.type == "multiple":
            all_cols = [c for c in q.column_ids if c in df]
            shown = np.column_stack([df[c].notna().to_numpy() for c in all_cols]).any(axis=1)
            any_tick = np.column_stack([_ticked(df[c]) for c in all_cols]).any(axis=1)
            yes = np.column_stack([_ticked(df[c]) for c in cols]).any(axis=1)
            ans = any_tick
            base = shown | any_tick
        else:
            vals = [df[c].astype("object") for c in cols]
            ans_cols = np.column_stack([v.notna().to_numpy() & v.ne("").to_numpy() for v in vals])
            yes_cols = np.column_stack([v.isin(ind.options).to_numpy() for v in vals])
            ans = ans_cols.any(axis=1)
            yes = yes_cols.any(axis=1)
            base = ans
        a = asked_mask(codebook, q.id, df).to_numpy(dtype=bool) | base
        met[:, j], asked[:, j], answered[:, j] = yes & a, a, ans
    return met, asked, answered


def _membership(strata: pd.Series, groups: dict[str, tuple[str, ...]]) -> np.ndarray:
    s = strata.astype("object")
    bad = ~s.isin(STRATA)
    if bad.any():
        raise NotesError(
            f"processed dataset: stratum {s[bad].iloc[0]!r}; expected one of {list(STRATA)}"
        )
    return np.column_stack([s.isin(list(m)).to_numpy() for m in groups.values()])


@dataclass
class Peers:
    """Counts and bases of every indicator in every group, and the group each figure uses."""

    groups: list[str]
    count: np.ndarray  # g × k: respondents meeting the indicator
    base: np.ndarray  # g × k: respondents asked
    size: np.ndarray  # g: respondents in the group

    def index(self, group: str) -> int:
        return self.groups.index(group)


def peers(met: np.ndarray, asked: np.ndarray, G: np.ndarray, groups) -> Peers:
    """One matrix product per figure: counts and bases of every indicator in every group."""
    Gf = G.astype("float64")
    return Peers(
        groups=list(groups),
        count=((met & asked).T.astype("float64") @ Gf).T.round().astype("int64"),
        base=(asked.T.astype("float64") @ Gf).T.round().astype("int64"),
        size=G.sum(axis=0).astype("int64"),
    )


def profile_scores(met: np.ndarray, chapter_of: list, chapters: list) -> np.ndarray:
    """n × c: number of the chapter's profile indicators each respondent meets."""
    return np.column_stack(
        [met[:, [j for j, c in enumerate(chapter_of) if c == ch]].sum(axis=1) for ch in chapters]
    )


# -- one context per note ---------------------------------------------------------------------
def _pct(count: int, base: int) -> str:
    return french.pct(100.0 * count / base) if base else french.MISSING


def _figure(peers: Peers, spec: NoteSpec, group: str, j: int) -> dict:
    gi = peers.index(group)
    c, b = int(peers.count[gi, j]), int(peers.base[gi, j])
    return {
        "group": group,
        "label": spec.groups[group].label,
        "des": spec.groups[group].des,
        "count": c,
        "base": b,
        "no": b - c,
        "pct": _pct(c, b),
        "pct_no": _pct(b - c, b),
        "count_fr": french.num(c),
        "base_fr": french.num(b),
        "no_fr": french.num(b - c),
    }


def _choose(peers: Peers, chain: list[str], j: int, self_in: bool, min_others: int) -> str | None:
    """The first group of the chain whose base has >= min_others respondents besides self."""
    for g in chain:
        if peers.base[peers.index(g), j] - int(self_in) >= min_others:
            return g
    return None


def answer_texts(df: pd.DataFrame, ind: Indicator, codebook: Codebook) -> np.ndarray:
    """Each respondent's own answer to the indicator's question, in codebook words (the
    option, or the labels of the rows/options that meet it, joined) — never a free-text
    cell. Computed column-wise for all respondents at once; "" when none."""
    q = codebook[ind.question]
    n = len(df)
    if q.type == "single":
        v = df[q.id].astype("object")
        known = v.isna() | v.eq("") | v.isin(q.options)
        if not known.all():
            i = int(np.flatnonzero(~known.to_numpy())[0])
            raise NotesError(
                f"processed dataset: response_id {df['response_id'].iloc[i]}, column {q.id!r} "
                f"has {v.iloc[i]!r}; expected one of {list(q.options)}"
            )
        return v.where(v.isin(q.options), "").to_numpy(dtype=object)
    labels = {c.item: c.label or str(c.item) for c in q.columns}
    hits = np.zeros((n, len(ind.items or ())), dtype=bool)
    for k, item in enumerate(ind.items or ()):
        col = df[f"{q.id}__{item}"]
        hits[:, k] = (
            _ticked(col) if q.type == "multiple" else col.astype("object").isin(ind.options)
        )
    names = [labels[i] for i in ind.items or ()]
    out = np.empty(n, dtype=object)
    cache: dict[bytes, str] = {}
    for r in range(n):
        key = hits[r].tobytes()
        if key not in cache:
            cache[key] = french.join_fr([names[k] for k in np.flatnonzero(hits[r])])
        out[r] = cache[key]
    return out


def _status(met: bool, asked: bool, answered: bool) -> str:
    if not asked:
        return "non_posee"
    if not answered:
        return "sans_reponse"
    return "oui" if met else "non"


def contexts(
    df: pd.DataFrame,
    spec: NoteSpec,
    codebook: Codebook,
    *,
    previous: pd.DataFrame | None = None,
    previous_codebook: Codebook | None = None,
    synthetic: bool = False,
) -> list[dict]:
    """One JSON-able context per respondent who asked for the results, by response id."""
    if spec.request_question not in df:
        raise NotesError(
            f"processed dataset: no column {spec.request_question!r}; expected the answer to "
            f"« {codebook[spec.request_question].text} »"
        )
    inds = spec.indicators
    met, asked, answered = indicators(df, spec, codebook)
    members = spec.members()
    G = _membership(df["stratum"], members)
    prof_inds = [i for i in inds if i.profile]
    chapters = [c for c in spec.chapters if any(i.chapter == c for i in prof_inds)]
    pmet = met[:, [j for j, i in enumerate(inds) if i.profile]]
    pchap = [i.chapter for i in prof_inds]
    P = peers(met, asked, G, members)
    scores = profile_scores(pmet, pchap, chapters)
    score_sum = (scores.T.astype("float64") @ G.astype("float64")).T  # g × c
    n_prof = {c: sum(1 for i in prof_inds if i.chapter == c) for c in chapters}
    prev = _previous_answers(df, spec, codebook, previous, previous_codebook)

    # which group each figure uses: depends only on (stratum, indicator, self asked)
    choice: dict[tuple[str, int, bool], str | None] = {}
    for s in STRATA:
        chain = spec.chain(s)
        for j in range(len(inds)):
            for self_in in (False, True):
                choice[(s, j, self_in)] = _choose(P, chain, j, self_in, spec.min_others)
    # cache the formatted figures: one per (group, indicator)
    figures: dict[tuple[str, int], dict] = {}

    def figure(g: str | None, j: int) -> dict | None:
        if g is None:
            return None
        if (g, j) not in figures:
            figures[(g, j)] = _figure(P, spec, g, j)
        return figures[(g, j)]

    means: dict[tuple[str, int], dict] = {}

    def mean_of(g: str, ci: int) -> dict:
        if (g, ci) not in means:
            gi = P.index(g)
            m = float(score_sum[gi, ci] / P.size[gi])
            means[(g, ci)] = {"mean": m, "mean_fr": french.dec(m, 1)}
        return means[(g, ci)]

    answers = [answer_texts(df, ind, codebook) for ind in inds]
    rids = df["response_id"].to_numpy()
    keys = (
        df["structure_key"].astype("string").fillna("").str.strip().to_numpy()
        if "structure_key" in df
        else None
    )
    want = df[spec.request_question].astype("object").eq(spec.request_answer).to_numpy()
    order = np.argsort(df["response_id"].to_numpy(), kind="stable")
    strata = df["stratum"].astype("object").to_numpy()
    out = []
    for r in order:
        if not want[r]:
            continue
        rid = int(rids[r])
        s = strata[r]
        chain = spec.chain(s)
        # the note's peer group: the narrowest with >= min_others other respondents
        peer = next(
            (g for g in chain if P.size[P.index(g)] - 1 >= spec.min_others),
            None,
        )
        items_by_chapter: dict[str, list] = {c: [] for c in spec.chapters}
        for j, ind in enumerate(inds):
            q = codebook[ind.question]
            self_in = bool(asked[r, j])
            g = choice[(s, j, self_in)]
            fig = figure(g, j)
            # the whole sample, shown beside the peers unless the peers already are it
            enough = P.base[P.index(ALL), j] - int(self_in) >= spec.min_others
            all_fig = figure(ALL, j) if g not in (None, ALL) and enough else None
            items_by_chapter[ind.chapter].append(
                {
                    "id": ind.id,
                    "label": ind.label,
                    "question": q.text,
                    "status": _status(bool(met[r, j]), self_in, bool(answered[r, j])),
                    "answer": answers[j][r],
                    "oui": ind.oui,
                    "non": ind.non,
                    "profile": ind.profile,
                    "peer": fig,
                    "peer_is_broader": g is not None and peer is not None and g != peer,
                    "all": all_fig,
                }
            )
        profile = []
        for ci, c in enumerate(chapters):
            own = int(scores[r, ci])
            entry = {"chapter": c, "title": spec.chapters[c], "max": n_prof[c], "own": own}
            for key, g in (("peer", peer), ("all", ALL)):
                if g is None or P.size[P.index(g)] - 1 < spec.min_others:
                    entry[key] = None
                    continue
                entry[key] = mean_of(g, ci)
            profile.append(entry)
        out.append(
            {
                "file": note_name(rid),
                "response_id": rid,
                "stratum": s,
                "edition": spec.edition,
                "synthetic": bool(synthetic),
                "min_others": spec.min_others,
                "stratum_label": spec.groups[s].label,
                "peer": None
                if peer is None
                else {
                    "group": peer,
                    "label": spec.groups[peer].label,
                    "des": spec.groups[peer].des,
                    "n": int(P.size[P.index(peer)]),
                    "n_fr": french.num(int(P.size[P.index(peer)])),
                    "broader": peer != s,
                },
                "all": {
                    "label": spec.groups[ALL].label,
                    "n": int(P.size[P.index(ALL)]),
                    "n_fr": french.num(int(P.size[P.index(ALL)])),
                },
                "profile": profile,
                "chapters": [
                    {"id": c, "title": spec.chapters[c], "items": items_by_chapter[c]}
                    for c in spec.chapters
                    if items_by_chapter[c]
                ],
                "previous": prev.get(keys[r]) if prev and keys is not None else None,
                "previous_edition": None
                if previous_codebook is None
                else previous_codebook.edition,
            }
        )
    return out


def note_name(response_id: int) -> str:
    """File name of a note: the LimeSurvey response id, never a structure name."""
    return f"note-{int(response_id)}.pdf"


# -- previous edition -------------------------------------------------------------------------
def comparable(ind: Indicator, codebook: Codebook, previous: Codebook) -> tuple[str, tuple] | None:
    """``(previous question id, previous "yes" options)`` when the indicator can be read in the
    previous edition: the question has a ``previous`` crosswalk to that edition, its looked-at
    items exist there, and no "no" answer maps to the same previous label as a "yes" one."""
    q = codebook[ind.question]
    p = q.previous
    if p is None or p.edition != previous.edition or p.id not in previous:
        return None
    pq = previous[p.id]
    if pq.type != q.type:
        return None
    if ind.items is not None:
        items = {c.item for c in pq.columns}
        if any(i not in items for i in ind.items):
            return None
    if q.type == "multiple":
        return p.id, ()
    yes = {p.options.get(o, o) for o in ind.options}
    no = {p.options.get(o, o) for o in q.options if o not in ind.options}
    if yes & no or not yes & set(pq.options):
        return None
    return p.id, tuple(o for o in pq.options if o in yes)


def _previous_answers(df, spec, codebook, previous, previous_codebook) -> dict[str, dict]:
    """structure_key → the structure's own answers in the previous edition (comparable
    indicators only). Matching: the pseudonymous ``structure_key``, exact and non-empty."""
    if previous is None or previous_codebook is None:
        return {}
    for frame, what in ((df, "current"), (previous, "previous")):
        if "structure_key" not in frame:
            raise NotesError(f"{what} processed dataset: no column 'structure_key' to match on")
    keys = previous["structure_key"].astype("string")
    valid = keys.notna() & keys.str.strip().ne("")
    prev = previous[valid.to_numpy()].reset_index(drop=True)
    pkeys = prev["structure_key"].astype(str).str.strip()
    if pkeys.duplicated().any():
        raise NotesError(
            f"previous processed dataset: structure_key {pkeys[pkeys.duplicated()].iloc[0]!r} "
            "appears twice; expected one response per structure (run the cleaning)"
        )
    pairs = []
    for ind in spec.indicators:
        c = comparable(ind, codebook, previous_codebook)
        if c is not None:
            pid, yes = c
            pairs.append(
                (
                    ind,
                    Indicator(
                        id=ind.id,
                        chapter=ind.chapter,
                        question=pid,
                        options=yes,
                        label=ind.label,
                        oui=ind.oui,
                        non=ind.non,
                        items=ind.items,
                    ),
                )
            )
    if not pairs:
        return {}
    pspec = NoteSpec(
        previous_codebook.edition,
        "",
        "",
        spec.min_others,
        spec.chapters,
        spec.groups,
        (),
        spec.path,
    )
    pmet, pasked, pans = indicators(prev, pspec, previous_codebook, tuple(p for _, p in pairs))
    cur_keys = set(df["structure_key"].astype("string").dropna().str.strip()) - {""}
    cmet, casked, cans = indicators(df, spec, codebook, tuple(c for c, _ in pairs))
    cur_pos = {
        str(k).strip(): i
        for i, k in enumerate(df["structure_key"].astype("string"))
        if k is not pd.NA and str(k).strip()
    }
    pans_txt = [answer_texts(prev, p, previous_codebook) for _, p in pairs]
    cans_txt = [answer_texts(df, c, codebook) for c, _ in pairs]
    out: dict[str, dict] = {}
    for i, key in enumerate(pkeys):
        if key not in cur_keys:
            continue
        r = cur_pos[key]
        items = []
        for j, (ci, _pi) in enumerate(pairs):
            before = _status(bool(pmet[i, j]), bool(pasked[i, j]), bool(pans[i, j]))
            after = _status(bool(cmet[r, j]), bool(casked[r, j]), bool(cans[r, j]))
            if before in ("oui", "non") and after in ("oui", "non"):
                change = "same" if before == after else ("gain" if after == "oui" else "loss")
            else:
                change = "unknown"
            items.append(
                {
                    "id": ci.id,
                    "label": ci.label,
                    "before": before,
                    "after": after,
                    "before_answer": pans_txt[j][i],
                    "after_answer": cans_txt[j][r],
                    "change": change,
                }
            )
        out[key] = {"edition": previous_codebook.edition, "items": items}
    return out


# -- rendering --------------------------------------------------------------------------------
def template_path(directory: Path | None = None) -> Path:
    return (directory or TEMPLATES) / TEMPLATE


def read_template(path: Path | None = None) -> bytes:
    path = Path(path) if path else template_path()
    if not path.is_file():
        raise NotesError(f"{path}: note template not found")
    return path.read_bytes()


_COMPILERS: dict[str, Any] = {}
_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


def page_count(pdf: bytes) -> int:
    """Pages of a PDF written by typst (its page objects are not compressed)."""
    return len(_PAGE.findall(pdf))


def render(template: bytes, context: dict) -> bytes:
    """One note as PDF bytes. The compiler (fonts, parsed template) is kept per process."""
    import typst

    key = hashlib.sha256(template).hexdigest()
    comp = _COMPILERS.get(key)
    if comp is None:
        comp = typst.Compiler(ignore_system_fonts=True)
        _COMPILERS.clear()
        _COMPILERS[key] = comp
    try:
        return comp.compile(
            input=template,
            format="pdf",
            sys_inputs={"data": json.dumps(context, ensure_ascii=False)},
            timestamp=0,
        )
    except Exception as exc:  # typst.TypstError: name the note and the template
        raise NotesError(
            f"note {context.get('file')}: the template ({TEMPLATE}) failed to compile: "
            f"{getattr(exc, 'message', exc)} {getattr(exc, 'diagnostic', '')}".strip()
        ) from None


def render_batch(template: bytes, batch: list[dict]) -> list[tuple[str, bytes, int]]:
    """Render a batch of contexts: ``(file name, PDF bytes, page count)`` each. Top-level and
    free of globals so that any executor (process pool, Dask worker) can run it."""
    out = []
    for ctx in batch:
        pdf = render(template, ctx)
        out.append((ctx["file"], pdf, page_count(pdf)))
    return out
