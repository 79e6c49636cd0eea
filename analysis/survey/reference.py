"""The reference of French collectivités and the national frame of each edition.

The reference ships with the project in ``data/reference/`` (built by
``scripts/build_reference.py`` from the npm package ``@etalab/decoupage-administratif``, MIT code
and Licence Ouverte data; see ``data/reference/README.md``): communes, EPCI à fiscalité propre
(métropoles included), départements and régions of metropolitan France and the DROM, with their
codes, SIREN (none for départements and régions: the package has none), names, populations
(*population totale*) and région codes. Loading it needs neither npm nor a network.

Lookups::

    ref = load_reference()
    ref.lookup_siren("21750001600019")   # SIRET → Match(category="commune", name="Paris", …)
    ref.match_name("Communauté de communes du Trièves")

Name matching compares normalised names: accents, case, punctuation and hyphens folded,
``St``/``Ste`` → ``saint``/``sainte``, leading articles dropped, and type words recognised
(``Commune de``, ``Ville de``, ``Mairie de``; ``Communauté de communes``, ``CC``, ``CA``,
``Agglo``, ``… Métropole``; ``Département de``, ``Conseil départemental de``; ``Région``,
``Conseil régional de``, ``Collectivité de``), which both restrict the candidates to that kind
of structure and are removed before comparing. An exact match of the whole normalised name is
preferred to a match after removal (``Saint-Étienne`` is the commune, ``Saint-Étienne Métropole``
the métropole); several candidates at the same level are returned together (ambiguous).

The *frame* of an edition (``data/frames/<edition>.yaml``) is the number of collectivités per
stratum of :data:`analysis.survey.strata.STRATA` (``autre`` excepted): :func:`load_frame` reads it,
:func:`compute_frame` computes it from the reference and :func:`write_frame` records it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analysis.survey.strata import COMMUNE_THRESHOLDS, STRATA, stratum_of

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = ROOT / "data" / "reference"
FRAMES_DIR = ROOT / "data" / "frames"
TABLES = ("communes", "epci", "departements", "regions")
#: Categories of the reference, in report order (``autre`` is never in the reference).
CATEGORIES = ("commune", "epci", "metropole", "departement", "region")
#: Strata of a frame: every stratum but ``autre``.
FRAME_STRATA: tuple[str, ...] = tuple(s for s in STRATA if s != "autre")

_STRING_COLUMNS = {
    "communes": ("code", "siren", "nom", "departement", "region", "zone", "epci"),
    "epci": ("siren", "nom", "type", "category", "departement", "region"),
    "departements": ("code", "siren", "nom", "region", "zone"),
    "regions": ("code", "siren", "nom", "zone"),
}
_INT_COLUMNS = {
    "communes": ("population",),
    "epci": ("members", "population"),
    "departements": ("population",),
    "regions": ("population",),
}


class ReferenceError(ValueError):  # noqa: A001 - shadows the builtin in this module only
    """Base of this module's errors (``analysis.survey.reference.ReferenceError``, a user error)."""


class ReferenceDataError(ReferenceError):
    """The reference files are missing or malformed, or a lookup was given a malformed value."""


class FrameError(ReferenceError):
    """A frame file is missing or malformed, or would be overwritten."""


# -- matches -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """One structure of the reference."""

    category: str  # commune, epci, metropole, departement, region
    code: str  # INSEE code (commune, département, région) or SIREN (EPCI)
    name: str
    siren: str | None = None
    population: int | None = None
    region_code: str | None = None
    departement_code: str | None = None

    @property
    def stratum(self) -> str | None:
        """Stratum of :data:`analysis.survey.strata.STRATA` (None for a commune of unknown population)."""
        return stratum_of(self.category, self.population)


def _match_of(row: dict[str, Any]) -> Match:
    def opt(value: Any) -> Any:
        return None if value is None or value is pd.NA or value != value else value

    pop = opt(row["population"])
    return Match(
        category=str(row["category"]),
        code=str(row["code"]),
        name=str(row["name"]),
        siren=opt(row["siren"]),
        population=None if pop is None else int(pop),
        region_code=opt(row["region_code"]),
        departement_code=opt(row["departement_code"]),
    )


