"""Category, population, région and stratum of each response.

:func:`enrich` adds four columns to the responses:

``category``
    ``commune``, ``epci``, ``metropole``, ``departement``, ``region`` or ``autre``;
``population``
    total population (``Int64``, ``<NA>`` when unknown);
``region_code``
    INSEE code of the région (``string``, ``<NA>`` when unknown);
``stratum``
    one of :data:`analysis.survey.strata.STRATA` (a pandas ``Categorical`` over all of them).

Two sources, in this order:

1. **The export's own enrichment** — columns ``category_raw`` (labels ``Commune``, ``EPCI``,
   ``Metropole``, ``Departement``, ``Region``; ``GFP``, empty or anything else → ``autre``, as
   the published tables count them) and ``population_raw`` (digits or numbers; empty). When
   ``responses`` carries ``category_raw`` with at least one non-empty value (ingestion gives
   an all-empty column to an export without it), these are used as they are (the real 2023 export:
   communes split by ``population_raw``); the identity, when given, is only matched against the
   reference to *check* them (and to fill a missing population or the région code when the
   reference agrees on the category). A commune without any population is counted as
   ``autre`` (it cannot be placed in a size class), with a report row saying so.
2. **The identity** (``response_id``, ``structure_name``, ``siret``): the SIREN/SIRET through
   the reference first, then the normalised name (:meth:`analysis.survey.reference.Reference.
   match_names`); no match or several candidates → ``autre``.

The labels of ``category_raw`` go through the structure-type vocabulary of
:func:`analysis.survey.values.structure_type` (plurals, institutional names: "Conseil
départemental", "Communauté de communes …"; an unknown label counts as ``autre`` here, ingestion
refuses it with its lines). Two more columns say who answered, for the cleaning rule's "one
response per structure": ``identity_key`` and ``identified_by`` (:func:`analysis.survey.
identity.resolve`: pseudonymised key, else the reference structure matched by SIRET or name,
else the SIREN, else the normalised name and category); they are never written.

The second returned table reports, for every response, the ``method`` that decided its
category (``export``, ``siren``, ``name``, ``unmatched``, ``ambiguous``) and a ``detail`` in
words. It names structures of the reference only, never what the respondent typed.
"""

from __future__ import annotations

import pandas as pd

from analysis.survey import identity as identity_mod
from analysis.survey import values
from analysis.survey.reference import Reference, commune_strata, load_reference
from analysis.survey.strata import STRATA

METHODS = ("export", "siren", "name", "unmatched", "ambiguous")
ADDED_COLUMNS = ("category", "population", "region_code", "stratum")
#: At most this many candidates are named in the detail of an ambiguous match.
MAX_CANDIDATES = 5


class EnrichError(ValueError):
    """The responses or the identity table cannot be enriched as given."""


