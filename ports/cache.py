"""Ports: a shared key-value cache with expiry, and the version of the data behind it."""

from __future__ import annotations

from typing import Protocol


class CacheStore(Protocol):
    async def get(self, key: str) -> bytes | None:
        """The value stored under `key`, or None if absent or expired. Never raises for an
        unreachable backend: a cache that cannot answer is a miss."""
        ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        """Store `value` for `ttl_s` seconds (best effort: a failed write is not an error)."""
        ...

    async def health(self) -> str:
        """One word for /health and `zava-mcp health`: ok, or what is wrong (e.g. fallback)."""
        ...

    async def close(self) -> None:
        """Release connections (on shutdown)."""
        ...


class DataVersionSource(Protocol):
    async def current(self) -> str:
        """An opaque token that changes whenever the data a cached answer was computed from may
        have changed (a reload, an ETL run); part of every cache key."""
        ...


class FunctionVolatility(Protocol):
    async def immutable_functions(self) -> frozenset[str]:
        """Names of the functions whose every overload is IMMUTABLE (the same arguments give
        the same answer, whenever it runs): read from the database once per process. A query
        calling any other function is never cached."""
        ...
