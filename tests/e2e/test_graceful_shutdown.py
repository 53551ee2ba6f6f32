"""SIGTERM while a tool call is in flight: the call finishes and answers, then the server closes
its pool, flushes the audit trail and exits cleanly with nothing on stdout."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx2
import psycopg
import pytest

from adapters.auth.jwt_tokens import mint_token
from ports.database_server import DatabaseEndpoints
from tests.support.http_server import free_port, start_serve_http, wait_healthy

pytestmark = pytest.mark.e2e

HEAD_OFFICE = "5ba86bc5-6c7d-4d93-9337-3175bdc44ad8"
SECRET = "graceful-shutdown-secret-that-is-long-enough-for-hs256"
SLOW_SQL = "SELECT count(*) AS n FROM generate_series(1, 15000000) AS g"


def _audited_calls(admin_url: str) -> int:
    with psycopg.connect(admin_url) as conn:
        row = conn.execute("SELECT count(*) FROM audit.tool_calls"
                           " WHERE tool = 'execute_sales_query' AND row_count = 1").fetchone()
    return int(row[0]) if row else 0


def test_sigterm_finishes_the_call_in_flight(database: DatabaseEndpoints, data_dir: Path,
                                             tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAVA_")}
    env.update(ZAVA_DATA_DIR=str(data_dir), ZAVA_JWT_SECRET=SECRET, ZAVA_LOG_LEVEL="INFO",
               ZAVA_POOL_MIN="1", ZAVA_POOL_MAX="2")
    stderr_path = tmp_path / "serve.stderr"
    process = start_serve_http(port, env, stderr_path)
    base_url = f"http://127.0.0.1:{port}"
    answer: dict[str, httpx2.Response] = {}
    try:
        wait_healthy(base_url, timeout_s=120)
        before = _audited_calls(database.admin_url)

        def call() -> None:
            answer["response"] = httpx2.post(
                base_url + "/mcp", timeout=60,
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                    "name": "execute_sales_query", "arguments": {"postgresql_query": SLOW_SQL}}},
                headers={"Authorization": f"Bearer {mint_token(SECRET, HEAD_OFFICE, 300)}",
                         "Content-Type": "application/json",
                         "Accept": "application/json, text/event-stream"})

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.4)  # the query is running
        process.send_signal(signal.SIGTERM)
        caller.join(timeout=60)
        out, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    response = answer["response"]
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["isError"] is False, result
    assert result["structuredContent"]["rows"] == [[15000000]]
    assert process.returncode in (0, 128 + signal.SIGTERM)
    assert out == b""
    assert _audited_calls(database.admin_url) == before + 1  # flushed on the way out
    assert "Traceback" not in stderr_path.read_text()