# -- normalisation -----------------------------------------------------------------------------

#: Type words at the start of a name: hint group → alternatives (normalised, longest first).
_PREFIXES: dict[str, tuple[str, ...]] = {
    "commune": ("commune nouvelle", "commune", "ville", "mairie", "municipalite"),
    "intercommunalite": (
        "communaute de communes",
        "communaute des communes",
        "communaute de commune",
        "communaute d agglomeration",
        "communaute agglomeration",
        "communaute urbaine",
        "metropole europeenne",
        "eurometropole",
        "metropole",
        "agglomeration",
        "agglo",
        "com com",
        "comcom",
        "cdc",
        "cda",
        "cc",
        "ca",
        "cu",
    ),
    "departement": ("conseil departemental", "conseil general", "departement"),
    "region": (
        "conseil regional",
        "region",
        "collectivite territoriale",
        "collectivite",
    ),
}
#: Type words at the end of a name (intercommunalités: ``Metz Métropole``, ``… Agglomération``).
_SUFFIXES = ("metropole", "agglomeration", "agglo")
#: Categories a hint group allows.
HINT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "commune": ("commune",),
    "intercommunalite": ("epci", "metropole"),
    "departement": ("departement",),
    "region": ("region",),
    **{c: (c,) for c in ("epci", "metropole")},
}
_ARTICLES = r"^(?:de la|de l|du|des|de|d|les|le|la|l)\s+(?=\S)"
_ABBREVIATIONS = {
    r"\bst\b": "saint",
    r"\bste\b": "sainte",
    r"\bsts\b": "saints",
    r"\bstes\b": "saintes",
}


def _fold(names: pd.Series) -> pd.Series:
    """Lower case ASCII words separated by single spaces; ``St`` → ``saint``."""
    s = names.astype("string").fillna("")
    for src, dst in (("œ", "oe"), ("Œ", "OE"), ("æ", "ae"), ("Æ", "AE"), ("&", " et ")):
        s = s.str.replace(src, dst, regex=False)
    s = s.str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True).str.lower()
    s = s.str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()
    for pattern, repl in _ABBREVIATIONS.items():
        s = s.str.replace(pattern, repl, regex=True)
    return s


def _strip_articles(s: pd.Series) -> pd.Series:
    for _ in range(2):
        s = s.str.replace(_ARTICLES, "", regex=True)
    return s


def name_keys(names: pd.Series, types: bool = True) -> pd.DataFrame:
    """Normalised keys of ``names`` (index kept): ``full``, ``core`` and ``hint``.

    ``full`` is the folded name; ``core`` the name without its type words (when ``types``) and
    leading articles; ``hint`` the hint group the type words point to (``commune``,
    ``intercommunalite``, ``departement``, ``region``) or ``<NA>``.
    """
    full = _fold(names)
    core = full.copy()
    hint = pd.Series(pd.NA, index=names.index, dtype="string")
    if types:
        for group, words in _PREFIXES.items():
            rx = r"^(?:" + "|".join(words) + r")\s+(?=\S)"
            hit = core.str.contains(rx, regex=True) & hint.isna()
            hint = hint.mask(hit, group)
            core = core.mask(hit, core.str.replace(rx, "", regex=True))
        rx = r"(?<=\S)\s+(?:" + "|".join(_SUFFIXES) + r")$"
        hit = core.str.contains(rx, regex=True)
        hint = hint.mask(hit & hint.isna(), "intercommunalite")
        core = core.mask(hit, core.str.replace(rx, "", regex=True))
    core = _strip_articles(core)
    return pd.DataFrame({"full": full, "core": core, "hint": hint}, index=names.index)


def normalise_name(name: str) -> str:
    """The normalised core of one name (see :func:`name_keys`): ``"Ville du Mans"`` → ``"mans"``."""
    return str(name_keys(pd.Series([name]))["core"].iloc[0])


