"""The package's architecture holds: stages import only downward, no module import cycle.

The contracts live in pyproject.toml (``[tool.importlinter]``) and are checked by import-linter,
the tool made for it; these tests run it on the checkout and on a copy where a lower stage
imports an upper one, to show that the contracts would catch it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")
STAGES = ("survey", "stats", "report", "build")


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "repo"
    shutil.copytree(
        ROOT / "analysis", dst / "analysis", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", dst / "pyproject.toml")
    return dst


def test_import_contracts_are_kept():
    proc = _lint(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize(
    ("module", "upper"),
    [
        ("survey/strata.py", "analysis.stats.estimates"),
        ("stats/estimates.py", "analysis.report.french"),
        ("report/tables.py", "analysis.build.files"),
        ("build/files.py", "analysis.cli"),
        ("fingerprint.py", "analysis.survey.strata"),
    ],
)
def test_a_stage_importing_an_upper_one_breaks_the_contract(tmp_path, module, upper):
    repo = _copy(tmp_path)
    path = repo / "analysis" / module
    path.write_text(path.read_text(encoding="utf-8") + f"\nimport {upper}  # noqa\n")
    proc = _lint(repo)
    assert proc.returncode != 0
    assert "BROKEN" in proc.stdout and upper in proc.stdout


def test_rendering_importing_execution_breaks_independence(tmp_path):
    repo = _copy(tmp_path)
    path = repo / "analysis" / "build" / "render.py"
    path.write_text(path.read_text(encoding="utf-8") + "\nimport analysis.build.execute  # noqa\n")
    proc = _lint(repo)
    assert proc.returncode != 0 and "do not know each other" in proc.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every module that can reach itself, with one cycle through it (DFS, grimp's graph)."""
    modules = sorted(m for m in graph.modules if m.startswith("analysis"))
    found = []
    for start in modules:
        seen: set[str] = set()
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph.find_modules_directly_imported_by(node)):
                if nxt == start:
                    found.append(path + [start])
                    stack.clear()
                    break
                if nxt not in seen and nxt.startswith("analysis"):
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    return found


def test_no_import_cycle_between_modules():
    graph = grimp.build_graph("analysis", include_external_packages=False)
    # a package's __init__ importing its own submodule is not a cycle between modules
    cycles = [c for c in _cycles(graph) if not all(m.startswith(c[0] + ".") for m in c[1:-1])]
    assert cycles == []


def test_the_cycle_detector_finds_a_cycle(tmp_path):
    repo = _copy(tmp_path)
    path = repo / "analysis" / "survey" / "strata.py"
    path.write_text(
        path.read_text(encoding="utf-8") + "\nimport analysis.survey.reference  # noqa\n"
    )
    code = (
        "import grimp, sys; sys.path.insert(0, sys.argv[1]);"
        "from test_architecture import _cycles;"
        "g = grimp.build_graph('analysis', include_external_packages=False);"
        "print(len(_cycles(g)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent)],
        cwd=repo,
        env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(out.stdout) >= 2  # strata -> reference -> strata, seen from both ends


def test_every_stage_says_what_it_holds_and_may_import():
    for stage in STAGES:
        doc = (ROOT / "analysis" / stage / "__init__.py").read_text(encoding="utf-8")
        assert doc.startswith('"""') and "import" in doc.split('"""')[1], stage
