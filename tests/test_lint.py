"""House style is checked, not hoped for: ruff lint and format over the project's code."""

import shutil
import subprocess
import sys

import pytest

from .conftest import REPO

TARGETS = ["slr_core", "tests", "bench", "pages", "app.py"]


def ruff() -> list[str]:
    exe = shutil.which("ruff", path=str(REPO / ".venv" / "bin")) or shutil.which("ruff")
    return [exe] if exe else [sys.executable, "-m", "ruff"]


@pytest.mark.parametrize("args", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff(args):
    proc = subprocess.run([*ruff(), *args, *TARGETS], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