def clean_siren(values: pd.Series) -> pd.Series:
    """SIREN of each SIREN (9 digits) or SIRET (14 digits; spaces, dots, dashes allowed).

    ``<NA>`` where the value is empty or has another number of digits.
    """
    s = values.astype("string").str.replace(r"[\s.\-\u00a0\u202f]", "", regex=True)
    ok = s.str.fullmatch(r"\d{9}|\d{14}").fillna(False).astype(bool)
    return s.str.slice(0, 9).where(ok, pd.NA).astype("string")


def commune_strata(population: pd.Series) -> pd.Series:
    """Commune stratum of each population (string; ``<NA>`` when the population is unknown)."""
    bounds = sorted(COMMUNE_THRESHOLDS)  # ascending (lower bound, stratum)
    pop = pd.to_numeric(population, errors="coerce").astype("Float64")
    codes = np.searchsorted([b for b, _ in bounds], pop.fillna(-1).to_numpy(float), side="right")
    labels = np.array([pd.NA] + [code for _, code in bounds], dtype=object)
    out = pd.Series(labels[codes], index=population.index, dtype="string")
    return out.where(pop.notna() & (pop >= 0), pd.NA)


# -- the reference -----------------------------------------------------------------------------

_ENTITY_COLUMNS = (
    "uid",
    "category",
    "code",
    "siren",
    "name",
    "population",
    "region_code",
    "departement_code",
)


