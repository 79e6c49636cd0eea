"""The published cleaning rule: complete responses, one per structure, and the drop log.

1. A response is *complete* when it answered the completion question (2023: the numérique
   responsable question, the last one of the questionnaire).
2. Among complete responses, one per structure: the one with the fewest empty answer
   cells, the first in file order on ties. A structure is its ``identity_key`` when enrichment
   resolved one (:mod:`analysis.survey.identity`: the pseudonymised ``structure_key``, else the
   structure of the reference matched by SIRET or name, else the SIREN, else the normalised
   name and type), otherwise its ``structure_key``. Responses without one are kept, each its
   own structure. When enrichment said how each structure was identified (``identified_by``),
   the drop log says it too.

Empty cells (white space only, no-break spaces included: :func:`analysis.survey.values.
is_blank`) are counted as the raw export shows them, over the answer columns (single,
matrix, ranking, numeric and free-text columns: empty or ``N/A``; multiple-choice cells are
never empty in a LimeSurvey export: ``Oui``, ``Non`` or ``N/A``, so they count for nothing).
"""

from __future__ import annotations

import pandas as pd

from analysis.survey.codebook import Codebook

__all__ = ["CleanError", "clean", "empty_cells", "REASONS", "COMPLETION_QUESTION"]

#: Drop reasons, in the order the rule applies them.
REASONS = ("incomplete", "duplicate_structure")
#: The question whose answer makes a response complete.
COMPLETION_QUESTION = "numerique_responsable"


class CleanError(ValueError):
    """The responses cannot be cleaned (missing or malformed columns)."""


def empty_cells(responses: pd.DataFrame, codebook: Codebook) -> pd.Series:
    """Empty cells per response: over every column of the export when ingestion counted them
    (``empty_cells``, the published rule), otherwise over the typed answer columns."""
    if "empty_cells" in responses.columns:
        return responses["empty_cells"].astype("int64")
    cols = [
        cid
        for q in codebook.of_type("single", "matrix", "ranking", "numeric", "text")
        for cid in q.column_ids
        if cid in responses.columns
    ]
    return responses[cols].isna().sum(axis=1).astype("int64")


def clean(
    responses: pd.DataFrame,
    codebook: Codebook,
    *,
    completion_question: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the cleaning rule; return (kept responses, drop log ``response_id, reason``).

    Both are sorted by ``response_id``; ``responses`` must be in file order (as read by
    ``analysis.survey.ingest.read_export``), which breaks ties between duplicates. The
    completion question is the codebook's ``completion`` (default :data:`COMPLETION_QUESTION`).
    """
    completion_question = (
        completion_question or getattr(codebook, "completion", None) or COMPLETION_QUESTION
    )
    for col in ("response_id", "structure_key", completion_question):
        if col not in responses.columns:
            raise CleanError(
                f"responses of edition {codebook.edition}: column {col!r} is missing; "
                f"expected the columns of analysis.survey.ingest.read_export"
            )
    ids = responses["response_id"]
    if ids.isna().any() or ids.duplicated().any():
        bad = ids[ids.isna() | ids.duplicated()].iloc[0]
        raise CleanError(
            f"responses of edition {codebook.edition}: column 'response_id' has a missing or "
            f"duplicated value {bad!r}; expected one row per response"
        )
    complete = responses[completion_question].notna().to_numpy()
    key = "identity_key" if "identity_key" in responses.columns else "structure_key"
    frame = pd.DataFrame(
        {
            "position": range(len(responses)),
            "key": responses[key].astype("string").to_numpy(),
            "empty": empty_cells(responses, codebook).to_numpy(),
        }
    )[complete]
    keyed = frame[frame["key"].notna()]
    best = keyed.sort_values(["empty", "position"], kind="stable").drop_duplicates("key")
    kept_pos = sorted(set(best["position"]) | set(frame.loc[frame["key"].isna(), "position"]))
    duplicate_pos = sorted(set(keyed["position"]) - set(best["position"]))
    incomplete_pos = [i for i, c in enumerate(complete) if not c]

    kept = responses.iloc[kept_pos].sort_values("response_id", kind="stable").reset_index(drop=True)
    drops = pd.DataFrame(
        {
            "response_id": pd.concat(
                [ids.iloc[incomplete_pos], ids.iloc[duplicate_pos]], ignore_index=True
            ).astype("int64"),
            "reason": pd.Categorical(
                ["incomplete"] * len(incomplete_pos) + ["duplicate_structure"] * len(duplicate_pos),
                categories=list(REASONS),
            ),
        }
    )
    if "identified_by" in responses.columns:
        how = responses["identified_by"].astype("string")
        drops["identified_by"] = pd.concat(
            [how.iloc[incomplete_pos], how.iloc[duplicate_pos]], ignore_index=True
        ).to_numpy()
    drops = drops.sort_values("response_id", kind="stable").reset_index(drop=True)
    return kept, drops
