"""Atomic file writes for the build stage: every output file and directory goes through here.

Every file the project writes goes through :func:`atomic_write` (or :func:`atomic_dir` for a
directory): the content is written next to its destination and renamed over it, so that an
interrupted build never leaves a half-written file where a good one was.

Temporary names are hidden and carry the writer's process id (``.<name>.<pid>-….tmp``,
``.<name>.new-<pid>-…``): a killed writer's leftovers never look like outputs, and the next
write of the same destination removes those whose process is gone. A directory swap killed
between its two renames is completed back (the previous directory restored) on the next swap.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(parent: Path, prefix: str) -> list[Path]:
    """Remove ``parent/<prefix><pid>-…`` entries left by writers that no longer run."""
    removed = []
    for p in parent.glob(glob.escape(prefix) + "*"):
        m = re.match(r"(\d+)-", p.name[len(prefix) :])
        if not m or int(m.group(1)) == os.getpid() or _pid_alive(int(m.group(1))):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        removed.append(p)
    return removed


class WriteError(OSError):
    """An output could not be written (full disk, no permission, read-only file system): the
    message names the destination, never a temporary file, and says the previous output is
    left in place."""

    def __init__(self, dest: Path, exc: OSError):
        super().__init__(exc.errno, exc.strerror or str(exc))
        self.dest = Path(dest)

    def __str__(self) -> str:
        return (
            f"{self.dest}: cannot write ({self.strerror}); the previous outputs are left in "
            "place — free some space, check the permissions of the directory, or choose "
            "another output"
        )


def _temporary(dest: Path, suffix: str | None = None) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(dest.parent, f".{dest.name}.")
    fd, tmp = tempfile.mkstemp(
        prefix=f".{dest.name}.{os.getpid()}-", suffix=suffix or ".tmp", dir=dest.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp creates 0600; outputs are ordinary files
    return tmp_path


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; rename it over ``dest`` if the block succeeds.
    An ``OSError`` of the file system (while creating, writing or renaming) is raised as
    :class:`WriteError` naming ``dest``."""
    dest = Path(dest)
    tmp_path = None
    try:
        tmp_path = _temporary(dest, suffix)
        yield tmp_path
        os.replace(tmp_path, dest)
    except WriteError:
        raise
    except OSError as exc:
        raise WriteError(dest, exc) from exc
    finally:
        if tmp_path is not None:
            with contextlib.suppress(OSError):
                tmp_path.unlink()


def atomic_group(items: Iterable[tuple[str | os.PathLike, bytes | str]]) -> list[Path]:
    """Write related files as one unit (a dataset, its metadata and its drop log; a CSV and
    its XLSX): every file is written aside first — a full disk or a permission error stops
    before any destination changes — then each is renamed into place; if a rename fails,
    the destinations already replaced get their previous content back. Returns the paths."""
    temps: list[tuple[Path, Path]] = []
    current: Path | None = None
    try:
        for dest, data in items:
            current = Path(dest)
            tmp = _temporary(current)
            temps.append((tmp, current))
            if isinstance(data, str):
                tmp.write_text(data, encoding="utf-8", newline="")
            else:
                tmp.write_bytes(data)
        done: list[tuple[Path, Path | None]] = []
        try:
            for tmp, dest in temps:
                current = dest
                backup = None
                if dest.exists():
                    backup = dest.parent / f".{dest.name}.{os.getpid()}-old.tmp"
                    with contextlib.suppress(FileNotFoundError):
                        backup.unlink()
                    os.link(dest, backup)  # the previous content, kept until all are in place
                try:
                    os.replace(tmp, dest)
                except OSError:
                    if backup is not None:  # dest unchanged: its backup is not needed
                        with contextlib.suppress(OSError):
                            backup.unlink()
                    raise
                done.append((dest, backup))
        except OSError:
            for dest, backup in reversed(done):
                with contextlib.suppress(OSError):
                    if backup is not None:
                        os.replace(backup, dest)
                    else:
                        dest.unlink()
            raise
        for _, backup in done:
            if backup is not None:
                with contextlib.suppress(OSError):
                    backup.unlink()
    except OSError as exc:
        raise WriteError(current or Path("."), exc) from exc
    finally:
        for tmp, _ in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()
    return [dest for _, dest in temps]


def atomic_write(dest: str | os.PathLike, data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``dest`` atomically and return ``dest``."""
    with atomic_path(dest) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding=encoding, newline="")
        else:
            tmp.write_bytes(data)
    return Path(dest)


@contextlib.contextmanager
def atomic_dir(dest: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh temporary directory; swap it in place of ``dest`` if the block succeeds.

    The previous ``dest`` stays in place until the new one is complete; on failure the
    temporary directory is removed and ``dest`` is untouched.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    old = dest.parent / f".{dest.name}.old"
    if old.is_dir() and not dest.exists():  # a swap killed between its two renames
        os.replace(old, dest)
    sweep_stale(dest.parent, f".{dest.name}.new-")
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.new-{os.getpid()}-", dir=dest.parent))
    os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp creates 0700; the output is an ordinary directory
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        os.replace(dest, old)
    os.replace(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)