@dataclass(eq=False)
class Reference:
    """The reference tables (do not mutate them: :func:`load_reference` caches this object)."""

    communes: pd.DataFrame
    epci: pd.DataFrame
    departements: pd.DataFrame
    regions: pd.DataFrame
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """``<package>@<version>`` of the npm package the reference was built from."""
        return f"{self.provenance.get('package', '?')}@{self.provenance.get('version', '?')}"

    @cached_property
    def entities(self) -> pd.DataFrame:
        """Every structure in one table: ``uid`` (``category:code``), category, code, SIREN, …"""
        c, e, d, r = self.communes, self.epci, self.departements, self.regions
        parts = [
            pd.DataFrame(
                {
                    "category": "commune",
                    "code": c["code"],
                    "siren": c["siren"],
                    "name": c["nom"],
                    "population": c["population"],
                    "region_code": c["region"],
                    "departement_code": c["departement"],
                }
            ),
            pd.DataFrame(
                {
                    "category": e["category"],
                    "code": e["siren"],
                    "siren": e["siren"],
                    "name": e["nom"],
                    "population": e["population"],
                    "region_code": e["region"],
                    "departement_code": e["departement"],
                }
            ),
            pd.DataFrame(
                {
                    "category": "departement",
                    "code": d["code"],
                    "siren": d["siren"],
                    "name": d["nom"],
                    "population": d["population"],
                    "region_code": d["region"],
                    "departement_code": d["code"],
                }
            ),
            pd.DataFrame(
                {
                    "category": "region",
                    "code": r["code"],
                    "siren": r["siren"],
                    "name": r["nom"],
                    "population": r["population"],
                    "region_code": r["code"],
                    "departement_code": pd.Series(pd.NA, index=r.index, dtype="string"),
                }
            ),
        ]
        out = pd.concat(parts, ignore_index=True)
        out["uid"] = out["category"] + ":" + out["code"]
        for col in _ENTITY_COLUMNS:
            if col != "population":
                out[col] = out[col].astype("string")
        out["population"] = out["population"].astype("Int64")
        return out.loc[:, list(_ENTITY_COLUMNS)]

    @cached_property
    def _by_siren(self) -> pd.DataFrame:
        ent = self.entities
        return ent[ent["siren"].notna()].set_index("siren", drop=False)

    @cached_property
    def _name_index(self) -> pd.DataFrame:
        ent = self.entities
        keys = name_keys(ent["name"], types=False)
        # EPCI names carry their type ("CC …", "… Métropole"): remove it from their core.
        inter = ent["category"].isin(["epci", "metropole"])
        keys.loc[inter, "core"] = name_keys(ent.loc[inter, "name"])["core"]
        full = pd.DataFrame({"key": keys["full"], "tier": 1, "uid": ent["uid"]})
        core = pd.DataFrame({"key": keys["core"], "tier": 2, "uid": ent["uid"]})
        index = pd.concat([full, core], ignore_index=True)
        index = index[index["key"] != ""].drop_duplicates()
        return index.merge(ent, on="uid", how="left")

    # -- SIREN -------------------------------------------------------------------------------

    def lookup_sirens(self, values: pd.Series) -> pd.DataFrame:
        """Vectorised SIREN/SIRET lookup: one row per value (index kept).

        Columns ``siren`` (cleaned, ``<NA>`` when malformed or empty) and the entity columns
        (``uid``, ``category``, ``name``, …; ``<NA>`` when the SIREN is not in the reference).
        """
        siren = clean_siren(values)
        found = self._by_siren.drop(columns="siren").reindex(siren.to_numpy())
        found.index = values.index
        found.insert(0, "siren", siren)
        return found

    def lookup_siren(self, siren_or_siret: str) -> Match | None:
        """The structure of a SIREN (9 digits) or SIRET (14 digits); None when unknown.

        Raises :class:`ReferenceDataError` when the value is not 9 or 14 digits.
        """
        row = self.lookup_sirens(pd.Series([siren_or_siret], dtype="string")).iloc[0].to_dict()
        if pd.isna(row["siren"]):
            raise ReferenceDataError(
                f"SIREN/SIRET {siren_or_siret!r}: expected 9 digits (SIREN) or 14 digits (SIRET)"
            )
        if pd.isna(row["uid"]):
            return None
        return _match_of(row)

    # -- names -------------------------------------------------------------------------------

    def match_names(
        self, names: pd.Series, category_hint: str | pd.Series | None = None
    ) -> pd.DataFrame:
        """Vectorised name matching: the candidates of each name, one row per (name, candidate).

        Columns: ``query`` (the index label of ``names``), ``tier`` (1: whole name, 2: name
        without type words and articles) and the entity columns. Only the best tier of each
        name is kept; a name with several rows is ambiguous, a name without rows unmatched.
        ``category_hint`` (one value or a Series aligned on ``names``) restricts the candidates
        to a category (``commune``, ``epci``, ``metropole``, ``departement``, ``region``) or a
        hint group (``intercommunalite``); otherwise the type words of the name do.
        """
        keys = name_keys(names)
        if category_hint is not None:
            hint = (
                category_hint.reindex(names.index).astype("string")
                if isinstance(category_hint, pd.Series)
                else pd.Series(category_hint, index=names.index, dtype="string")
            )
            bad = hint.dropna()[~hint.dropna().isin(list(HINT_CATEGORIES))]
            if len(bad):
                raise ReferenceDataError(
                    f"category hint {bad.iloc[0]!r} (name {names.loc[bad.index[0]]!r}): expected "
                    f"one of {', '.join(HINT_CATEGORIES)}"
                )
            keys["hint"] = hint.fillna(keys["hint"])
        queries = keys.assign(query=keys.index)
        queries = queries[queries["core"] != ""]
        index = self._name_index
        hits = pd.concat(
            [
                queries[["query", "full", "hint"]].merge(
                    index[index["tier"] == 1], left_on="full", right_on="key"
                ),
                queries[["query", "core", "hint"]].merge(
                    index[index["tier"] == 2], left_on="core", right_on="key"
                ),
            ],
            ignore_index=True,
        )
        allowed = pd.DataFrame(
            [(h, c) for h, cats in HINT_CATEGORIES.items() for c in cats],
            columns=["hint", "category"],
        ).astype("string")
        hinted = hits.merge(allowed, on=["hint", "category"], how="inner")
        hits = pd.concat([hits[hits["hint"].isna()], hinted], ignore_index=True)
        best = hits.groupby("query", sort=False)["tier"].transform("min")
        hits = hits[hits["tier"] == best].drop_duplicates(["query", "uid"])
        order = {c: i for i, c in enumerate(CATEGORIES)}
        hits = hits.assign(_order=hits["category"].map(order))
        hits = hits.sort_values(["query", "_order", "code"], kind="mergesort")
        return hits.loc[:, ["query", "tier", *_ENTITY_COLUMNS]].reset_index(drop=True)

    def match_name(self, name: str, category_hint: str | None = None) -> list[Match]:
        """Candidates for one name (empty: unmatched; several: ambiguous)."""
        hits = self.match_names(pd.Series([name], dtype="string"), category_hint)
        return [_match_of(row) for row in hits.to_dict("records")]


