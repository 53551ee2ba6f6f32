"""The source cites only what the repository contains: no section references to a product
contract ("SPEC", section sign, number) that is not part of it; the README documents the
product. Applied migrations are left out: they cannot change (their checksums are recorded)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("domain", "ports", "adapters", "entrypoints", "tests", "bench")
CITATION = "SPEC" + " §"  # split so that this file does not cite it


def test_no_source_file_cites_the_spec_by_section() -> None:
    citing = [
        str(path.relative_to(ROOT))
        for package in CHECKED
        for path in (ROOT / package).rglob("*")
        if path.suffix == ".py" and CITATION in path.read_text(encoding="utf-8")
    ]
    assert citing == []


def _architecture_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Architecture\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_architecture_names_every_port_service_and_adapter_family() -> None:
    """A new port, service or adapter family shows up in the README's diagram."""
    text = _architecture_section()
    modules = [
        *(p.stem for p in (ROOT / "ports").glob("*.py")),
        *(p.stem for p in (ROOT / "domain" / "services").glob("*.py")),
    ]
    families = [p.name + "/" for p in (ROOT / "adapters").iterdir()
                if (p / "__init__.py").is_file()]
    missing = [name for name in [*modules, *families]
               if name != "__init__" and not re.search(rf"\b{re.escape(name)}", text)]
    assert missing == []
