"""House style is checked, not hoped for: ruff lint and format over the project's code, mypy over
slr_core (its settings are in pyproject.toml), and the length of slr_core's functions."""

import ast
import shutil
import subprocess
import sys

import pytest

from .conftest import REPO

TARGETS = ["slr_core", "tests", "bench", "app_pages", "app.py"]


def ruff() -> list[str]:
    exe = shutil.which("ruff", path=str(REPO / ".venv" / "bin")) or shutil.which("ruff")
    return [exe] if exe else [sys.executable, "-m", "ruff"]


@pytest.mark.parametrize("args", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff(args):
    proc = subprocess.run([*ruff(), *args, *TARGETS], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy():
    exe = shutil.which("mypy", path=str(REPO / ".venv" / "bin")) or shutil.which("mypy")
    cmd = [exe] if exe else [sys.executable, "-m", "mypy"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]


MAX_FUNCTION_LINES = 60


def test_functions_stay_short():
    """No function in slr_core runs longer than about 60 lines (its docstring included)."""
    long = []
    for path in sorted((REPO / "slr_core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, "functions to cut into named steps: " + ", ".join(long)
