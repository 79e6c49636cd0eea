"""The book's configuration, read from ``_quarto.yml`` (the one source of truth).

Both renderers (Quarto and the embedded one) and the execution engine read the title, the
chapter order and the formats from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = "notebooks"
EXECUTED = "executed"
BUILD = ".build"
OUTPUT = "_book"


class ProjectError(ValueError):
    """The project configuration is missing or inconsistent."""


@dataclass(frozen=True)
class Chapter:
    """One entry of ``book.chapters``: a page (``index.qmd``) or an executed notebook."""

    path: str  # as listed in _quarto.yml, relative to the project root

    @property
    def stem(self) -> str:
        return Path(self.path).stem

    @property
    def is_notebook(self) -> bool:
        return self.path.endswith(".ipynb")

    @property
    def source(self) -> str:
        """The committed notebook an executed chapter comes from."""
        return f"{NOTEBOOKS}/{self.stem}.ipynb" if self.is_notebook else self.path


@dataclass(frozen=True)
class Book:
    root: Path
    title: str
    subtitle: str
    author: str
    date: str
    lang: str
    output_file: str
    output_dir: str
    chapters: tuple[Chapter, ...]
    formats: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def notebook_chapters(self) -> tuple[Chapter, ...]:
        return tuple(c for c in self.chapters if c.is_notebook)

    @property
    def pdf_name(self) -> str:
        return f"{self.output_file}.pdf"


def project_root(start: Path | None = None) -> Path:
    """The checkout the command is run in: the nearest folder, from the working directory up,
    that holds ``_quarto.yml`` and ``notebooks/`` — not where the package is installed (a
    virtual environment made in one checkout builds the checkout it is run from). Falls back
    to the package's own checkout when the working directory is outside any."""
    here = Path(start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "_quarto.yml").is_file() and (d / NOTEBOOKS).is_dir():
            return d
    return ROOT


def load_book(root: Path | None = None) -> Book:
    root = Path(root or ROOT)
    path = root / "_quarto.yml"
    if not path.exists():
        raise ProjectError(f"{path}: not found — run from the repository root")
    with path.open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    book = raw.get("book") or {}
    chapters: list[Chapter] = []
    for entry in book.get("chapters") or []:
        if isinstance(entry, str):
            chapters.append(Chapter(entry))
        elif isinstance(entry, dict) and "chapters" in entry:  # a "part"
            chapters.extend(Chapter(c) for c in entry["chapters"] if isinstance(c, str))
        elif isinstance(entry, dict) and "href" in entry:
            chapters.append(Chapter(entry["href"]))
    if not chapters:
        raise ProjectError(f"{path}: book.chapters is empty")
    for ch in chapters:
        if ch.is_notebook and not ch.path.startswith(f"{EXECUTED}/"):
            raise ProjectError(
                f"{path}: chapter {ch.path!r} should be an executed notebook under {EXECUTED}/"
            )
    author = book.get("author") or raw.get("author") or ""
    if isinstance(author, list):
        author = ", ".join(a if isinstance(a, str) else a.get("name", "") for a in author)
    elif isinstance(author, dict):
        author = author.get("name", "")
    return Book(
        root=root,
        title=str(book.get("title") or raw.get("title") or ""),
        subtitle=str(book.get("subtitle") or ""),
        author=str(author),
        date=str(book.get("date") or ""),
        lang=str(raw.get("lang") or "fr"),
        output_file=str(book.get("output-file") or "rapport"),
        output_dir=str((raw.get("project") or {}).get("output-dir") or OUTPUT),
        chapters=tuple(chapters),
        formats=dict(raw.get("format") or {}),
        raw=raw,
    )
