"""Import contracts: imports flow down the layers, never up (see DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "agentcli"

# Which agentcli packages each layer may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "macros": {"domain"},
    "demo": {"domain"},
    "store": {"domain", "demo"},  # demo is pure row generation; store.bulk loads it fast
    "server": {"domain", "demo"},
    "sync": {"domain", "store"},
    "tui": {"domain", "store", "macros", "sync"},
    "cli": {"domain", "store", "macros", "demo", "sync", "server", "tui"},
}


def _agentcli_imports(path: Path) -> set[str]:
    layers: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "agentcli" and len(parts) > 1:
                layers.add(parts[1])
    return layers


def _modules() -> list[tuple[str, Path]]:
    return [
        (path.relative_to(PACKAGE).parts[0], path)
        for path in sorted(PACKAGE.rglob("*.py"))
        if len(path.relative_to(PACKAGE).parts) > 1
    ]


def test_every_package_is_a_known_layer() -> None:
    layers = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}
    assert layers <= set(ALLOWED), f"add the new package to ALLOWED: {layers - set(ALLOWED)}"


@pytest.mark.parametrize(("layer", "path"), _modules(), ids=lambda v: str(v))
def test_imports_flow_down(layer: str, path: Path) -> None:
    bad = _agentcli_imports(path) - ALLOWED[layer] - {layer}
    assert not bad, f"{path.relative_to(PACKAGE)} ({layer}) imports {sorted(bad)}"


def test_domain_does_no_io() -> None:
    forbidden = {"sqlite3", "sqlite_utils", "httpx", "textual", "os", "socket", "pathlib"}
    for path in (PACKAGE / "domain").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                used = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                used = {node.module.split(".")[0]}
            else:
                continue
            assert not used & forbidden, f"{path.name} imports {used & forbidden}"
