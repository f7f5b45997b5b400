"""The layering rule: models ← policies ← notifiers ← flows ← app; imports point down only."""

import ast
from pathlib import Path

import pytest

from tests.factories import REPO

LAYERS = ["models", "policies", "notifiers", "flows", "app"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("layer", [name for name in LAYERS if (REPO / name).is_dir()])
def test_a_layer_imports_only_the_layers_below_it(layer: str) -> None:
    above = set(LAYERS[LAYERS.index(layer) + 1 :])
    offenders = {
        str(path.relative_to(REPO)): sorted(_imports(path) & above)
        for path in sorted((REPO / layer).rglob("*.py"))
        if _imports(path) & above
    }
    assert offenders == {}


def test_the_layering_check_sees_real_imports() -> None:
    assert "models" in _imports(REPO / "policies" / "engine" / "decide.py")
