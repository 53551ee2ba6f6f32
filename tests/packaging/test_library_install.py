"""The domain as a library: a clean venv with the plain install (no extra) has no third-party
package, runs the README's library example as written, and its `zava-mcp` says which extra the
command line needs."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.packaging.conftest import REPO, Distributions, clean_venv, outside_env, pip_install

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

SECTION = "## Using the domain as a library"


def readme_library_example() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, f"no python code block in the README's {SECTION!r}"
    return match.group(1)


@pytest.fixture(scope="module")
def plain_install(distributions: Distributions, packaging_dir: Path) -> Path:
    bin_dir = clean_venv(packaging_dir / "library-venv")
    pip_install(bin_dir, str(distributions.wheel))
    return bin_dir


def test_the_plain_install_has_no_third_party_package(plain_install: Path) -> None:
    listed = subprocess.run(
        [str(plain_install / "python"), "-m", "pip", "list", "--format=json"],
        check=True, capture_output=True, text=True, env=outside_env(),
    )
    installed = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert installed - {"pip", "setuptools", "wheel"} == {"zava-retail-mcp"}


def test_the_readme_library_example_runs_as_written(plain_install: Path, tmp_path: Path) -> None:
    example = tmp_path / "example.py"
    example.write_text(readme_library_example(), encoding="utf-8")
    run = subprocess.run(
        [str(plain_install / "python"), str(example)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=outside_env(),
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "Seattle store manager ['Zava Retail Seattle']"
    assert re.fullmatch(r"revenue: \d+\.\d\d orders: [1-9]\d*", lines[1])
    assert any("Cordless Drill" in line for line in lines[2:5])
    assert lines[-1].startswith("AUTHORIZATION_ERROR unknown user")


def test_the_command_line_names_the_extra_it_needs(plain_install: Path, tmp_path: Path) -> None:
    run = subprocess.run(
        [str(plain_install / "zava-mcp"), "--help"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, env=outside_env(),
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.startswith("zava-mcp: error: the command line needs the [server] extra")
    assert "pip install 'zava-retail-mcp[server]'" in run.stderr
    assert len(run.stderr.splitlines()) == 1
