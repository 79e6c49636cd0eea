"""What a cell of a field export means: empty cells, structure types, populations.

One definition of each, used by ingestion (which knows the file, line and heading to name in
an error), by enrichment and by the cleaning rule.

**Empty cell** — a cell holding nothing but white space: spaces, tabs, line breaks, no-break
spaces (U+00A0, U+202F), other Unicode spaces, zero-width spaces (U+200B) and byte-order marks
(U+FEFF). :func:`is_blank` tells one; :data:`NOT_SHOWN` (``N/A``) is LimeSurvey's "not shown"
and is missing too when answers are read, but it is not an *empty* cell for the cleaning rule.

**Structure type** — :func:`structure_type` maps the export's structure-type label (the
authors' enrichment column) to a category through :data:`STRUCTURE_TYPES` and
:data:`STRUCTURE_PREFIXES`: case, accents, apostrophes, hyphens, plurals and surrounding
spaces do not matter; institutional names are understood ("Conseil départemental",
"Communauté de communes du …", "Communauté d'agglomération", "Communauté urbaine", "Région
Bretagne", "Métropole de Lyon"). An empty label is ``autre`` (the published tables count it so),
and so are the labels listed under ``autre``. Anything else is *unknown* (``None``): the caller
refuses it with its lines.

**Population** — :func:`parse_populations` reads whole numbers in every usual convention:
``12000``, ``12 000`` (space, no-break or narrow no-break space, apostrophe as in ``12'000``),
``12,000`` and ``12.000`` (a single separator followed by exactly three digits is a thousands
separator), ``1,688,205``, ``1.688.205``, ``1.688.205,0``, ``1,688,205.00``, ``18554,0`` and
``18554.0`` (decimal zeros). A number with a non-zero fraction (``12,5``) is no population; a
cell like ``12,000`` in a column that also uses ``,`` as a *decimal* separator (``18554,0``)
is ambiguous (twelve or twelve thousand?): both are refused, with the reason.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

__all__ = [
    "BLANK",
    "NOT_SHOWN",
    "is_blank",
    "is_missing",
    "strip_blank",
    "fold_label",
    "structure_type",
    "STRUCTURE_TYPES",
    "STRUCTURE_PREFIXES",
    "CATEGORIES",
    "parse_population",
    "parse_populations",
    "PopulationError",
]

#: The characters an empty cell may hold (``str.isspace`` ones, zero-width space, BOM).
BLANK = re.compile(r"[\s\u200b\ufeff]*")
#: LimeSurvey's cell for a question not shown to the respondent.
NOT_SHOWN = "N/A"
CATEGORIES = ("commune", "epci", "metropole", "departement", "region", "autre")


def is_blank(cell: object) -> bool:
    """True for a cell holding only white space (any Unicode space, NBSP, zero-width)."""
    if cell is None:
        return True
    s = str(cell)
    return not s or BLANK.fullmatch(s) is not None


_EDGES = re.compile(r"^[\s\u200b\ufeff]+|[\s\u200b\ufeff]+$")


def strip_blank(cell: str) -> str:
    """The cell without the white space (as :func:`is_blank` defines it) around it."""
    return _EDGES.sub("", cell)


def is_missing(cell: object) -> bool:
    """An answer that is not there: an empty cell (:func:`is_blank`) or ``N/A``."""
    return is_blank(cell) or str(cell).strip() == NOT_SHOWN


# -- structure types ---------------------------------------------------------------------------
def fold_label(text: object) -> str:
    """Lower case, no accents, apostrophes/hyphens/dots as spaces, spaces collapsed."""
    s = unicodedata.normalize("NFKD", "" if text is None else str(text))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    s = re.sub(r"[’'`´\-_.,;:/()]", " ", s)
    return " ".join(s.split())


#: Whole labels (folded by :func:`fold_label`) → category.
STRUCTURE_TYPES: dict[str, str] = {
    # communes
    "commune": "commune",
    "communes": "commune",
    "commune nouvelle": "commune",
    "mairie": "commune",
    "ville": "commune",
    "municipalite": "commune",
    # EPCI à fiscalité propre (métropoles apart)
    "epci": "epci",
    "epcis": "epci",
    "epci a fiscalite propre": "epci",
    "intercommunalite": "epci",
    "intercommunalites": "epci",
    "communaute de communes": "epci",
    "communautes de communes": "epci",
    "communaute d agglomeration": "epci",
    "communautes d agglomeration": "epci",
    "communaute urbaine": "epci",
    "communautes urbaines": "epci",
    "cc": "epci",
    "ca": "epci",
    "cu": "epci",
    # métropoles
    "metropole": "metropole",
    "metropoles": "metropole",
    "eurometropole": "metropole",
    # départements
    "departement": "departement",
    "departements": "departement",
    "conseil departemental": "departement",
    "conseils departementaux": "departement",
    "conseil general": "departement",
    "collectivite europeenne d alsace": "departement",
    # régions
    "region": "region",
    "regions": "region",
    "conseil regional": "region",
    "conseils regionaux": "region",
    "collectivite de corse": "region",
    "collectivite territoriale de corse": "region",
    # counted as "Autre" in the published tables
    "autre": "autre",
    "autres": "autre",
    "gfp": "autre",
    "syndicat": "autre",
    "syndicat mixte": "autre",
    "etablissement public": "autre",
}
#: Label beginnings (folded, followed by a space and a name) → category, longest first:
#: "Communauté de communes du Pays Riolais", "Région Bretagne", "Département du Nord".
STRUCTURE_PREFIXES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        {
            "communaute de communes": "epci",
            "communaute d agglomeration": "epci",
            "communaute urbaine": "epci",
            "metropole": "metropole",
            "eurometropole": "metropole",
            "departement": "departement",
            "conseil departemental": "departement",
            "region": "region",
            "conseil regional": "region",
            "commune": "commune",
            "ville": "commune",
            "mairie": "commune",
            "syndicat": "autre",
        }.items(),
        key=lambda kv: -len(kv[0]),
    )
)


def structure_type(label: object) -> str | None:
    """The category of a structure-type label; ``autre`` for an empty one; None if unknown."""
    if is_blank(label):
        return "autre"
    key = fold_label(label)
    if key in STRUCTURE_TYPES:
        return STRUCTURE_TYPES[key]
    for prefix, category in STRUCTURE_PREFIXES:
        if key.startswith(prefix + " "):
            return category
    return None


# -- populations -------------------------------------------------------------------------------
class PopulationError(ValueError):
    """A population cell that is not a whole number in any convention (or is ambiguous)."""


_GROUP_SPACES = re.compile(r"[\s\u200b\ufeff'’]")
_DIGITS = re.compile(r"\d+")
_ONE_SEP = re.compile(r"(\d+)([.,])(\d+)")
_REPEATED = re.compile(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")
_BOTH = re.compile(r"(\d{1,3}(?:([.,])\d{3})*)([.,])(\d+)")


def _reading(cell: str) -> tuple[int, str | None, str | None]:
    """(value, separator used as decimal, separator used as thousands) of one cell."""
    s = _GROUP_SPACES.sub("", unicodedata.normalize("NFKC", cell))
    if _DIGITS.fullmatch(s):
        return int(s), None, None
    m = _ONE_SEP.fullmatch(s)
    if m:
        whole, sep, frac = m.groups()
        if len(frac) == 3 and len(whole) <= 3 and not whole.startswith("0"):
            return int(whole + frac), None, sep  # 12,000 / 12.000: thousands
        if set(frac) != {"0"}:
            raise PopulationError(
                f"not a whole number ({whole}{sep}{frac} reads as a fraction with {sep!r} as "
                "the decimal separator)"
            )
        return int(whole), sep, None  # 18554,0 / 18554.00
    m = _REPEATED.fullmatch(s)
    if m:
        return int(re.sub(r"[.,]", "", s)), None, m.group(1)  # 1,688,205 / 1.688.205
    m = _BOTH.fullmatch(s)
    if m and m.group(2) and m.group(2) != m.group(3):
        whole, thousands, dec, frac = m.groups()
        if set(frac) != {"0"}:
            raise PopulationError(f"not a whole number (decimals {frac!r})")
        return int(re.sub(r"[.,]", "", whole)), dec, thousands  # 1.688.205,0
    if re.fullmatch(r"-\s*\d.*", s):
        raise PopulationError("negative")
    raise PopulationError("not a number")


def parse_population(cell: object) -> int | None:
    """One population cell: None when empty; :class:`PopulationError` when unreadable."""
    if is_blank(cell):
        return None
    return _reading(str(cell))[0]


def parse_populations(
    cells: Sequence[object], where: Callable[[int], str] | None = None
) -> tuple[list[int | None], tuple[int, str, str] | None]:
    """Populations of a column; returns ``(values, error)`` where ``error`` is ``None`` or
    ``(position, cell, reason)`` of the first unreadable or ambiguous cell (positions are
    0-based in ``cells``; ``where(position)`` names another cell in a reason, e.g. its
    line). A cell read with ``x`` as thousands separator in a column where
    another cell uses ``x`` as decimal separator is ambiguous."""
    values: list[int | None] = []
    decimal_at: dict[str, int] = {}
    thousands_single: list[tuple[int, str]] = []  # 12,000-like cells: (position, separator)
    for k, cell in enumerate(cells):
        if is_blank(cell):
            values.append(None)
            continue
        try:
            value, dec, thousands = _reading(str(cell))
        except PopulationError as exc:
            return values, (k, str(cell), str(exc))
        if dec is not None:
            decimal_at.setdefault(dec, k)
        if thousands is not None and str(cell).count(thousands) == 1 and dec is None:
            thousands_single.append((k, thousands))
        values.append(value)
    for k, sep in thousands_single:
        if sep in decimal_at:
            other = decimal_at[sep]
            return values, (
                k,
                str(cells[k]),
                f"ambiguous: {sep!r} is a thousands separator here but a decimal separator in "
                f"{str(cells[other])!r} ({where(other) if where else f'row {other + 1}'})",
            )
    return values, None