def _read_table(directory: Path, name: str) -> pd.DataFrame:
    path = directory / f"{name}.csv.gz"
    if not path.exists():
        raise ReferenceDataError(
            f"{path}: not found; expected the reference built by scripts/build_reference.py"
        )
    strings = _STRING_COLUMNS[name]
    ints = _INT_COLUMNS[name]
    df = pd.read_csv(
        path,
        dtype=dict.fromkeys((*strings, *ints), "string"),
        keep_default_na=False,
        na_values=[""],
    )
    missing = [c for c in (*strings, *ints) if c not in df.columns]
    if missing:
        raise ReferenceDataError(
            f"{path}: column {missing[0]!r} missing; expected {list(strings + ints)}"
        )
    for col in ints:
        bad = df[col].dropna()[~df[col].dropna().str.fullmatch(r"\d+")]
        if len(bad):
            raise ReferenceDataError(
                f"{path}: row {bad.index[0] + 2}, column {col!r}: {bad.iloc[0]!r}; expected an integer"
            )
        df[col] = df[col].astype("Int64")
    return df


@lru_cache(maxsize=4)
def _load(directory: str) -> Reference:
    path = Path(directory)
    version_path = path / "VERSION.json"
    if not version_path.exists():
        raise ReferenceDataError(
            f"{version_path}: not found; expected the reference built by scripts/build_reference.py"
        )
    provenance = json.loads(version_path.read_text(encoding="utf-8"))
    tables = {name: _read_table(path, name) for name in TABLES}
    return Reference(**tables, provenance=provenance)


def load_reference(directory: str | os.PathLike | None = None) -> Reference:
    """The reference (``data/reference/`` by default), loaded once per directory and cached."""
    return _load(str(Path(directory or REFERENCE_DIR).resolve()))


def lookup_siren(siren_or_siret: str, reference: Reference | None = None) -> Match | None:
    """:meth:`Reference.lookup_siren` on ``reference`` (default: :func:`load_reference`)."""
    return (reference or load_reference()).lookup_siren(siren_or_siret)


def match_name(
    name: str, category_hint: str | None = None, reference: Reference | None = None
) -> list[Match]:
    """:meth:`Reference.match_name` on ``reference`` (default: :func:`load_reference`)."""
    return (reference or load_reference()).match_name(name, category_hint)


# -- frames ------------------------------------------------------------------------------------


def compute_frame(reference: Reference | None = None) -> dict[str, int]:
    """Number of collectivités per frame stratum (:data:`FRAME_STRATA`) in the reference.

    Communes split by population totale; EPCI = communautés de communes, d'agglomération and
    urbaines; métropoles = the 21 EPCI métropoles *and* the Métropole de Lyon (a collectivité
    à statut particulier, type ``MET69``); départements and régions of metropolitan France and
    the DROM, as the package lists them.
    """
    ref = reference or load_reference()
    strata = commune_strata(ref.communes["population"])
    if strata.isna().any():
        row = ref.communes[strata.isna()].iloc[0]
        raise ReferenceDataError(
            f"reference communes: commune {row['code']} ({row['nom']}) has no population; "
            "expected one to place it in a stratum"
        )
    counts = dict.fromkeys(FRAME_STRATA, 0)
    counts.update({k: int(v) for k, v in strata.value_counts().items()})
    epci = ref.epci["category"].value_counts()
    counts["epci"] = int(epci.get("epci", 0))
    counts["metropole"] = int(epci.get("metropole", 0))
    counts["departement"] = len(ref.departements)
    counts["region"] = len(ref.regions)
    return counts


