"""The Redis cache adapter against a real redis-server that the test stops and restarts: while
Redis is down the in-memory fallback answers (one warning, a metric per lookup), and the adapter
goes back to Redis once it returns."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.cache.memory import MemoryCacheStore
from adapters.cache.redis_store import RedisCacheStore
from adapters.memory.metrics import InMemoryMetrics
from tests.support.redis_server import RedisServer, running_redis

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with running_redis(tmp_path) as server:
        yield server


async def test_fallback_while_redis_is_down_and_back_after(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = InMemoryMetrics()
    store = RedisCacheStore(redis_server.url, MemoryCacheStore(metrics=metrics),
                            metrics=metrics, timeout_s=0.2, retry_after_s=0.2)
    try:
        await store.set("k", b"from-redis", ttl_s=30)
        assert await store.get("k") == b"from-redis"
        assert await store.get("absent") is None
        assert await store.health() == "ok"
        assert metrics.counts["cache", "redis", "hit"] == 1
        assert metrics.counts["cache", "redis", "miss"] == 1

        redis_server.stop()
        with caplog.at_level(logging.INFO, logger="zava.cache"):
            assert await store.get("k") is None  # memory has never seen k
            await store.set("k", b"from-memory", ttl_s=30)
            assert await store.get("k") == b"from-memory"
            assert store.using_fallback
            assert (await store.health()).startswith("fallback")
            warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
            assert len(warnings) == 1
            assert "redis unreachable" in warnings[0].getMessage()
            assert metrics.counts["cache_fallback",] == 2

            redis_server.start()
            await asyncio.sleep(0.25)  # past retry_after_s
            # the restarted Redis is empty (no persistence): a Redis miss, not memory's hit
            assert await store.get("k") is None
            assert metrics.counts["cache", "redis", "miss"] == 2
            await store.set("k2", b"again-in-redis", ttl_s=30)
            assert await store.get("k2") == b"again-in-redis"
            assert metrics.counts["cache", "redis", "hit"] == 2
            assert metrics.counts["cache_fallback",] == 2
    finally:
        await store.close()
    assert not store.using_fallback
    assert any("redis is back" in r.getMessage() for r in caplog.records)
