"""A huge value cannot move the server's memory: 8 concurrent `SELECT repeat('x', 200000000)`
through execute_sales_query over HTTP against the real `zava-mcp serve` subprocess raise its
peak RSS by at most 64 MB over idle, and each answer says why it was cut. The result cap is
enforced in PostgreSQL while rows stream (adapters/postgres/sales_query.py: bounded_sql), so
the 200 MB never reaches libpq or Python; before, one such query raised the peak by ~1 GB.

The peak is the kernel's own high-water mark (VmHWM in /proc/PID/status), reset after warm-up
through /proc/PID/clear_refs: a bound measured exactly, not sampled, and no timing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen

import httpx2
import pytest

from adapters.auth.jwt_tokens import mint_token
from ports.database_server import DatabaseEndpoints
from tests.support.http_server import serving_http

pytestmark = pytest.mark.e2e

HEAD_OFFICE = "5ba86bc5-6c7d-4d93-9337-3175bdc44ad8"
SECRET = "bounded-memory-secret-that-is-long-enough-for-hs256"
MB = 1024 * 1024
CONCURRENT = 8


@dataclass(frozen=True)
class Server:
    base_url: str
    process: Popen[bytes]

    def call(self, sql: str) -> dict[str, object]:
        response = httpx2.post(
            self.base_url + "/mcp", timeout=300,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                "name": "execute_sales_query", "arguments": {"postgresql_query": sql}}},
            headers={"Authorization": f"Bearer {mint_token(SECRET, HEAD_OFFICE, 600)}",
                     "Content-Type": "application/json",
                     "Accept": "application/json, text/event-stream"})
        assert response.status_code == 200, response.text
        result: dict[str, object] = response.json()["result"]
        assert result["isError"] is False, result
        content = result["structuredContent"]
        assert isinstance(content, dict)
        return content


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


@pytest.fixture(scope="module")
def server(database: DatabaseEndpoints, data_dir: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAVA_")}
    env.update(ZAVA_DATA_DIR=str(data_dir), ZAVA_JWT_SECRET=SECRET, ZAVA_LOG_LEVEL="WARNING",
               ZAVA_POOL_MIN="1", ZAVA_POOL_MAX=str(CONCURRENT),
               ZAVA_USER_MAX_IN_FLIGHT=str(CONCURRENT), ZAVA_CACHE_TTL_S="0",
               # building and measuring 8 × 200 MB on a busy 2-core machine takes a while; the
               # bound is on memory, never on time
               ZAVA_QUERY_TIMEOUT_S="240", ZAVA_MODEL_SQL_TIMEOUT_S="240")
    stderr_path = tmp_path_factory.mktemp("bounded-memory") / "serve.stderr"
    with serving_http(env, stderr_path) as (base_url, process):
        yield Server(base_url, process)


def test_a_200_mb_value_is_cut_in_the_database_with_the_reason(server: Server) -> None:
    content = server.call("SELECT 1 AS n, repeat('x', 200000000) AS big")
    assert content["columns"] == ["n", "big"]
    assert content["rows"] == []
    assert content["truncated"] is True
    reason = content["truncated_reason"]
    assert isinstance(reason, str)
    assert reason.startswith("max_result_bytes: the result passes the 1,000,000-byte limit"
                             " after 0 rows"), reason


def test_eight_concurrent_200_mb_values_move_peak_rss_by_at_most_64_mb(server: Server) -> None:
    pid = server.process.pid
    # warm-up: every code path of the call below has run once (pool connections, the guard,
    # the executor, the audit writer)
    for i in range(CONCURRENT):
        server.call(f"SELECT {i} AS n, repeat('x', 1000) AS small")
    server.call("SELECT repeat('x', 200000000) AS big")
    idle_kb = status_kb(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
    assert status_kb(pid, "VmHWM") <= idle_kb + 1024

    # distinct SQL per call: a cache (off here anyway) or single-flight could not merge them
    queries = [f"SELECT {i} AS n, repeat('x', 200000000 + {i}) AS big" for i in range(CONCURRENT)]
    with ThreadPoolExecutor(CONCURRENT) as pool:
        answers = list(pool.map(server.call, queries))

    growth_mb = (status_kb(pid, "VmHWM") - idle_kb) / 1024
    assert all(a["truncated"] is True and a["rows"] == [] for a in answers), answers
    assert all(str(a["truncated_reason"]).startswith("max_result_bytes") for a in answers)
    assert growth_mb <= 64, f"peak RSS grew {growth_mb:.1f} MB over idle ({idle_kb // 1024} MB)"
