"""An in-process cache: TTL per entry, least recently used evicted first, bounded in entries
and in bytes. Single event loop, so no lock: every method runs without awaiting."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from ports.cache import CacheStore, DataVersionSource, FunctionVolatility
from ports.metrics import Metrics


class MemoryCacheStore(CacheStore):
    backend = "memory"

    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        max_bytes: int = 64 * 1024 * 1024,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._metrics = metrics
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0

    async def get(self, key: str) -> bytes | None:
        value = self._lookup(key)
        if self._metrics is not None:
            self._metrics.cache_lookup(self.backend, value is not None)
        return value

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if ttl_s <= 0 or len(value) > self._max_bytes:
            return
        self._drop(key)
        self._entries[key] = (self._clock() + ttl_s, value)
        self._bytes += len(value)
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            oldest = next(iter(self._entries))
            self._drop(oldest)

    async def health(self) -> str:
        return "ok"

    async def close(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _lookup(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return value

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry[1])


class StaticDataVersion(DataVersionSource):
    """A data version that never changes: for data that does not (the in-memory wiring)."""

    def __init__(self, version: str = "static") -> None:
        self._version = version

    async def current(self) -> str:
        return self._version


class StaticFunctionVolatility(FunctionVolatility):
    """A fixed set of immutable function names: for the in-memory wiring and tests."""

    def __init__(self, immutable: frozenset[str] = frozenset()) -> None:
        self._immutable = immutable

    async def immutable_functions(self) -> frozenset[str]:
        return self._immutable
