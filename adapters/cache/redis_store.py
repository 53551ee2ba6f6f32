"""The shared cache in Redis (redis.asyncio), falling back to memory while Redis is down.

Workers and replicas share one Redis, so a result computed by one is a hit for all. When Redis
cannot be reached the store logs one warning, counts every lookup it answers from the in-memory
cache (zava_cache_fallbacks_total) and tries Redis again every `retry_after_s`; the first
success logs that Redis is back. A cache that cannot answer is a miss, never an error: the
query then runs against the database as if there were no cache.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from adapters.cache.memory import MemoryCacheStore
from ports.cache import CacheStore
from ports.metrics import Metrics

log = logging.getLogger("zava.cache")

UNREACHABLE = (RedisError, OSError)


class RedisCacheStore(CacheStore):
    backend = "redis"

    def __init__(
        self,
        url: str,
        fallback: MemoryCacheStore,
        *,
        metrics: Metrics | None = None,
        timeout_s: float = 0.5,
        retry_after_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # No client-side retries: a down Redis must cost one short timeout, then the fallback.
        self._redis = Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0), client_name="zava-mcp",
        )
        self._fallback = fallback
        self._metrics = metrics
        self._retry_after_s = retry_after_s
        self._clock = clock
        self._down_until: float | None = None  # None: Redis is believed up

    async def get(self, key: str) -> bytes | None:
        if self._usable():
            try:
                value: bytes | None = await self._redis.get(key)
            except UNREACHABLE as e:
                self._mark_down(e)
            else:
                self._mark_up()
                if self._metrics is not None:
                    self._metrics.cache_lookup(self.backend, value is not None)
                return value
        if self._metrics is not None:
            self._metrics.cache_fallback()
        return await self._fallback.get(key)

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if ttl_s <= 0:
            return
        if self._usable():
            try:
                await self._redis.set(key, value, px=max(1, int(ttl_s * 1000)))
            except UNREACHABLE as e:
                self._mark_down(e)
            else:
                self._mark_up()
                return
        await self._fallback.set(key, value, ttl_s)

    async def health(self) -> str:
        try:
            await self._redis.ping()  # type: ignore[misc]
        except UNREACHABLE as e:
            self._mark_down(e)
            return "fallback (redis unreachable, serving from memory)"
        self._mark_up()
        return "ok"

    async def close(self) -> None:
        await self._redis.aclose()
        await self._fallback.close()

    @property
    def using_fallback(self) -> bool:
        return self._down_until is not None

    def _usable(self) -> bool:
        return self._down_until is None or self._clock() >= self._down_until

    def _mark_down(self, error: BaseException) -> None:
        if self._down_until is None:
            log.warning("redis unreachable (%s): caching in memory, retrying every %g s",
                        type(error).__name__, self._retry_after_s)
        self._down_until = self._clock() + self._retry_after_s

    def _mark_up(self) -> None:
        if self._down_until is not None:
            log.info("redis is back: caching in redis again")
            self._down_until = None
