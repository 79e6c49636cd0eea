"""Who answered: one identity per response, whatever identifying columns the export carries.

The cleaning rule keeps one response per structure. A structure is recognised, in this order,
by:

1. ``structure_key`` — the pseudonymised key of the authors' enrichment (the published rule);
2. ``reference`` — the structure of the reference of collectivités it was matched to (by its
   SIREN/SIRET, else by its name: :func:`analysis.survey.enrich.identify`), so that a response
   giving a SIRET and another giving only the name of the same commune are one structure;
3. ``siren`` — a well-formed SIREN (9 digits, or the first 9 of a 14-digit SIRET) that the
   reference does not know;
4. ``name`` — the structure name, normalised (case, accents, punctuation, spaces:
   :func:`analysis.survey.values.fold_label`), together with its category;
5. ``none`` — nothing to recognise it by: the response is its own structure.

:func:`resolve` returns, per response, the ``identity_key`` (internal: it may hold a SIREN or a
name, so it is never written) and ``identified_by`` (one of :data:`IDENTIFIED_BY`, written in the
drop log and counted in the metadata).
"""

from __future__ import annotations

import hashlib

import pandas as pd

from analysis.survey.values import fold_label, is_blank

__all__ = ["IDENTIFIED_BY", "resolve", "siren_of"]

IDENTIFIED_BY = ("structure_key", "reference", "siren", "name", "none")


def siren_of(siret: object) -> str | None:
    """The SIREN of a SIRET or SIREN cell (spaces and dots ignored); None if malformed."""
    if siret is None or (not isinstance(siret, str) and pd.isna(siret)):
        return None
    digits = "".join(ch for ch in str(siret) if not ch.isspace() and ch not in ".-")
    if digits.isdigit() and len(digits) in (9, 14):
        return digits[:9]
    return None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def resolve(
    structure_key: pd.Series,
    category: pd.Series,
    matched: pd.DataFrame | None = None,
    siret: pd.Series | None = None,
    name: pd.Series | None = None,
) -> pd.DataFrame:
    """``identity_key`` and ``identified_by`` of each response (same index as the inputs).

    ``matched`` (optional) holds, per response, ``method`` (``siren``/``name`` when the
    reference matched) and the matched ``code``; ``siret`` and ``name`` are the identity
    columns (optional, missing values allowed); ``category`` is the resolved category.
    """
    idx = structure_key.index
    keys: list[str | None] = []
    how: list[str] = []
    sk = structure_key.astype("string")
    cat = category.astype("string").reindex(idx)
    m_method = (
        matched["method"].astype("string").reindex(idx)
        if matched is not None
        else pd.Series(pd.NA, index=idx, dtype="string")
    )
    m_code = (
        matched["code"].astype("string").reindex(idx)
        if matched is not None
        else pd.Series(pd.NA, index=idx, dtype="string")
    )
    m_cat = (
        matched["category"].astype("string").reindex(idx)
        if matched is not None
        else pd.Series(pd.NA, index=idx, dtype="string")
    )
    sirets = siret.reindex(idx) if siret is not None else pd.Series(pd.NA, index=idx)
    names = name.reindex(idx) if name is not None else pd.Series(pd.NA, index=idx)
    for i in idx:
        key = sk.at[i]
        if not pd.isna(key) and not is_blank(key):
            keys.append(f"key:{str(key).strip()}")
            how.append("structure_key")
            continue
        method = m_method.at[i]
        if not pd.isna(method) and method in ("siren", "name") and not pd.isna(m_code.at[i]):
            keys.append(f"ref:{m_cat.at[i]}:{m_code.at[i]}")
            how.append("reference")
            continue
        siren = siren_of(sirets.at[i])
        if siren:
            keys.append(f"siren:{siren}")
            how.append("siren")
            continue
        n = names.at[i]
        if not pd.isna(n) and not is_blank(n) and fold_label(n):
            keys.append(f"name:{cat.at[i]}:{_digest(fold_label(n))}")
            how.append("name")
            continue
        keys.append(None)
        how.append("none")
    return pd.DataFrame(
        {
            "identity_key": pd.array(keys, dtype="string"),
            "identified_by": pd.array(how, dtype="string"),
        },
        index=idx,
    )
