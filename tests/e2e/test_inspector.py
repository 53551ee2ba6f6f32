"""The official MCP Inspector CLI (npm @modelcontextprotocol/inspector, pinned in
tests/e2e/inspector/package.json and installed by .ci/run) against `zava-mcp serve` over stdio
and against the streamable HTTP app with a bearer token: a client we did not write lists the
tools and calls execute_sales_query, and gets each user's own rows."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.auth.jwt_tokens import mint_token
from adapters.demodata.reference import SEATTLE as SEATTLE_STORE
from ports.database_server import DatabaseEndpoints
from tests.support.http_server import RunningServer, serve_with_secret

pytestmark = pytest.mark.e2e

INSPECTOR_DIR = Path(__file__).resolve().parent / "inspector"
INSPECTOR_BIN = INSPECTOR_DIR / "node_modules" / ".bin" / "mcp-inspector"
REPO_ROOT = Path(__file__).resolve().parents[2]
SEATTLE = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
HEAD_OFFICE = "5ba86bc5-6c7d-4d93-9337-3175bdc44ad8"
SECRET = "inspector-e2e-secret-that-is-long-enough-for-hs256"
STORES_SQL = "SELECT DISTINCT store_id FROM retail.orders ORDER BY store_id"
EXPECTED_TOOLS = {"whoami", "get_current_utc_date", "execute_sales_query",
                  "get_multiple_table_schemas"}


def _inspector_missing() -> str | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm are not installed (.ci/run installs them)"
    if not INSPECTOR_BIN.exists():
        return ("the Inspector is not installed: run `npm ci --prefix tests/e2e/inspector`"
                " (make test does)")
    return None


@pytest.fixture(scope="module")
def inspector_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    missing = _inspector_missing()
    if missing:
        pytest.skip(missing)
    catalog = tmp_path_factory.mktemp("inspector") / "mcp.json"
    return {**os.environ, "MCP_CATALOG_PATH": str(catalog), "NO_COLOR": "1"}


Target = tuple[list[str], list[str]]  # (Inspector options, server command line or URL)


def _inspector(env: dict[str, str], target: Target, *args: str,
               expect_rc: int = 0) -> dict[str, Any]:
    """Run the CLI: its options, then `--` and the server. Its JSON answer is on stdout, or on
    stderr for errors of its own (auth_required)."""
    options, server = target
    done = subprocess.run(
        [str(INSPECTOR_BIN), "--cli", *options, *args, "--", *server],
        cwd=INSPECTOR_DIR, env=env, capture_output=True, text=True, timeout=240, check=False,
    )
    assert done.returncode == expect_rc, (done.returncode, done.stdout, done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout or done.stderr)
    return result


def _query(env: dict[str, str], target: Target, sql: str) -> dict[str, Any]:
    return _inspector(env, target, "--method", "tools/call", "--tool-name",
                      "execute_sales_query", "--tool-arg", f"postgresql_query={sql}",
                      "max_rows=50")


def _stdio_target(data_dir: Path, user: str) -> Target:
    # The Inspector passes the server only the variables given with -e (plus PATH, HOME, ...).
    # A first start of a session database also embeds the catalogue: allow it time.
    return (["-e", f"ZAVA_DATA_DIR={data_dir}", "-e", "ZAVA_LOG_LEVEL=WARNING",
             "--cwd", str(REPO_ROOT), "--connect-timeout", "180000"],
            [sys.executable, "-m", "entrypoints.cli", "serve", "--user", user])


def test_stdio_lists_tools_and_runs_a_query(inspector_env: dict[str, str],
                                            database: DatabaseEndpoints,
                                            data_dir: Path) -> None:
    target = _stdio_target(data_dir, SEATTLE)
    listed = _inspector(inspector_env, target, "--method", "tools/list")
    tools = {t["name"]: t for t in listed["tools"]}
    assert set(tools) >= EXPECTED_TOOLS
    assert all(t["description"] and t["inputSchema"]["type"] == "object"
               for t in tools.values())
    assert tools["execute_sales_query"]["annotations"]["readOnlyHint"] is True

    called = _query(inspector_env, target, STORES_SQL)
    assert called["isError"] is False
    content = called["structuredContent"]
    assert content["rows"] == [[str(SEATTLE_STORE.store_id)]]
    assert content["columns"] == ["store_id"]


def test_stdio_tool_error_is_exit_5(inspector_env: dict[str, str],
                                    database: DatabaseEndpoints, data_dir: Path) -> None:
    called = _inspector(
        inspector_env, _stdio_target(data_dir, SEATTLE), "--method", "tools/call",
        "--tool-name", "execute_sales_query", "--tool-arg", "postgresql_query=DROP TABLE orders",
        expect_rc=5,
    )
    assert called["isError"] is True
    assert "VALIDATION_ERROR: DROP statements are not allowed" in called["content"][0]["text"]


@pytest.fixture(scope="module")
def http_server(database: DatabaseEndpoints, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[RunningServer]:
    with serve_with_secret(database, tmp_path_factory.mktemp("inspector-http"), SECRET
                           ) as running:
        yield running


@pytest.mark.parametrize(("user", "store_count"), [(SEATTLE, 1), (HEAD_OFFICE, 8)])
def test_http_with_a_bearer_token(inspector_env: dict[str, str], http_server: RunningServer,
                                  user: str, store_count: int) -> None:
    target = (["--header", f"Authorization: Bearer {mint_token(SECRET, user, 300)}"],
              [http_server.mcp_url])
    listed = _inspector(inspector_env, target, "--method", "tools/list")
    assert {t["name"] for t in listed["tools"]} >= EXPECTED_TOOLS
    called = _query(inspector_env, target, STORES_SQL)
    assert called["isError"] is False
    assert called["structuredContent"]["row_count"] == store_count


def test_http_without_a_token_is_refused(inspector_env: dict[str, str],
                                         http_server: RunningServer) -> None:
    refused = _inspector(inspector_env, ([], [http_server.mcp_url]), "--method", "tools/list",
                         expect_rc=3)
    assert refused["error"]["code"] == "auth_required"


def _readme_inspector_command(token: str) -> list[str]:
    """The Inspector example of README.md (Connecting clients) as an argv, `$TOKEN` filled in:
    the lines from `npx ... @modelcontextprotocol/inspector@` on, joined at their `\\`."""
    readme = (REPO_ROOT / "README.md").read_text()
    match = re.search(r"^npx [^\n]*@modelcontextprotocol/inspector@(?:[^\n]*\\\n)*[^\n]*$",
                      readme, re.MULTILINE)
    assert match, "README.md lost its Inspector example"
    return shlex.split(match.group(0).replace("\\\n", " ").replace("$TOKEN", token))


def test_the_readme_inspector_command(inspector_env: dict[str, str],
                                      http_server: RunningServer) -> None:
    """Docs that match the code: the README's command, run as written (the pinned Inspector
    instead of npx fetching it, the test server's URL instead of :8000), answers whoami."""
    argv = _readme_inspector_command(mint_token(SECRET, SEATTLE, 300))
    pinned = json.loads((INSPECTOR_DIR / "package.json").read_text())["dependencies"]
    assert argv[:3] == ["npx", "-y",
                        f"@modelcontextprotocol/inspector@{pinned['@modelcontextprotocol/inspector']}"]
    assert argv[-1] == "http://127.0.0.1:8000/mcp"
    command = [str(INSPECTOR_BIN), *argv[3:-1], http_server.mcp_url]
    done = subprocess.run(command, cwd=INSPECTOR_DIR, env=inspector_env, capture_output=True,
                          text=True, timeout=240, check=False)
    assert done.returncode == 0, (done.stdout, done.stderr[-3000:])
    answer = json.loads(done.stdout)
    assert answer["isError"] is False
    assert answer["structuredContent"]["user_id"] == SEATTLE
    assert len(answer["structuredContent"]["stores"]) == 1
