"""The command line as a user runs it: a subprocess against the session's embedded database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ports.database_server import DatabaseEndpoints

pytestmark = pytest.mark.e2e


def zava(data_dir: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZAVA_DATA_DIR": str(data_dir), "ZAVA_LOG_LEVEL": "WARNING"}
    for name in ("ZAVA_DATABASE_URL", "ZAVA_ADMIN_DATABASE_URL", "ZAVA_USER_ID"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )


def test_db_status(database: DatabaseEndpoints, data_dir: Path) -> None:
    result = zava(data_dir, "db", "status")
    assert result.returncode == 0, result.stderr
    assert "database: embedded" in result.stdout
    assert "retail.orders" in result.stdout
    assert "demo data: scale small, seed 7" in result.stdout


def test_users_json(database: DatabaseEndpoints, data_dir: Path) -> None:
    result = zava(data_dir, "users", "--json")
    assert result.returncode == 0, result.stderr
    users = json.loads(result.stdout)
    assert len(users) == 10
    head_office = next(u for u in users if u["role"] == "head_office")
    assert len(head_office["stores"]) == 8


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql client not installed")
def test_db_url_connects_psql_as_the_query_role(
    database: DatabaseEndpoints, data_dir: Path
) -> None:
    result = zava(data_dir, "db", "url")
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert url.startswith("postgresql://zava_query@")
    psql = subprocess.run(
        ["psql", url, "-XAtc", "SELECT current_user, (SELECT count(*) FROM retail.orders),"
         " (SELECT count(*) FROM retail.stores)"],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert psql.returncode == 0, psql.stderr
    # the role sees reference data, but without a signed context no tenant rows at all
    assert psql.stdout.strip() == "zava_query|0|8"
    denied = subprocess.run(["psql", url, "-XAtc", "SELECT * FROM access.app_users"],
                            capture_output=True, text=True, timeout=30, check=False)
    assert "permission denied" in denied.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("serve", "--user", "00000000-0000-0000-0000-000000000000"),
         "user '00000000-0000-0000-0000-000000000000' is not registered on this server; an"
         " operator registers them with `zava-mcp users add --id"),
        (("serve",), "no user to serve as: set ZAVA_USER_ID or pass --user ID"),
        (("db", "init", "--scale", "galactic"), "invalid choice: 'galactic'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    database: DatabaseEndpoints, data_dir: Path, args: tuple[str, ...], fragment: str
) -> None:
    result = zava(data_dir, *args)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stdout == ""
