"""Two `zava-mcp serve` replicas on one Citus cluster and one Redis, as a deployment behind a load
balancer runs them: a token minted for one works on the other, an answer one cached is a hit on
the other, and a write on a worker's shard reaches both (neither serves the old answer)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx2
import psycopg
import pytest

from adapters.auth.jwt_tokens import mint_token
from adapters.demodata.reference import USERS
from ports.database_server import DatabaseEndpoints
from tests.support.http_server import free_port, start_serve_http, wait_healthy
from tests.support.redis_server import running_redis

pytestmark = pytest.mark.e2e

SECRET = "replica-test-secret-that-is-long-enough-for-hs256"
SEATTLE = USERS[0]
QUESTION = "SELECT sum(stock_level) FROM inventory"


@pytest.fixture
def replicas(database: DatabaseEndpoints, tmp_path: Path) -> Iterator[list[str]]:
    """Base URLs of two serve processes sharing the cluster and one Redis."""
    with ExitStack() as stack:
        redis_server = stack.enter_context(running_redis(tmp_path))
        urls = []
        for name in ("a", "b"):
            env = {k: v for k, v in os.environ.items() if not k.startswith("ZAVA_")}
            env.update(ZAVA_DATA_DIR=str(tmp_path / name), ZAVA_JWT_SECRET=SECRET,
                       ZAVA_DATABASE_URL=database.query_url,
                       ZAVA_ADMIN_DATABASE_URL=database.admin_url,
                       ZAVA_REDIS_URL=redis_server.url, ZAVA_POOL_MIN="1", ZAVA_POOL_MAX="2")
            process = start_serve_http(port := free_port(), env, tmp_path / f"{name}.stderr")
            stack.callback(_stop, process)
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            wait_healthy(url, timeout_s=180)
        yield urls


def _stop(process) -> None:
    process.terminate()
    try:
        process.communicate(timeout=30)
    except Exception:
        process.kill()
        process.communicate(timeout=10)


def ask(base_url: str, token: str) -> object:
    response = httpx2.post(
        base_url + "/mcp", timeout=60,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "execute_sales_query", "arguments": {"postgresql_query": QUESTION}}},
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                 "Accept": "application/json, text/event-stream"})
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert not result["isError"], result
    return result["structuredContent"]["rows"][0][0]


def redis_hits(base_url: str) -> float:
    text = httpx2.get(base_url + "/metrics", timeout=10).text
    match = re.search(r'zava_cache_lookups_total\{backend="redis",result="hit"\} ([0-9.]+)', text)
    return float(match.group(1)) if match else 0.0


def change_seattle_stock(admin_url: str, delta: int) -> None:
    with psycopg.connect(admin_url) as conn:  # closed at once: the workers flush their counters
        conn.execute(
            "UPDATE retail.inventory SET stock_level = stock_level + %s WHERE store_id = %s"
            " AND product_id = (SELECT min(product_id::text)::uuid FROM retail.inventory"
            " WHERE store_id = %s)", (delta, SEATTLE.store_ids[0], SEATTLE.store_ids[0]))


def until_answer(base_url: str, token: str, expected: object, timeout_s: float = 45) -> object:
    deadline = time.monotonic() + timeout_s
    answer = ask(base_url, token)
    while answer != expected and time.monotonic() < deadline:
        time.sleep(0.5)
        answer = ask(base_url, token)
    return answer


def test_two_replicas_share_tokens_cache_and_invalidation(
    replicas: list[str], database: DatabaseEndpoints
) -> None:
    first, second = replicas
    token = mint_token(SECRET, str(SEATTLE.user_id), 600)
    before = ask(first, token)  # a miss on the first replica: computed and cached in Redis
    hits = redis_hits(second)
    assert ask(second, token) == before  # the same token is good on the other replica...
    assert redis_hits(second) == hits + 1  # ...and the first one's answer is its cache hit
    change_seattle_stock(database.admin_url, +1)
    try:
        expected = int(before) + 1  # type: ignore[call-overload]
        assert until_answer(first, token, expected) == expected
        assert until_answer(second, token, expected) == expected
    finally:
        change_seattle_stock(database.admin_url, -1)
