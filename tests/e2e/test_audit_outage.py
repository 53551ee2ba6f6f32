"""No answered call is missing from the audit trail after an outage and a crash: a real
`zava-mcp serve` answers calls, the database stops, the server keeps answering (with
SERVICE_UNAVAILABLE), is killed with SIGKILL while the database is still down, the database
comes back, and the next server start writes every one of those calls to audit.tool_calls,
each once."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx2
import psycopg
import pytest

from adapters.auth.jwt_tokens import mint_token
from adapters.postgres.embedded import EmbeddedPostgresServer
from ports.database_server import DatabaseEndpoints
from tests.support.db_outage import DatabaseFaults
from tests.support.http_server import free_port, start_serve_http, wait_healthy

pytestmark = pytest.mark.e2e

HEAD_OFFICE = "5ba86bc5-6c7d-4d93-9337-3175bdc44ad8"
SECRET = "audit-outage-secret-that-is-long-enough-for-hs256"


def call(base_url: str, n: int) -> dict[str, object]:
    response = httpx2.post(
        base_url + "/mcp", timeout=30,
        json={"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {
            "name": "execute_sales_query", "arguments": {"postgresql_query": f"SELECT {n}"}}},
        headers={"Authorization": f"Bearer {mint_token(SECRET, HEAD_OFFICE, 300)}",
                 "Content-Type": "application/json",
                 "Accept": "application/json, text/event-stream"})
    assert response.status_code == 200
    return response.json()["result"]  # type: ignore[no-any-return]


def audited_since(admin_url: str, since: float) -> int:
    with psycopg.connect(admin_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM audit.tool_calls WHERE tool = 'execute_sales_query'"
            " AND user_id::text = %s AND called_at >= to_timestamp(%s)",
            (HEAD_OFFICE, since)).fetchone()
    return int(row[0]) if row else 0


def test_calls_answered_during_an_outage_survive_a_sigkill(
    database: DatabaseEndpoints, embedded_server: EmbeddedPostgresServer, data_dir: Path,
    tmp_path: Path,
) -> None:
    faults = DatabaseFaults(embedded_server.pgdata, database.admin_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAVA_")}
    env.update(ZAVA_DATA_DIR=str(data_dir), ZAVA_JWT_SECRET=SECRET, ZAVA_POOL_MIN="1",
               ZAVA_POOL_MAX="2", ZAVA_CACHE_TTL_S="0")
    since = time.time() - 1
    first = start_serve_http(port := free_port(), env, tmp_path / "first.stderr")
    second = None
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_healthy(base_url, timeout_s=120)
        answered = [call(base_url, n) for n in range(3)]
        assert all(not r["isError"] for r in answered)
        faults.stop()
        during = []
        for n in range(3, 7):
            started = time.monotonic()
            during.append(call(base_url, n))
            assert time.monotonic() - started < 10  # fails fast (about 1.5 s), not 30 s
        assert all(r["isError"] for r in during)
        assert all("SERVICE_UNAVAILABLE" in str(r["content"]) for r in during)
        time.sleep(1.0)  # the failed batch of the calls before the outage reaches the spool
        first.kill()  # SIGKILL: no shutdown flush
        first.communicate(timeout=30)
        faults.start()
        second = start_serve_http(port := free_port(), env, tmp_path / "second.stderr")
        wait_healthy(f"http://127.0.0.1:{port}", timeout_s=120)  # the spool is replayed at start
        deadline = time.monotonic() + 30
        while audited_since(database.admin_url, since) < 7 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert audited_since(database.admin_url, since) == 7  # every answered call, once
        assert not list((data_dir / "audit-spool").glob("*.jsonl"))
    finally:
        faults.ensure_running()
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.communicate(timeout=30)
