"""The source cites only what the repository contains: no section references to a product
contract ("SPEC", section sign, number) that is not part of it; the README documents the
product. Applied migrations are left out: they cannot change (their checksums are recorded)."""

from __future__ import annotations

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
