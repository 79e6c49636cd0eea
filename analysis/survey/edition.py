"""Facts about an edition of the barometer: ``data/codebook/<edition>.edition.yaml``.

One small file per edition, beside its codebook: edition number, year, publisher, partners,
licence, fieldwork dates and mode, number of questions, publication date, the published report's
address and where the open data is. The cover, the back page and the notice technique read it;
a fact the sources do not give is left empty (``null``) and is then not printed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml

EDITION_DIR = Path(__file__).resolve().parent.parent.parent / "data" / "codebook"
MONTHS = (
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()
)


class EditionError(ValueError):
    """The edition file is missing or malformed."""


@dataclass(frozen=True)
class Edition:
    edition: int
    number: int | None
    year: int
    title: str
    publisher: str
    partners: tuple[str, ...]
    licence: str | None
    licence_url: str | None
    fieldwork_start: dt.date | None
    fieldwork_end: dt.date | None
    mode: str | None
    questions: int | None
    published: dt.date | None
    report_url: str | None
    open_data: str | None

    @property
    def ordinal(self) -> str:
        """« 2e édition » (French ordinal), or « édition 2023 » when the number is unknown."""
        if not self.number:
            return f"édition {self.edition}"
        return f"{self.number}{'re' if self.number == 1 else 'e'}\u00a0édition"

    @property
    def fieldwork(self) -> str | None:
        """« du 21 juin au 31 août 2023 », or None when the dates are unknown."""
        if not (self.fieldwork_start and self.fieldwork_end):
            return None
        start = french_date(
            self.fieldwork_start, year=self.fieldwork_start.year != self.fieldwork_end.year
        )
        return f"du {start} au {french_date(self.fieldwork_end)}"


def french_date(day: dt.date, *, year: bool = True) -> str:
    """« 21 juin 2023 » (« 1er » for the first of the month)."""
    d = "1er" if day.day == 1 else str(day.day)
    text = f"{d}\u00a0{MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def _date(value, path: Path, key: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise EditionError(f"{path}: {key}: {value!r} is not a date (YYYY-MM-DD)") from exc


def edition_path(edition: int, directory: Path | None = None) -> Path:
    return (directory or EDITION_DIR) / f"{edition}.edition.yaml"


def load_edition(edition: int, directory: Path | None = None) -> Edition:
    """Read ``<edition>.edition.yaml``; a clear error naming the file when it is not usable."""
    path = edition_path(int(edition), directory)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise EditionError(
            f"{path}: no edition file for {edition} — copy the previous edition's file and "
            "fill in its facts (fieldwork dates, questions, partners, licence)"
        ) from None
    except yaml.YAMLError as exc:
        raise EditionError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise EditionError(f"{path}: expected a mapping of facts, got {type(raw).__name__}")
    for key in ("edition", "year", "title", "publisher"):
        if raw.get(key) in (None, ""):
            raise EditionError(f"{path}: `{key}` is required")
    if int(raw["edition"]) != int(edition):
        raise EditionError(f"{path}: says edition {raw['edition']}, expected {edition}")
    field = raw.get("fieldwork") or {}
    partners = raw.get("partners") or []
    if not isinstance(partners, list):
        raise EditionError(f"{path}: `partners` must be a list")
    questions = raw.get("questions")
    return Edition(
        edition=int(raw["edition"]),
        number=int(raw["number"]) if raw.get("number") else None,
        year=int(raw["year"]),
        title=str(raw["title"]),
        publisher=str(raw["publisher"]),
        partners=tuple(str(p) for p in partners),
        licence=raw.get("licence") or None,
        licence_url=raw.get("licence_url") or None,
        fieldwork_start=_date(field.get("start"), path, "fieldwork.start"),
        fieldwork_end=_date(field.get("end"), path, "fieldwork.end"),
        mode=field.get("mode") or None,
        questions=int(questions) if questions is not None else None,
        published=_date(raw.get("published"), path, "published"),
        report_url=raw.get("report_url") or None,
        open_data=raw.get("open_data") or None,
    )
