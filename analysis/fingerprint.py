"""Content hashes and code fingerprints: the bottom of the package, importing no stage.

Every cache key of the pipeline (processed dataset, executed notebooks, rendered book) and the
``code_version`` recorded in a dataset's metadata are made here, so that the stages share one
definition of "the same content" without knowing each other.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

#: The package's directory and the checkout's root (the folder holding ``analysis/``).
PACKAGE = Path(__file__).resolve().parent
#: Data definitions the analysis code reads: part of the code fingerprint.
DATA_DEFINITIONS = ("codebook", "frames", "reference")


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_tree(paths: Iterable[Path], root: Path) -> str:
    """One hash over several files: their paths relative to ``root`` and their contents."""
    h = hashlib.sha256()
    for p in sorted(set(paths)):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def code_fingerprint(root: Path) -> str:
    """Hash of the analysis package of ``root`` and of the data definitions it reads
    (codebooks, frames, reference): a change to any of them invalidates the caches."""
    files = [p for p in (root / "analysis").rglob("*.py") if "__pycache__" not in p.parts]
    for sub in DATA_DEFINITIONS:
        d = root / "data" / sub
        if d.is_dir():
            files.extend(p for p in d.rglob("*") if p.is_file())
    return sha256_tree(files, root)


def code_version() -> str:
    """``<package version>+<12 hex>``: the installed version and a hash of the analysis sources
    actually running (``analysis/**/*.py`` and templates), so a dataset names the code that
    made it even between releases."""
    from importlib import metadata

    try:
        version = metadata.version("barometre")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    files = [
        p
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in (".py", ".html", ".typ")
    ]
    return f"{version}+{sha256_tree(files, PACKAGE.parent)[:12]}"
