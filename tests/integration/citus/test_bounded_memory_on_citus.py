"""tests/e2e/test_bounded_memory.py on the Citus cluster: a 200 MB value through
execute_sales_query over HTTP against a real `zava-mcp serve` on the coordinator is cut by the
database (citus_bounded_sql) with the reason, and never reaches the server: its peak RSS moves
by at most 64 MB. Besides the single node's queries (no table), the same with values built
from distributed tables: on the coordinator over a multi-shard aggregate, and on a worker (a
row of one store's shard)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ports.database_server import DatabaseEndpoints
from tests.e2e.test_bounded_memory import (
    CONCURRENT,
    SECRET,
    Server,
    status_kb,
    test_a_200_mb_value_is_cut_in_the_database_with_the_reason,  # noqa: F401 - collected here
    test_eight_concurrent_200_mb_values_move_peak_rss_by_at_most_64_mb,  # noqa: F401
)
from tests.support.http_server import serving_http

SEATTLE_STORE = "5a7e0000-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def server(database: DatabaseEndpoints, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Server]:
    """`zava-mcp serve` (HTTP) in external mode on the coordinator."""
    here = tmp_path_factory.mktemp("bounded-memory-citus")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAVA_")}
    env.update(ZAVA_DATA_DIR=str(here / "data"), ZAVA_JWT_SECRET=SECRET,
               ZAVA_DATABASE_URL=database.query_url, ZAVA_ADMIN_DATABASE_URL=database.admin_url,
               ZAVA_LOG_LEVEL="WARNING", ZAVA_POOL_MIN="1", ZAVA_POOL_MAX=str(CONCURRENT),
               ZAVA_USER_MAX_IN_FLIGHT=str(CONCURRENT), ZAVA_CACHE_TTL_S="0",
               ZAVA_QUERY_TIMEOUT_S="240", ZAVA_MODEL_SQL_TIMEOUT_S="240")
    with serving_http(env, here / "serve.stderr", timeout_s=180) as (base_url, process):
        yield Server(base_url, process)


def test_200_mb_values_from_distributed_tables_never_reach_the_server(server: Server) -> None:
    pid = server.process.pid
    server.call("SELECT count(*) AS n, repeat('x', 1000) AS small FROM orders")
    server.call(f"SELECT repeat('x', 1000) AS small FROM orders WHERE store_id = '{SEATTLE_STORE}'"
                " LIMIT 1")
    idle_kb = status_kb(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS

    # built on the coordinator over a multi-shard aggregate (head office: every shard)
    queries = [f"SELECT count(*) AS n, repeat('x', 200000000 + {i}) AS big FROM orders"
               for i in range(CONCURRENT // 2)]
    with ThreadPoolExecutor(len(queries)) as pool:
        answers = list(pool.map(server.call, queries))
    # built on a worker, in the shard of one store, and sent to the coordinator
    answers.append(server.call(
        "SELECT order_id, repeat('x', 200000000) AS big FROM orders"
        f" WHERE store_id = '{SEATTLE_STORE}' LIMIT 1"))

    growth_mb = (status_kb(pid, "VmHWM") - idle_kb) / 1024
    for answer in answers:
        assert answer["truncated"] is True, answer
        assert answer["rows"] == [], answer
        assert str(answer["truncated_reason"]).startswith(
            "max_result_bytes: the result passes the 1,000,000-byte limit after 0 rows"), answer
    assert growth_mb <= 64, f"peak RSS grew {growth_mb:.1f} MB over idle ({idle_kb // 1024} MB)"
