"""One run at a time per checkout (analysis.build.lock)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from analysis.build import lock

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from analysis.build.lock import checkout_lock
    with checkout_lock(Path(sys.argv[1]), "build"):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def _holder(root, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(root), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_run_refuses_without_waiting(tmp_path):
    proc = _holder(tmp_path, 30)
    try:
        with pytest.raises(lock.LockError, match=rf"`barometre build` \(pid {proc.pid}\)"):
            with lock.checkout_lock(tmp_path, "prepare", wait=False):
                pass
    finally:
        proc.kill()
        proc.wait()
    # a killed holder releases the lock at once
    with lock.checkout_lock(tmp_path, "prepare", wait=False):
        pass


def test_second_run_waits_saying_so(tmp_path):
    proc = _holder(tmp_path, 1.5)
    said: list[str] = []
    t0 = time.monotonic()
    with lock.checkout_lock(tmp_path, "tables", say=said.append):
        waited = time.monotonic() - t0
        assert lock.lock_path(tmp_path).read_text().startswith("`barometre tables`")
    proc.wait()
    assert waited > 0.5
    assert len(said) == 1 and "waiting for `barometre build`" in said[0]


def test_wait_has_a_timeout(tmp_path):
    proc = _holder(tmp_path, 30)
    try:
        with pytest.raises(lock.LockError, match="still running after 0.5 s"):
            with lock.checkout_lock(tmp_path, "prepare", timeout=0.5, say=lambda m: None):
                pass
    finally:
        proc.kill()
        proc.wait()


def test_the_holders_children_are_part_of_its_run(tmp_path):
    """``build --renderer quarto`` → ``quarto render`` → pre-render ``build --execute-only``:
    the grandchild inherits the lock instead of waiting for its own grandparent."""
    child = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from analysis.build.lock import checkout_lock
        with checkout_lock(Path(sys.argv[1]), "build", wait=False):
            print("nested ok")
        """
    )
    with lock.checkout_lock(tmp_path, "build", wait=False):
        out = subprocess.run(
            [sys.executable, "-c", child, str(tmp_path)], capture_output=True, text=True
        )
    assert out.returncode == 0 and out.stdout.strip() == "nested ok", out.stderr[-2000:]
    # once released, a process that did not inherit it locks as usual
    assert lock.ENV not in os.environ
