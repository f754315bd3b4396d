"""The shape of slr_core: subpackages in layers that import only downwards, no import cycles, and
modules of a readable size."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import REPO

PACKAGE = REPO / "slr_core"
# Lowest first; a module may import its own subpackage and those before it (slr_core/__init__.py says why).
LAYERS = "base capture features models datasets recognition language training app cli".split()
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The slr_core modules a module imports, at the top or inside functions."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("slr_core")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("slr_core"):
                continue
            subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES]
            out |= set(subs) if subs else {target}
    return {m for m in out if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_module_is_in_a_layer():
    loose = [m for m in MODULES if m != "slr_core" and _layer(m) is None]
    assert not loose, f"modules outside the layers {LAYERS}: {loose}"
    folders = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == sorted(LAYERS)


def test_layers_import_only_downwards():
    upward = [
        f"{m} ({LAYERS[_layer(m)]}) imports {t} ({LAYERS[_layer(t)]})"
        for m, targets in GRAPH.items()
        for t in targets
        if _layer(m) is not None and _layer(t) is not None and _layer(t) > _layer(m)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    """No two modules import each other, directly or through others."""
    seen: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(m: str, path: list[str]) -> None:
        seen[m] = 1
        for t in sorted(GRAPH[m]):
            if t.startswith(m + "."):
                continue  # a package's __init__ may name its own modules
            if seen.get(t) == 1:
                pytest.fail("import cycle: " + " -> ".join([*path[path.index(t) :], t]))
            if t not in seen:
                visit(t, [*path, t])
        seen[m] = 2

    for m in sorted(GRAPH):
        if m not in seen:
            visit(m, [m])


def test_the_checker_sees_imports_of_every_kind():
    """The graph the tests above read holds top-level, relative, function-level and package imports."""
    assert "slr_core.models.config" in GRAPH["slr_core.models.checkpoint"]  # from .config import
    assert "slr_core.base.settings" in GRAPH["slr_core.app.ui"]  # from ..base import settings
    assert "slr_core.language.sentence" in GRAPH["slr_core.app.ui"]  # inside a function
    assert "slr_core.cli.signs" in GRAPH["slr_core.cli"]  # from . import signs


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_readable(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, (
        f"{MODULES[name]} has {lines} lines; split it where its parts are separate concerns"
    )
