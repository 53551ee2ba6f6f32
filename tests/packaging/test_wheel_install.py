"""The server as a user installs it: the built wheel with the [server] extra in a clean venv
outside the repository (`pipx install`-style). Its `zava-mcp serve` initialises an empty data
dir on first start (migrations from the wheel's sql/, demo data, product vectors from the
bundled model) and answers MCP over HTTP with a token its own `zava-mcp token` minted."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx2
import pytest

from tests.packaging.conftest import Distributions, clean_venv, outside_env, pip_install
from tests.support.http_server import free_port, wait_healthy

# minutes: the install unpacks torch (most of its 1.4 GB), and removing it afterwards counts too
pytestmark = [pytest.mark.packaging, pytest.mark.timeout(1200)]

SEATTLE = "f47ac10b-58cc-4372-a567-0e02b2c3d479"


def directory_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def test_the_wheel_installs_and_serves_from_an_empty_data_dir(
    distributions: Distributions, packaging_dir: Path
) -> None:
    bin_dir = clean_venv(packaging_dir / "server-venv")
    pip_install(bin_dir, f"{distributions.wheel}[server]")
    data_dir = packaging_dir / "data"
    env = outside_env(ZAVA_DATA_DIR=str(data_dir), ZAVA_LOG_LEVEL="INFO")
    port = free_port()
    stderr_path = packaging_dir / "serve.stderr"
    with stderr_path.open("w") as stderr:
        server = subprocess.Popen(
            [str(bin_dir / "zava-mcp"), "serve", "--transport", "http", "--port", str(port)],
            cwd=packaging_dir, env=env, stdout=subprocess.PIPE, stderr=stderr)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", timeout_s=600)
        token = subprocess.run(
            [str(bin_dir / "zava-mcp"), "token", "--user", SEATTLE], cwd=packaging_dir,
            env=env, capture_output=True, text=True, timeout=120, check=True,
        ).stdout.strip()
        answer = httpx2.post(
            f"http://127.0.0.1:{port}/mcp", timeout=60,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                  "params": {"name": "whoami", "arguments": {}}},
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                     "Accept": "application/json, text/event-stream"})
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=120)
    log = stderr_path.read_text()
    assert answer.status_code == 200, log[-3000:]
    result = answer.json()["result"]
    assert result["isError"] is False, result
    assert [s["store"] for s in result["structuredContent"]["stores"]] == ["Zava Retail Seattle"]
    assert out == b""  # stdout stays free (the MCP wire in stdio mode)
    assert "Traceback" not in log
    assert (data_dir / "pgdata" / "PG_VERSION").is_file()
    # the sizes the README quotes (printed with -s)
    print(f"install: venv {directory_mb(bin_dir.parent):.0f} MB;"
          f" data dir after the first serve {directory_mb(data_dir):.0f} MB")
