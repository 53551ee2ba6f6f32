"""`zava-mcp embeddings build` as a user runs it, on the session database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ports.database_server import DatabaseEndpoints

pytestmark = pytest.mark.e2e


def zava(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "ZAVA_DATA_DIR": str(data_dir), "ZAVA_LOG_LEVEL": "WARNING",
                   **env}
    for name in ("ZAVA_DATABASE_URL", "OPENAI_API_KEY"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run([sys.executable, "-m", "entrypoints.cli", *args], env=environment,
                          capture_output=True, text=True, timeout=300, check=False)


def test_an_up_to_date_catalogue_is_left_alone(database: DatabaseEndpoints,
                                               data_dir: Path) -> None:
    run = zava(data_dir, "embeddings", "build")
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert "0 products embedded, 405 already up to date" in run.stderr
    assert "sentence-transformers/all-MiniLM-L6-v2@384" in run.stderr


def test_a_remote_provider_without_credentials_names_the_variable(
    database: DatabaseEndpoints, data_dir: Path
) -> None:
    run = zava(data_dir, "embeddings", "build", "--provider", "openai")
    assert run.returncode == 2
    assert "ZAVA_EMBEDDINGS=openai needs OPENAI_API_KEY" in run.stderr


def test_an_unknown_provider_is_a_usage_error(tmp_path: Path) -> None:
    run = zava(tmp_path, "embeddings", "build", "--provider", "cohere")
    assert run.returncode == 2
    assert "invalid choice: 'cohere'" in run.stderr
