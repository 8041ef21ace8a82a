"""Data flows one way: a lower stage never imports a higher one (DEVELOPERS.md, STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "podwall"

# What each stage may import from podwall (besides itself). errors is shared by all.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "model": {"errors"},
    "sets": {"errors", "model"},
    "manifests": {"errors", "model"},
    "engine": {"errors", "model", "sets"},
    "analysis": {"errors", "model", "sets", "engine"},
    "dataplane": {"errors", "model", "sets", "engine"},
    "cluster": {"errors", "model", "manifests"},
    "lab": {"errors", "model", "sets", "engine", "manifests", "dataplane", "analysis"},
    "agent": {"errors", "model", "sets", "engine", "manifests", "dataplane"},
    "cli": {"errors", "model", "sets", "engine", "manifests", "dataplane", "analysis", "lab",
            "agent", "cluster"},
}


def _stage(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem


def _podwall_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "podwall" and len(parts) > 1:
                found.add(parts[1])
    return found


MODULES = sorted(p for p in SRC.rglob("*.py") if _stage(p) in ALLOWED)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_stage_imports_only_lower_stages(path: Path) -> None:
    stage = _stage(path)
    illegal = {m for m in _podwall_imports(path) - ALLOWED[stage] - {stage}
               if m in ALLOWED}
    assert not illegal, f"{path.relative_to(SRC)} ({stage}) imports {sorted(illegal)}"


def test_every_stage_is_known() -> None:
    stages = {_stage(p) for p in SRC.rglob("*.py")} - {"__init__", "__main__"}
    assert stages <= set(ALLOWED), f"unknown stages {stages - set(ALLOWED)}: add them to ALLOWED"
