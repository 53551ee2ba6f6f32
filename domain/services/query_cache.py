"""Result caching at the executor boundary, tenant-safe by construction.

A decorator of the SalesQueryExecutor port: SalesQueryService still guards every statement,
and only a statement the guard accepted reaches the cache. The key is a SHA-256 of

- the guarded SQL text itself (not the guard's fingerprint: that replaces literals, so
  `WHERE city = 'Seattle'` and `WHERE city = 'Tacoma'` would collide) and max_rows;
- the caller's effective access scope: the sorted ids of the stores they may see. Row-level
  security decides rows by exactly that set, so two users with the same stores may share an
  answer and users with different stores never can — whatever their user ids;
- the data version (DataVersionSource): a reload or ETL run changes every key.

Only statements whose answer cannot change with the clock are cached: every function they
call is IMMUTABLE by PostgreSQL's own marks (FunctionVolatility, read from pg_proc once; now(),
CURRENT_DATE, date_trunc of a timestamptz and any function the database does not mark
immutable are not) and they hold no time literal ('now', 'today', 'tomorrow', 'yesterday',
'epoch' casts: the guard reports both, ports/sql_guard.py). Operators and casts of columns are
not functions the query names; they cannot read the clock without one of those.

The scope comes from the access-scope port, which remembers it briefly for the whole server
(domain/services/access_scope.py: a user's changed access reaches the cache keys within its TTL;
the database enforces it at once on every miss); the data version is remembered here for
`version_ttl_s`. So a hit costs no database round trip. When the version expires, the requests
in flight share a single lookup, and identical misses in flight share a single execution
(SingleFlight): a cold cache or a new data version under load costs one query per distinct key,
not one per request.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable

from domain.model import QueryResult, StoreId, UserId
from domain.services.single_flight import SingleFlight
from ports.access import AccessDirectory
from ports.cache import CacheStore, DataVersionSource, FunctionVolatility
from ports.sales_query import SalesQueryExecutor
from ports.sql_guard import GuardedQuery

KEY_PREFIX = "zava:sq:v2:"  # v2: entries carry truncated_reason


def is_cacheable(query: GuardedQuery, immutable_functions: frozenset[str]) -> bool:
    """True when the answer depends only on the data: no time literal, and every function
    called is immutable (a query whose functions are unknown never is)."""
    return (query.functions is not None and not query.time_literals
            and query.functions <= immutable_functions)


@functools.lru_cache(maxsize=1024)
def store_ids_key(store_ids: frozenset[StoreId]) -> str:
    """The sorted ids, joined: written once per distinct scope, not on every hit (a remembered
    scope hands out the same frozenset each time)."""
    return ",".join(sorted(str(s) for s in store_ids))


def cache_key(sql: str, max_rows: int, store_ids: str, data_version: str) -> str:
    material = "\x1f".join((sql, str(max_rows), store_ids, data_version))
    return KEY_PREFIX + hashlib.sha256(material.encode()).hexdigest()


def encode_result(result: QueryResult) -> bytes:
    return json.dumps(
        [result.columns, result.rows, result.truncated, result.fingerprint,
         result.truncated_reason],
        separators=(",", ":"), ensure_ascii=False,
    ).encode()


def decode_result(raw: bytes, elapsed_ms: float) -> QueryResult:
    columns, rows, truncated, fingerprint, reason = json.loads(raw)
    return QueryResult(columns=tuple(columns), rows=tuple(tuple(r) for r in rows),
                       truncated=truncated, elapsed_ms=elapsed_ms, fingerprint=fingerprint,
                       truncated_reason=reason)


class CachingSalesQueryExecutor(SalesQueryExecutor):
    def __init__(
        self,
        inner: SalesQueryExecutor,
        cache: CacheStore,
        directory: AccessDirectory,
        versions: DataVersionSource,
        volatility: FunctionVolatility,
        *,
        ttl_s: float,
        version_ttl_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._cache = cache
        self._directory = directory
        self._versions = versions
        self._volatility = volatility
        self._ttl_s = ttl_s
        self._version_ttl_s = version_ttl_s
        self._clock = clock
        self._version: tuple[float, str] | None = None
        self._version_lookups: SingleFlight[None, str] = SingleFlight()
        self._fills: SingleFlight[str, QueryResult] = SingleFlight()

    async def run(self, user_id: UserId, query: GuardedQuery, max_rows: int) -> QueryResult:
        if self._ttl_s <= 0 or not is_cacheable(
            query, await self._volatility.immutable_functions()
        ):
            return await self._inner.run(user_id, query, max_rows)
        started = time.perf_counter()
        key = cache_key(query.sql, max_rows, await self._store_ids(user_id),
                        await self._data_version())
        cached = await self._cache.get(key)
        if cached is not None:
            return decode_result(cached, round((time.perf_counter() - started) * 1000, 3))
        # Identical misses in flight (same key: same SQL, scope and data version, so the same
        # answer a cache entry would give them) share one execution.
        return await self._fills.fetch(key, lambda: self._fill(key, user_id, query, max_rows))

    async def _fill(self, key: str, user_id: UserId, query: GuardedQuery,
                    max_rows: int) -> QueryResult:
        result = await self._inner.run(user_id, query, max_rows)
        await self._cache.set(key, encode_result(result), self._ttl_s)
        return result

    async def _store_ids(self, user_id: UserId) -> str:
        scope = await self._directory.scope_for(user_id)  # UnknownUserError for strangers
        return store_ids_key(scope.store_ids)

    async def _data_version(self) -> str:
        if self._version is not None and self._version[0] > self._clock():
            return self._version[1]
        return await self._version_lookups.fetch(None, self._look_up_version)

    async def _look_up_version(self) -> str:
        version = await self._versions.current()
        self._version = (self._clock() + self._version_ttl_s, version)
        return version