@dataclass(frozen=True)
class Frame:
    """The national frame of an edition: number of collectivités per stratum."""

    edition: str
    counts: dict[str, int]
    total: int
    source: str
    note: str = ""
    reference: str | None = None  # reference version the frame was computed from
    path: Path | None = None

    def __getitem__(self, stratum: str) -> int:
        return self.counts[stratum]


def _frame_path(edition: int | str, directory: str | os.PathLike | None) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", str(edition)):
        raise FrameError(
            f"edition {edition!r}: expected a year such as 2023 (letters, digits, -, _)"
        )
    return Path(directory or FRAMES_DIR) / f"{edition}.yaml"


def load_frame(edition: int | str, directory: str | os.PathLike | None = None) -> Frame:
    """Read and check ``data/frames/<edition>.yaml``."""
    path = _frame_path(edition, directory)
    if not path.exists():
        raise FrameError(
            f"{path}: no frame for edition {edition}; create it with "
            f"`barometre frame --edition {edition}` (computed from the reference)"
        )
    with path.open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    if not isinstance(raw, dict):
        raise FrameError(f"{path}: expected a mapping with keys edition, source, counts, total")
    if str(raw.get("edition")) != str(edition):
        raise FrameError(f"{path}: edition is {raw.get('edition')!r}; expected {edition!r}")
    if not raw.get("source"):
        raise FrameError(f"{path}: key 'source' missing; expected where the counts come from")
    counts = raw.get("counts")
    if not isinstance(counts, dict):
        raise FrameError(f"{path}: key 'counts' is {counts!r}; expected a stratum → count mapping")
    for key, value in counts.items():
        if key not in FRAME_STRATA:
            raise FrameError(
                f"{path}: counts.{key}: not a frame stratum; expected one of {', '.join(FRAME_STRATA)}"
            )
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise FrameError(f"{path}: counts.{key} is {value!r}; expected an integer >= 0")
    missing = [s for s in FRAME_STRATA if s not in counts]
    if missing:
        raise FrameError(f"{path}: counts.{missing[0]} missing; expected a count for every stratum")
    total = sum(counts.values())
    if "total" in raw and raw["total"] != total:
        raise FrameError(
            f"{path}: total is {raw['total']!r}; expected the sum of the counts, {total}"
        )
    return Frame(
        edition=str(edition),
        counts={s: counts[s] for s in FRAME_STRATA},
        total=total,
        source=str(raw["source"]),
        note=str(raw.get("note") or ""),
        reference=raw.get("reference"),
        path=path,
    )


def frame_yaml(frame: Frame) -> str:
    """The YAML text of a frame (deterministic: fixed key order)."""
    doc = {
        "edition": int(frame.edition) if frame.edition.isdigit() else frame.edition,
        "source": frame.source,
        "note": frame.note,
        "reference": frame.reference,
        "counts": dict(frame.counts),
        "total": frame.total,
    }
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=88)


def write_frame(
    edition: int | str,
    reference: Reference | None = None,
    *,
    force: bool = False,
    directory: str | os.PathLike | None = None,
) -> Path:
    """Compute the frame of ``edition`` from the reference and write ``<edition>.yaml``.

    Refuses to overwrite an existing frame (a published edition's frame is a fact) unless
    ``force``. Returns the path written.
    """
    path = _frame_path(edition, directory)
    if path.exists() and not force:
        raise FrameError(
            f"{path}: a frame for edition {edition} exists; pass force=True (--force) to replace it"
        )
    ref = reference or load_reference()
    counts = compute_frame(ref)
    frame = Frame(
        edition=str(edition),
        counts=counts,
        total=sum(counts.values()),
        source="reference",
        note=(
            f"Computed from {ref.version} (communes by population totale; métropoles include "
            "the Métropole de Lyon)."
        ),
        reference=ref.version,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(frame_yaml(frame))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