def _key(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip()


def _check_ids(df: pd.DataFrame, what: str) -> pd.Series:
    if "response_id" not in df.columns:
        raise EnrichError(f"{what}: column 'response_id' missing; expected one id per response")
    key = _key(df["response_id"])
    empty = key.isna() | (key == "")
    if empty.any():
        raise EnrichError(
            f"{what}: row {int(empty.to_numpy().argmax())}, column 'response_id' is empty; "
            "expected a response id"
        )
    dup = key[key.duplicated()]
    if len(dup):
        raise EnrichError(
            f"{what}: column 'response_id': {dup.iloc[0]!r} appears twice; expected one row "
            "per response"
        )
    return key


def _parse_population(raw: pd.Series, keys: pd.Series) -> pd.Series:
    """``population_raw`` as ``Int64``: digits (spaces as thousands separators) or numbers."""
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        num = pd.to_numeric(raw, errors="coerce").astype("Float64")
        bad = num.notna() & ((num < 0) | (num != num.round())).fillna(True)
    else:
        s = raw.astype("string").str.replace(r"[\s\u00a0\u202f]", "", regex=True)
        s = s.mask(s == "", pd.NA).str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
        bad = s.notna() & ~s.str.fullmatch(r"\d+").fillna(False).astype(bool)
        num = pd.to_numeric(s.where(~bad), errors="coerce").astype("Float64")
    if bad.any():
        i = bad.to_numpy().argmax()
        raise EnrichError(
            f"responses: response_id {keys.iloc[i]}, column 'population_raw': "
            f"{raw.iloc[i]!r}; expected a whole number of inhabitants (digits) or empty"
        )
    return num.round().astype("Int64")


def _describe(frame: pd.DataFrame, prefix: str = "") -> pd.Series:
    """``Name (category code, population N)`` of matched reference rows (prefixed columns)."""
    pop = frame[f"{prefix}population"].astype("string").fillna("unknown")
    return (
        frame[f"{prefix}name"].astype("string")
        + " ("
        + frame[f"{prefix}category"].astype("string")
        + " "
        + frame[f"{prefix}code"].astype("string")
        + ", population "
        + pop
        + ")"
    )


def identify(identity: pd.DataFrame, reference: Reference | None = None) -> pd.DataFrame:
    """Match each identity row to the reference: SIREN/SIRET first, then the name.

    Returns one row per identity row, indexed by the response id (as a string): ``method``
    (``siren``, ``name``, ``unmatched``, ``ambiguous``), ``detail`` and the matched structure
    (``category``, ``code``, ``name``, ``population``, ``region_code``; ``<NA>`` unless
    ``method`` is ``siren`` or ``name``).
    """
    ref = reference or load_reference()
    keys = _check_ids(identity, "identity")
    if "siret" not in identity.columns and "structure_name" not in identity.columns:
        raise EnrichError(
            "identity: neither 'siret' nor 'structure_name' column; expected at least one"
        )
    idx = pd.Index(keys, name="response_id")
    siret = (
        identity["siret"].astype("string").set_axis(idx)
        if "siret" in identity.columns
        else pd.Series(pd.NA, index=idx, dtype="string")
    )
    names = (
        identity["structure_name"].astype("string").set_axis(idx).str.strip()
        if "structure_name" in identity.columns
        else pd.Series(pd.NA, index=idx, dtype="string")
    )
    cols = ["category", "code", "name", "population", "region_code"]
    out = pd.DataFrame(index=idx)
    out["method"] = pd.Series("unmatched", index=idx, dtype="string")
    out["detail"] = pd.Series("", index=idx, dtype="string")
    for col in cols:
        out[col] = pd.Series(pd.NA, index=idx, dtype="Int64" if col == "population" else "string")

    # 1. SIREN / SIRET
    given = siret.notna() & (siret.str.strip() != "")
    found = ref.lookup_sirens(siret)
    malformed = given & found["siren"].isna()
    unknown = given & found["siren"].notna() & found["uid"].isna()
    by_siren = found["uid"].notna()
    out.loc[malformed, "detail"] = "SIRET malformed (expected 9 or 14 digits); "
    out.loc[unknown, "detail"] = "SIREN " + found.loc[unknown, "siren"] + " not in the reference; "
    hit = found[by_siren]
    out.loc[by_siren, "method"] = "siren"
    out.loc[by_siren, "detail"] = "SIREN " + hit["siren"] + " → " + _describe(hit)
    for col in cols:
        out.loc[by_siren, col] = hit[col]

    # 2. names, for the others
    todo = ~by_siren & names.notna() & (names != "")
    no_name = ~by_siren & ~todo
    out.loc[no_name, "detail"] = out.loc[no_name, "detail"] + "no structure name"
    if todo.any():
        cands = ref.match_names(names[todo])
        n = cands.groupby("query").size().reindex(names[todo].index, fill_value=0)
        unique = cands[cands["query"].isin(n.index[n == 1])].set_index("query")
        one = n.index[n == 1]
        out.loc[one, "method"] = "name"
        out.loc[one, "detail"] = out.loc[one, "detail"] + "name → " + _describe(unique.loc[one])
        for col in cols:
            out.loc[one, col] = unique.loc[one, col]
        zero = n.index[n == 0]
        out.loc[zero, "detail"] = out.loc[zero, "detail"] + "no name match"
        many = n.index[n > 1]
        if len(many):
            amb = cands[cands["query"].isin(many)]
            amb = amb.assign(_d=_describe(amb), _rank=amb.groupby("query").cumcount())
            listed = amb[amb["_rank"] < MAX_CANDIDATES].groupby("query")["_d"].agg("; ".join)
            more = (n[many] - MAX_CANDIDATES).clip(lower=0)
            tail = pd.Series("", index=many, dtype="string").mask(
                more > 0, " and " + more.astype("string") + " more"
            )
            out.loc[many, "method"] = "ambiguous"
            out.loc[many, "detail"] = (
                out.loc[many, "detail"]
                + n[many].astype("string")
                + " name candidates: "
                + listed.reindex(many).astype("string")
                + tail
            )
    return out


def stratum_column(category: pd.Series, population: pd.Series) -> pd.Series:
    """Stratum of each (category, population): a ``Categorical`` over :data:`STRATA`.

    Communes are split by population; ``<NA>`` for a commune of unknown population.
    """
    cat = category.astype("string")
    stratum = cat.where(cat.isin(STRATA), "autre").mask(
        cat == "commune", commune_strata(population)
    )
    return pd.Series(pd.Categorical(stratum, categories=list(STRATA)), index=category.index)


def enrich(
    responses: pd.DataFrame,
    identity: pd.DataFrame | None = None,
    reference: Reference | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add ``category``, ``population``, ``region_code`` and ``stratum`` to ``responses``.

    Returns ``(enriched, report)``: ``enriched`` is a copy of ``responses`` (same rows, same
    order, same index; existing columns of those names are replaced), ``report`` has one row per
    response, sorted by ``response_id``: ``response_id``, ``method``, ``detail``. See the module
    docstring for the rules.
    """
    keys = _check_ids(responses, "responses")
    from_export = "category_raw" in responses.columns and bool(
        (responses["category_raw"].astype("string").str.strip().fillna("") != "").any()
    )
    if not from_export and identity is None:
        raise EnrichError(
            "responses: no 'category_raw' values and no identity table; expected the export's "
            "own category (category_raw) or an identity (response_id, structure_name, siret)"
        )
    ref = reference or load_reference()
    idx = pd.Index(keys, name="response_id")
    ident = identify(identity, ref) if identity is not None else None
    if ident is not None:
        ident = ident.reindex(idx)
        ident["method"] = ident["method"].fillna("unmatched")
        ident["detail"] = ident["detail"].fillna("no identity row")
    matched = (
        ident["method"].isin(["siren", "name"]).fillna(False).astype(bool)
        if ident is not None
        else pd.Series(False, index=idx)
    )

    if from_export:
        # the structure-type vocabulary (analysis.survey.values); ingestion refuses unknown
        # labels with their lines, a caller passing its own table gets "autre" for them
        category = (
            responses["category_raw"]
            .astype("string")
            .map(lambda v: values.structure_type(None if pd.isna(v) else v) or "autre")
            .astype("string")
            .set_axis(idx)
        )
        population = (
            _parse_population(responses["population_raw"], keys).set_axis(idx)
            if "population_raw" in responses.columns
            else pd.Series(pd.NA, index=idx, dtype="Int64")
        )
        region_code = pd.Series(pd.NA, index=idx, dtype="string")
        label = responses["category_raw"].astype("string").fillna("").set_axis(idx)
        method = pd.Series("export", index=idx, dtype="string")
        detail = (
            "export category "
            + label.mask(label.str.strip() == "", "(empty)")
            + " → "
            + category
            + ", population "
            + population.astype("string").fillna("unknown")
        )
        if ident is not None:
            agree = matched & (ident["category"] == category).fillna(False).astype(bool)
            fill = agree & population.isna() & ident["population"].notna()
            population = population.mask(fill, ident["population"])
            region_code = region_code.mask(agree, ident["region_code"])
            pop_differs = (
                agree & ~fill & (population != ident["population"]).fillna(False).astype(bool)
            )
            check = "; reference: " + ident["detail"]
            check = check.mask(agree, check + " — same category")
            check = check.mask(matched & ~agree, check + " — category differs")
            check = check.mask(fill, check + ", population taken from the reference")
            check = check.mask(pop_differs, check + ", population differs")
            detail = detail + check
        no_pop = (category == "commune") & population.isna()
        category = category.mask(no_pop, "autre")
        detail = detail.mask(no_pop, detail + "; commune without population: counted as autre")
    else:
        category = ident["category"].where(matched, "autre").astype("string")
        population = ident["population"].where(matched, pd.NA).astype("Int64")
        region_code = ident["region_code"].where(matched, pd.NA).astype("string")
        method = ident["method"].astype("string")
        detail = ident["detail"].astype("string")
        no_pop = (category == "commune") & population.isna()
        category = category.mask(no_pop, "autre")
        detail = detail.mask(no_pop, detail + "; commune without population: counted as autre")

    # who answered: one identity per response (analysis.survey.identity), for the cleaning
    # rule's "one response per structure" whatever identifying columns the export carries
    def aligned(col: str) -> pd.Series | None:
        if identity is None or col not in identity.columns:
            return None
        return identity[col].set_axis(pd.Index(_key(identity["response_id"]))).reindex(idx)

    resolved = identity_mod.resolve(
        (
            responses["structure_key"].astype("string").set_axis(idx)
            if "structure_key" in responses.columns
            else pd.Series(pd.NA, index=idx, dtype="string")
        ),
        category,
        ident[["method", "code", "category"]] if ident is not None else None,
        aligned("siret"),
        aligned("structure_name"),
    )

    enriched = responses.copy()
    enriched["identity_key"] = pd.array(resolved["identity_key"].to_numpy(), dtype="string")
    enriched["identified_by"] = pd.array(resolved["identified_by"].to_numpy(), dtype="string")
    enriched["category"] = category.to_numpy()
    enriched["category"] = enriched["category"].astype("string")
    enriched["population"] = pd.array(population.to_numpy(), dtype="Int64")
    enriched["region_code"] = pd.array(region_code.to_numpy(), dtype="string")
    enriched["stratum"] = stratum_column(enriched["category"], enriched["population"])

    report = pd.DataFrame(
        {
            "response_id": responses["response_id"].to_numpy(),
            "method": method.to_numpy(),
            "detail": detail.to_numpy(),
        }
    ).astype({"method": "string", "detail": "string"})
    report = report.sort_values("response_id", kind="mergesort").reset_index(drop=True)
    return enriched, report
