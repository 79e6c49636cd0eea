"""One run at a time per checkout: ``build``, ``prepare`` and ``tables`` take this lock.

Two runs in one checkout would mix their outputs (the chapters of one build in the book of
another, two writers of one processed dataset). The lock is an advisory ``flock`` on
``<root>/.build/barometre.lock``: the kernel releases it when the holder exits, however it
exits (even SIGKILL), so a dead run never blocks the next one. The file records the holder's
pid and command, to say who holds it.

A second run waits, saying so on stderr (``waiting for … to finish``), unless ``wait=False``
(``--no-wait``): then it stops at once with :class:`LockError` naming the holder.

The holder's child processes are part of its run: the holder sets :data:`ENV` to the lock's
path, and a run that inherits it does not lock again (``barometre build --renderer quarto``
runs ``quarto render``, whose pre-render step is ``barometre build --execute-only``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["LockError", "LOCK_NAME", "checkout_lock", "lock_path"]

LOCK_NAME = ".build/barometre.lock"
#: Set (to the lock's path) while a run holds the lock, for the processes it starts.
ENV = "BAROMETRE_LOCK_HELD"
#: How often a waiting run tries the lock again (seconds).
POLL = 0.2


class LockError(RuntimeError):
    """Another run holds the checkout's lock (and the caller chose not to wait)."""


def lock_path(root: Path) -> Path:
    return Path(root) / LOCK_NAME


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 4096).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "another run"


@contextlib.contextmanager
def checkout_lock(
    root: Path,
    command: str,
    *,
    wait: bool = True,
    timeout: float | None = None,
    say: Callable[[str], None] | None = None,
) -> Iterator[Path]:
    """Hold the checkout's lock for the block; wait for it (saying so) or refuse."""
    path = lock_path(root)
    if os.environ.get(ENV) == str(path.resolve()):  # started by the run holding it
        yield path
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            if not wait:
                raise LockError(
                    f"{path}: {holder} is running in this checkout; expected one run at a time "
                    "— wait for it to finish, or run without --no-wait to wait for it"
                ) from None
            (say or (lambda m: print(m, file=sys.stderr, flush=True)))(
                f"waiting for {holder} to finish (one run at a time in {Path(root).resolve()})…"
            )
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() > deadline:
                        raise LockError(
                            f"{path}: {_holder(fd)} still running after {timeout:g} s; expected "
                            "one run at a time — try again when it has finished"
                        ) from None
                    time.sleep(POLL)
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"`barometre {command}` (pid {os.getpid()})\n".encode())
        previous = os.environ.get(ENV)
        os.environ[ENV] = str(path.resolve())
        try:
            yield path
        finally:
            if previous is None:
                os.environ.pop(ENV, None)
            else:
                os.environ[ENV] = previous
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
