"""The CSV import's file reading (adapters/csvimport/files.py), without a database."""

from __future__ import annotations

import shutil
from pathlib import Path

from adapters.csvimport.files import Existing, read_file_set

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cascade-hardware"


def copy_text_of(directory: Path) -> dict[str, str]:
    files, problems = read_file_set(directory, Existing())
    assert problems.count == 0, problems.report()
    return {table.name: b"".join(chunks).decode() for table, chunks in files.stream()}


def test_blank_lines_are_skipped_when_loading_as_when_checking(tmp_path: Path) -> None:
    # the check skipped them, the load then failed on them (IndexError) inside its transaction
    blank = tmp_path / "blank"
    shutil.copytree(EXAMPLE, blank)
    for name in ("customers.csv", "orders.csv"):
        lines = (blank / name).read_text().splitlines(keepends=True)
        (blank / name).write_text("".join(lines[:3]) + "\n" + "".join(lines[3:]) + "\n")
    assert copy_text_of(blank) == copy_text_of(EXAMPLE)
