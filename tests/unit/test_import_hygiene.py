"""No module of the project imports another module's private names (`from x import _y`): what
two modules share is public in one of them. Import cycles are import-linter's job (the
acyclic_siblings contract in pyproject.toml)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = ("domain", "ports", "adapters", "entrypoints", "tests", "bench")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
            continue
        if node.module.split(".")[0] not in FIRST_PARTY:
            continue
        parts = node.module.split(".")
        found += [f"{node.module}.{a.name}" for a in node.names if _private(a.name)]
        found += [node.module for part in parts if _private(part)][:1]
    return found


def test_the_check_sees_a_private_import() -> None:
    assert private_imports("from entrypoints.ops_commands import _tour, tour") == [
        "entrypoints.ops_commands._tour"]
    assert private_imports("from mcp.server._otel import X") == []  # a library's business


def test_no_module_imports_another_module_s_private_names() -> None:
    offenders = {
        str(path.relative_to(ROOT)): names
        for package in FIRST_PARTY
        for path in (ROOT / package).rglob("*.py")
        if "node_modules" not in path.parts
        and (names := private_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
