"""Reader of a published aggregate table (the 2022 ``All_statistics_2022.csv``) into tidy rows.

The published table has one row per question (or sub-question) × answer × respondent group
(columns ``Question, Structure, Réponses, Occurrences, Nombre de réponses, Effectifs par
structure, Pourcentage, Edition``). :func:`read_aggregates` turns it into the tidy format of
:mod:`analysis.stats.estimates` (``base_n`` = ``Effectifs par structure``, ``count`` =
``Occurrences``, ``pct`` = 100 · count / base_n unrounded — the published ``Pourcentage`` is its
half-to-even rounding), repairing the table's quirks:

* the question identifier is glued to the text (``G4Q00002. Votre …``): split on the first
  ``". "``; arrays carry the item code in brackets (``G7Q00005[SQ002]``) and the item label at
  the end of the text (``… :  [Archives]``); rankings carry the rank (``G3Q00002[1]``);
* multiple-choice blocks are mangled: the identifier is the first option code glued to the
  question code with a stray ``]`` (``G7Q00002AO02]``) and each answer is
  ``AO02. <question text>  [<option label>`` without the closing bracket;
* leading, trailing and doubled spaces; ``Sans réponse`` becomes ``sans réponse``;
* ``Structure`` values become group codes (:data:`GROUP_CODES`); 2022 ``Un EPCI`` includes
  métropoles, hence the group ``epci_metropole``.

Rankings are published per exact rank; the reader adds the cumulative classes of the tidy
format (``rang 1 ou 2``, ``rang 1 à 3``: sums of exact-rank counts, an element being ranked at
most once) as rows with ``derived=True``. Published rows keep ``derived=False``, their
``published_pct`` (``Pourcentage``) and ``answered_n`` (``Nombre de réponses``).

Without a codebook, rows are keyed by the published identifier (``question_id`` = ``G7Q00005``,
``item_code`` = ``SQ002``); with the previous edition's codebook, ``question_id`` is the
codebook id, ``chapter`` its chapter, and items and options take the codebook's labels.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.stats.estimates import COLUMNS, SANS_REPONSE, rank_label
from analysis.survey.codebook import Codebook, Question, normalise_heading

#: ``Structure`` value of the published tables → group code of the tidy format.
GROUP_CODES: dict[str, str] = {
    "Total": "ensemble",
    "Total hors communes < 3500 habitants": "hors_communes_lt_3500",
    "Une commune": "commune",
    "Moins de 3 500 habitants": "commune_lt_3500",
    "Entre 3 500 et 10 000 habitants": "commune_3500_10000",
    "Entre 10 000 et 100 000 habitants": "commune_10000_100000",
    "Plus de 100 000 habitants": "commune_ge_100000",
    "Un EPCI": "epci_metropole",
    "Un département": "departement",
    "Une région": "region",
    "Autre": "autre",
}
#: Group order of the rows read (the published groups, in report order).
GROUP_ORDER: tuple[str, ...] = (
    "ensemble",
    "hors_communes_lt_3500",
    "commune",
    "commune_lt_3500",
    "commune_3500_10000",
    "commune_10000_100000",
    "commune_ge_100000",
    "epci_metropole",
    "departement",
    "region",
    "autre",
)
HEADER = (
    "Question",
    "Structure",
    "Réponses",
    "Occurrences",
    "Nombre de réponses",
    "Effectifs par structure",
    "Pourcentage",
    "Edition",
)
EXTRA = ("item_code", "option_code", "source_question", "published_pct", "answered_n", "derived")

_MULTIPLE = re.compile(r"^(?P<code>[A-Za-z0-9_]+?)(?P<opt>(?:AO|SQ)\d+)\]$")
_BRACKET = re.compile(r"^(?P<code>[A-Za-z0-9_]+)\[(?P<item>[^\]]+)\]$")
_PLAIN = re.compile(r"^[A-Za-z0-9_]+$")
_TRAILING = re.compile(r"\s*\[[^\[\]]*\]?\s*$")


class AggregatesError(ValueError):
    """A published aggregate table does not have the expected shape or values."""


def _squash(text: str) -> str:
    return " ".join(str(text).split())


def _label_after_bracket(text: str) -> str:
    """The label after the last ``[`` (closing bracket optional), whitespace folded."""
    return _squash(text[text.rindex("[") + 1 :].rstrip().rstrip("]"))


def _parse_question(raw: str, where: str) -> tuple[str, str, str, str]:
    """``(kind, code, item_code, text)`` of a ``Question`` cell; kind ∈ plain/bracket/multiple."""
    cell = raw.strip()
    ident, sep, text = cell.partition(". ")
    if not sep:
        raise AggregatesError(
            f"{where}: column 'Question' has {raw!r}; expected '<identifier>. <question text>'"
        )
    if m := _MULTIPLE.match(ident):
        return "multiple", m["code"], "", _squash(text)
    if m := _BRACKET.match(ident):
        return "bracket", m["code"], m["item"].strip(), _squash(text)
    if _PLAIN.match(ident):
        return "plain", ident, "", _squash(text)
    raise AggregatesError(
        f"{where}: column 'Question' has identifier {ident!r}; expected a code such as "
        f"'G4Q00002', 'G7Q00005[SQ002]' or 'G7Q00002AO02]'"
    )


def _codebook_index(codebook: Codebook) -> dict[str, Question]:
    out: dict[str, Question] = {}
    for q in codebook.questions:
        for key in {q.code, q.id, *(c.code.split("[")[0] for c in q.columns)}:
            if key:
                out.setdefault(key, q)
    return out


def read_aggregates(path: str | Path, codebook_2022: Codebook | None = None) -> pd.DataFrame:
    """Read a published aggregate table into tidy rows (:data:`analysis.stats.estimates.COLUMNS`).

    Extra columns: ``item_code`` (array item or rank), ``option_code`` (multiple choice),
    ``source_question`` (the published identifier), ``published_pct``, ``answered_n``,
    ``derived`` (cumulative ranking rows computed here). Row order: the file's, the derived
    rows after their question's published rows.
    """
    path = Path(path)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    if tuple(raw.columns) != HEADER:
        raise AggregatesError(f"{path}: header {list(raw.columns)}; expected {list(HEADER)}")
    numbers = {}
    for col in HEADER[3:]:
        values = pd.to_numeric(raw[col].str.strip(), errors="coerce")
        bad = values.isna() | (values < 0) | (values != values.round())
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise AggregatesError(
                f"{path}: row {pos + 2}, column {col!r} has {raw[col].iloc[pos]!r}; "
                f"expected a non-negative integer"
            )
        numbers[col] = values.astype("int64").to_numpy()
    structure = raw["Structure"].str.strip()
    unknown = ~structure.isin(list(GROUP_CODES))
    if unknown.any():
        pos = int(np.flatnonzero(unknown.to_numpy())[0])
        raise AggregatesError(
            f"{path}: row {pos + 2}, column 'Structure' has {raw['Structure'].iloc[pos]!r}; "
            f"expected one of {list(GROUP_CODES)}"
        )
    zero = numbers["Effectifs par structure"] == 0
    if zero.any():
        pos = int(np.flatnonzero(zero)[0])
        raise AggregatesError(
            f"{path}: row {pos + 2}, column 'Effectifs par structure' is 0; expected the "
            f"positive number of respondents of the group"
        )

    # Parse each distinct Question cell once (67 of them), then broadcast.
    parsed = {
        q: _parse_question(q, f"{path}: row {int(np.flatnonzero(raw['Question'] == q)[0]) + 2}")
        for q in raw["Question"].unique()
    }
    info = pd.DataFrame.from_dict(parsed, orient="index", columns=["kind", "code", "icode", "text"])
    rows = info.reindex(raw["Question"]).reset_index(drop=True)
    answers = raw["Réponses"].map(_squash)
    is_sr = answers.eq("Sans réponse")
    kind = rows["kind"]

    question_text = rows["text"].str.replace(_TRAILING, "", regex=True)
    item_label = pd.Series("", index=raw.index, dtype=object)
    bracket_text = rows["text"].str.contains(r"\[", regex=True)
    arr = kind.eq("bracket") & bracket_text
    item_label[arr] = rows.loc[arr, "text"].map(_label_after_bracket)
    option = answers.copy()
    option_code = pd.Series("", index=raw.index, dtype=object)
    multi = kind.eq("multiple") & ~is_sr
    if multi.any():
        no_bracket = multi & ~answers.str.contains(r"\[", regex=True)
        if no_bracket.any():
            pos = int(np.flatnonzero(no_bracket.to_numpy())[0])
            raise AggregatesError(
                f"{path}: row {pos + 2}, column 'Réponses' has {raw['Réponses'].iloc[pos]!r}; "
                f"expected '<option code>. <question text>  [<option label>'"
            )
        option[multi] = answers[multi].map(_label_after_bracket)
        option_code[multi] = answers[multi].str.partition(". ")[0]
    option[is_sr] = SANS_REPONSE

    # Rankings: brackets whose item is a rank number and whose text names no item label.
    ranking = kind.eq("bracket") & rows["icode"].str.fullmatch(r"\d+") & ~arr
    ranking |= (
        kind.eq("bracket")
        & rows["icode"].str.fullmatch(r"\d+")
        & rows["text"].str.contains(r"\[Classement \d+\]\s*$", regex=True)
    )
    item = item_label.where(~ranking, "")
    rank_k = rows["icode"].where(ranking, "")
    # A ranking row: item = the ranked element, option = its exact rank class.
    item[ranking & ~is_sr] = answers[ranking & ~is_sr]
    option[ranking & ~is_sr] = rank_k[ranking & ~is_sr].map(lambda k: f"rang {k}")

    base = numbers["Effectifs par structure"]
    out = pd.DataFrame(
        {
            "edition": pd.array(numbers["Edition"], dtype="Int64"),
            "chapter": "",
            "question_id": rows["code"],
            "question": question_text,
            "item": item,
            "option": option,
            "stratum": structure.map(GROUP_CODES),
            "base_n": base,
            "group_n": base,  # the published tables divide by every respondent of the group
            "count": numbers["Occurrences"],
            "pct": 100.0 * numbers["Occurrences"] / base,
            "weighted_pct": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "ci_method": "",
            "deff": np.nan,
            "n_eff": np.nan,
            "cv": np.nan,
            "reliable": False,
            "suppressed": False,
            "item_code": rows["icode"].where(~ranking | is_sr, rank_k),
            "option_code": option_code,
            "source_question": raw["Question"].str.strip().str.partition(". ")[0],
            "published_pct": numbers["Pourcentage"],
            "answered_n": numbers["Nombre de réponses"],
            "derived": False,
        }
    )
    out["_kind"] = np.where(ranking, "ranking", kind)
    out = _add_cumulative_ranks(out)
    if codebook_2022 is not None:
        out = _apply_codebook(out, codebook_2022, path)
    return out[[*COLUMNS, *EXTRA]].reset_index(drop=True)


def _add_cumulative_ranks(out: pd.DataFrame) -> pd.DataFrame:
    rk = out[(out["_kind"] == "ranking") & (out["option"] != SANS_REPONSE)].copy()
    if rk.empty:
        return out
    rk["k"] = rk["item_code"].astype(int)
    pieces = [out]
    for qid, block in rk.groupby("question_id", sort=False):
        table = block.pivot_table(
            index=["item", "stratum"], columns="k", values="count", aggfunc="sum", fill_value=0
        )
        bases = block.groupby("stratum")["base_n"].first()
        ks = sorted(table.columns)
        if ks != list(range(1, len(ks) + 1)):
            continue
        cum = table[ks].cumsum(axis=1)
        first = block.iloc[0]
        for k in ks[1:]:
            c = cum[k].reset_index(name="count")
            c["base_n"] = c["stratum"].map(bases).to_numpy()
            pieces.append(
                pd.DataFrame(
                    {
                        "edition": first["edition"],
                        "chapter": first["chapter"],
                        "question_id": qid,
                        "question": first["question"],
                        "item": c["item"],
                        "option": rank_label(k),
                        "stratum": c["stratum"],
                        "base_n": c["base_n"],
                        "count": c["count"].astype("int64"),
                        "pct": 100.0 * c["count"] / c["base_n"],
                        "weighted_pct": np.nan,
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "suppressed": False,
                        "item_code": str(k),
                        "option_code": "",
                        "source_question": f"{qid}[1..{k}]",
                        "published_pct": pd.NA,
                        "answered_n": pd.NA,
                        "derived": True,
                        "_kind": "ranking",
                    }
                )
            )
    res = pd.concat(pieces, ignore_index=True)
    # Published rows in file order; each question's derived rows right after them, by element
    # (order of first appearance), rank class, group (report order).
    qorder = {q: i for i, q in enumerate(dict.fromkeys(res["question_id"]))}
    iorder = {e: i for i, e in enumerate(dict.fromkeys(res["item"]))}
    gorder = {g: i for i, g in enumerate(GROUP_ORDER)}
    derived = res["derived"].to_numpy()
    keys = pd.DataFrame(
        {
            "q": res["question_id"].map(qorder),
            "d": derived.astype(int),
            "pos": np.where(derived, 0, np.arange(len(res))),
            "i": np.where(derived, res["item"].map(iorder), 0),
            "k": np.where(derived, pd.to_numeric(res["item_code"], errors="coerce"), 0),
            "g": np.where(derived, res["stratum"].map(gorder), 0),
        }
    )
    order = keys.sort_values(["q", "d", "pos", "i", "k", "g"], kind="stable").index
    res = res.loc[order]
    res["published_pct"] = res["published_pct"].astype("Int64")
    res["answered_n"] = res["answered_n"].astype("Int64")
    return res


def _find_column(q: Question, code: str, sub: str):
    """The codebook column of a published sub-code (``SQ002``, ``AO02``): by code, then item."""
    wanted = f"{code}[{sub}]".casefold()
    for c in q.columns:
        if c.code.casefold() == wanted:
            return c
    return next((c for c in q.columns if str(c.item).casefold() == sub.casefold()), None)


def _apply_codebook(out: pd.DataFrame, codebook: Codebook, path: Path) -> pd.DataFrame:
    index = _codebook_index(codebook)
    missing = [c for c in dict.fromkeys(out["question_id"]) if c not in index]
    if missing:
        pos = int(np.flatnonzero((out["question_id"] == missing[0]).to_numpy())[0])
        raise AggregatesError(
            f"{path}: question {out['source_question'].iloc[pos]!r} has no entry in the "
            f"{codebook.edition} codebook; expected a question with code {missing[0]!r}"
        )
    keys = ["question_id", "item", "item_code", "option", "option_code"]
    uniq = out[keys].drop_duplicates()  # a few hundred label combinations, not every row
    mapped = []
    for code, item, icode, option, ocode in uniq.itertuples(index=False):
        q = index[code]
        if q.type == "matrix":
            col = _find_column(q, code, icode)
            item = (col.label or item) if col is not None else item
        if q.type == "multiple" and option != SANS_REPONSE:
            col = _find_column(q, code, ocode)
            if col is None:
                key = normalise_heading(option)
                col = next((c for c in q.columns if normalise_heading(c.label or "") == key), None)
            option = (col.label or option) if col is not None else option
        levels = {normalise_heading(o): o for o in q.options}
        if q.type == "ranking":
            item = levels.get(normalise_heading(item), item)
        elif q.type in ("single", "matrix"):
            option = levels.get(normalise_heading(option), option)
        mapped.append((q.id, q.chapter, item, option))
    table = pd.DataFrame(mapped, columns=["_id", "_chapter", "_item", "_option"], index=uniq.index)
    table = pd.concat([uniq, table], axis=1)
    out = out.merge(table, on=keys, how="left", validate="many_to_one").set_index(out.index)
    out["question_id"] = out.pop("_id")
    out["chapter"] = out.pop("_chapter")
    out["item"] = out.pop("_item")
    out["option"] = out.pop("_option")
    return out
