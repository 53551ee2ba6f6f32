"""The result cache end to end: real MCP client, real database, real Redis. Users who ask the
identical question each get their own stores' answer, from their own cache entry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from dependency_injector import providers
from mcp import Client

from adapters.demodata.reference import STORES, USERS
from domain.model import UserId
from entrypoints.container import Container
from entrypoints.mcp.server import build_server
from entrypoints.settings import Settings
from ports.database_server import DatabaseEndpoints
from tests.support.redis_server import RedisServer, running_redis

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

STORE_NAMES = {str(s.store_id): s.name for s in STORES}
QUESTION = ("SELECT s.name, count(*) AS orders FROM orders o JOIN stores s USING (store_id)"
            " GROUP BY s.name ORDER BY s.name")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with running_redis(tmp_path) as server:
        yield server


async def test_identical_questions_never_share_an_entry(
    database: DatabaseEndpoints, redis_server: RedisServer, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, pool_min=1, pool_max=2, redis_url=redis_server.url)
    container = Container(settings=settings)
    container.database_endpoints.override(providers.Object(database))
    users = [USERS[0], USERS[8], USERS[9]]  # store manager, regional manager, head office
    caller: list[UserId] = []
    answers: dict[str, list[set[str]]] = {}
    async with Client(build_server(container, caller=lambda: caller[0])) as client:
        for _ in range(2):
            for user in users:
                caller[:] = [UserId(user.user_id)]
                result = await client.call_tool("execute_sales_query",
                                                {"postgresql_query": QUESTION})
                assert not result.is_error, result.content
                rows = result.structured_content["rows"]  # type: ignore[index]
                answers.setdefault(user.role, []).append({row[0] for row in rows})
        metrics = container.metrics().exposition()[0].decode()

    for user in users:
        expected = {STORE_NAMES[str(s)] for s in user.store_ids}
        assert answers[user.role] == [expected, expected], user.role
    with redis.Redis.from_url(redis_server.url) as inspect_redis:
        keys = inspect_redis.keys("zava:sq:*")
    assert len(keys) == 3  # one entry per access scope, none shared
    assert 'zava_cache_lookups_total{backend="redis",result="hit"} 3.0' in metrics
    assert 'zava_cache_lookups_total{backend="redis",result="miss"} 3.0' in metrics
