"""The package as a user gets it: a wheel and an sdist built as a release would build them
(`python -m build`: the sdist first, then the wheel from the unpacked sdist), installed into
clean venvs outside the repository. pip reuses its cache and the machine's local wheels, so no
test downloads what an earlier install fetched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Distributions:
    wheel: Path
    sdist: Path


@pytest.fixture(scope="session")
def packaging_dir() -> Iterator[Path]:
    """Outside pytest's numbered temp dirs, which a concurrent pytest session may prune while
    a slow install runs."""
    path = Path(tempfile.mkdtemp(prefix="zava-packaging-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def distributions(packaging_dir: Path) -> Distributions:
    out = packaging_dir / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO)],
        check=True, capture_output=True, timeout=600,
    )
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return Distributions(wheel, sdist)


def clean_venv(where: Path) -> Path:
    """A new venv with no access to this one's packages; returns its bin directory."""
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    return where / "bin"


def pip_install(bin_dir: Path, *requirements: str) -> None:
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--no-compile",
         *requirements],
        check=True, capture_output=True, timeout=900, env=outside_env(),
    )


def outside_env(**extra: str) -> dict[str, str]:
    """The environment of a user outside the repository: no PYTHONPATH into the checkout, no
    settings of this test run."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ZAVA_", "PYTHON", "VIRTUAL_ENV"))}
    return {**env, **extra}
