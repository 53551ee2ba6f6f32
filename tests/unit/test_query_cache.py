"""The tenant-safe result cache on in-memory adapters: keys, scopes, versions, TTL and LRU."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from adapters.cache.memory import MemoryCacheStore, StaticDataVersion, StaticFunctionVolatility
from adapters.demodata.reference import USERS
from adapters.memory.access import InMemoryAccessDirectory
from adapters.memory.metrics import InMemoryMetrics
from adapters.sqlguard.pglast_guard import PglastSqlGuard
from domain.model import AccessScope, QueryResult, UserId
from domain.services.access_scope import CachedAccessDirectory
from domain.services.access_watch import AccessWatch
from domain.services.query_cache import CachingSalesQueryExecutor
from ports.sql_guard import GuardedQuery

pytestmark = pytest.mark.anyio

SEATTLE_MANAGER, REGIONAL, HEAD_OFFICE = (UserId(u.user_id)
                                          for u in (USERS[0], USERS[8], USERS[9]))


GUARD = PglastSqlGuard()
# as PostgreSQL 18 marks them (tests/integration/test_function_volatility.py reads the real ones)
IMMUTABLE = StaticFunctionVolatility(frozenset({"count", "sum", "round", "lower", "abs"}))


def guarded(sql: str) -> GuardedQuery:
    return GUARD.check(sql)


ORIGINAL_MS = 500.0  # the time every query of the executor below says it took


@dataclass
class CountingExecutor:
    """Answers with the caller's id, so a shared entry would show up as the wrong user."""

    calls: list[tuple[UserId, str]] = field(default_factory=list)

    async def run(self, user_id: UserId, query: GuardedQuery, max_rows: int) -> QueryResult:
        self.calls.append((user_id, query.sql))
        return QueryResult(columns=("who",), rows=((str(user_id),),), truncated=False,
                           elapsed_ms=ORIGINAL_MS, fingerprint=query.fingerprint)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Versions:
    def __init__(self) -> None:
        self.version = "v1"

    async def current(self) -> str:
        return self.version


def caching(inner: CountingExecutor, *, versions: object = None, clock: Clock | None = None,
            cache: MemoryCacheStore | None = None) -> CachingSalesQueryExecutor:
    return CachingSalesQueryExecutor(
        inner, cache or MemoryCacheStore(), InMemoryAccessDirectory.from_demo_data(),
        versions or StaticDataVersion(), IMMUTABLE,  # type: ignore[arg-type]
        ttl_s=60, version_ttl_s=0,
        clock=clock or Clock(),
    )


async def test_users_with_different_stores_never_share_an_entry() -> None:
    inner = CountingExecutor()
    executor = caching(inner)
    query = guarded("SELECT count(*) FROM orders")
    for _ in range(2):
        for user in (SEATTLE_MANAGER, REGIONAL, HEAD_OFFICE):
            result = await executor.run(user, query, 100)
            assert result.rows == ((str(user),),)
    assert [u for u, _ in inner.calls] == [SEATTLE_MANAGER, REGIONAL, HEAD_OFFICE]


async def test_same_scope_shares_and_literals_and_max_rows_do_not() -> None:
    inner = CountingExecutor()
    executor = caching(inner)
    await executor.run(SEATTLE_MANAGER, guarded("SELECT 1 WHERE 'a' = 'a'"), 100)
    hit = await executor.run(SEATTLE_MANAGER, guarded("SELECT 1 WHERE 'a' = 'a'"), 100)
    await executor.run(SEATTLE_MANAGER, guarded("SELECT 1 WHERE 'a' = 'b'"), 100)
    await executor.run(SEATTLE_MANAGER, guarded("SELECT 1 WHERE 'a' = 'a'"), 5)
    assert len(inner.calls) == 3
    assert hit.rows == ((str(SEATTLE_MANAGER),),)
    # the hit's own time, not the original query's (a bound far from any real hit's time, so
    # a preempted test process does not fail it)
    assert hit.elapsed_ms < ORIGINAL_MS


async def test_a_new_data_version_is_a_miss() -> None:
    inner, versions = CountingExecutor(), Versions()
    executor = caching(inner, versions=versions)
    await executor.run(HEAD_OFFICE, guarded("SELECT 1"), 100)
    await executor.run(HEAD_OFFICE, guarded("SELECT 1"), 100)
    versions.version = "v2"
    await executor.run(HEAD_OFFICE, guarded("SELECT 1"), 100)
    assert len(inner.calls) == 2


@pytest.mark.parametrize("sql", [
    "SELECT now()",
    "SELECT CURRENT_DATE - 7",
    "SELECT count(*) FROM orders WHERE order_date >= date_trunc('month', now())",
    "SELECT count(*) FROM orders WHERE order_date = 'today'",
    "SELECT count(*) FROM orders WHERE order_date >= 'yesterday'::date",
    "SELECT count(*) FROM orders WHERE order_date < 'TOMORROW'",
    "SELECT 'now'::timestamptz",
    "SELECT count(*) FROM orders WHERE order_date > 'epoch'::timestamptz",
    "SELECT count(*) FROM orders WHERE order_date > 'today 10:00'",
    "SELECT to_char(order_date, 'YYYY') FROM orders",  # not in the immutable set
])
async def test_anything_but_immutable_functions_and_plain_literals_is_never_cached(
    sql: str,
) -> None:
    inner = CountingExecutor()
    executor = caching(inner)
    await executor.run(HEAD_OFFICE, guarded(sql), 100)
    await executor.run(HEAD_OFFICE, guarded(sql), 100)
    assert len(inner.calls) == 2


@pytest.mark.parametrize("sql", [
    "SELECT round(sum(total_amount), 2) FROM orders",
    "SELECT count(*) FROM orders WHERE lower(status) = 'shipped'",
    "SELECT count(*) FROM orders WHERE order_date >= '2026-01-01'",
    "SELECT abs(-1) AS epoch",
])
async def test_immutable_functions_and_plain_literals_are_cached(sql: str) -> None:
    inner = CountingExecutor()
    executor = caching(inner)
    await executor.run(HEAD_OFFICE, guarded(sql), 100)
    await executor.run(HEAD_OFFICE, guarded(sql), 100)
    assert len(inner.calls) == 1


async def test_a_query_the_guard_did_not_describe_is_never_cached() -> None:
    inner = CountingExecutor()
    executor = caching(inner)
    bare = GuardedQuery(sql="SELECT 1", fingerprint="fp", relations=frozenset())
    await executor.run(HEAD_OFFICE, bare, 100)
    await executor.run(HEAD_OFFICE, bare, 100)
    assert len(inner.calls) == 2


async def test_memory_store_ttl_lru_and_size_bounds() -> None:
    clock, metrics = Clock(), InMemoryMetrics()
    store = MemoryCacheStore(max_entries=2, max_bytes=10, metrics=metrics, clock=clock)
    await store.set("a", b"1", ttl_s=10)
    await store.set("b", b"2", ttl_s=10)
    assert await store.get("a") == b"1"  # a is now the most recently used
    await store.set("c", b"3", ttl_s=10)  # evicts b
    assert await store.get("b") is None
    assert await store.get("c") == b"3"
    clock.now += 11
    assert await store.get("a") is None
    await store.set("big", b"x" * 11, ttl_s=10)  # larger than the whole cache: not stored
    await store.set("d", b"12345", ttl_s=10)
    await store.set("e", b"123456", ttl_s=10)  # 11 bytes with d: d goes
    assert (await store.get("d"), await store.get("e")) == (None, b"123456")
    assert len(store) == 1
    assert metrics.counts["cache", "memory", "hit"] == 3
    assert metrics.counts["cache", "memory", "miss"] == 3


class SlowVersions(Versions):
    """A data version lookup that takes a moment, counting the lookups."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    async def current(self) -> str:
        self.lookups += 1
        await asyncio.sleep(0.01)
        return self.version


async def test_requests_in_flight_share_one_version_and_scope_lookup_when_they_expire() -> None:
    """64 concurrent requests once the remembered version and scope have expired: one lookup
    each, not 64 (which queued for the pool and stalled calls for seconds)."""
    inner, versions, clock = CountingExecutor(), SlowVersions(), Clock()
    directory = CountingDirectory()
    scopes = CachedAccessDirectory(directory, ttl_s=30, clock=clock)
    executor = CachingSalesQueryExecutor(
        inner, MemoryCacheStore(), scopes, versions, IMMUTABLE, ttl_s=60, version_ttl_s=5,
        clock=clock,
    )
    await executor.run(HEAD_OFFICE, guarded("SELECT 1"), 100)
    clock.now += 31  # both expired
    results = await asyncio.gather(*(executor.run(HEAD_OFFICE, guarded("SELECT 1"), 100)
                                     for _ in range(64)))
    assert {r.rows for r in results} == {((str(HEAD_OFFICE),),)}
    assert versions.lookups == 2
    assert directory.lookups == 2
    assert len(inner.calls) == 1  # the version did not change: all hits


class CountingDirectory:
    def __init__(self) -> None:
        self._demo = InMemoryAccessDirectory.from_demo_data()
        self.lookups = 0

    async def scope_for(self, user_id: UserId) -> AccessScope:
        self.lookups += 1
        await asyncio.sleep(0.01)
        return await self._demo.scope_for(user_id)


class SlowExecutor(CountingExecutor):
    async def run(self, user_id: UserId, query: GuardedQuery, max_rows: int) -> QueryResult:
        await asyncio.sleep(0.01)
        return await super().run(user_id, query, max_rows)


async def test_identical_misses_in_flight_share_one_execution_per_scope() -> None:
    """A cold cache under load: 32 head-office and 32 Seattle requests for the same SQL run it
    twice, once per scope, and each group gets its own scope's answer."""
    inner = SlowExecutor()
    executor = caching(inner)
    callers = [HEAD_OFFICE, SEATTLE_MANAGER] * 32
    results = await asyncio.gather(*(executor.run(who, guarded("SELECT 1"), 100)
                                     for who in callers))
    assert sorted(inner.calls) == sorted([(HEAD_OFFICE, "SELECT 1"),
                                          (SEATTLE_MANAGER, "SELECT 1")])
    for who, result in zip(callers, results, strict=True):
        assert result.rows == ((str(who),),)


async def test_a_failed_execution_is_not_cached_and_the_next_call_runs_again() -> None:
    class Failing(CountingExecutor):
        async def run(self, user_id: UserId, query: GuardedQuery, max_rows: int) -> QueryResult:
            await super().run(user_id, query, max_rows)
            raise RuntimeError("database down")

    inner = Failing()
    executor = caching(inner)
    outcomes = await asyncio.gather(*(executor.run(HEAD_OFFICE, guarded("SELECT 1"), 100)
                                      for _ in range(4)), return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    with pytest.raises(RuntimeError):
        await executor.run(HEAD_OFFICE, guarded("SELECT 1"), 100)
    assert len(inner.calls) == 2  # the four concurrent ones shared one; the next ran again


class MutableDirectory(InMemoryAccessDirectory):
    """A directory an operator changes behind the cache's back (`zava-mcp users revoke`)."""

    def __init__(self) -> None:
        super().__init__(InMemoryAccessDirectory.from_demo_data()._scopes.values())
        self.lookups = 0

    async def scope_for(self, user_id: UserId) -> AccessScope:
        self.lookups += 1
        return await super().scope_for(user_id)

    def revoke_all_but_first_store(self, user_id: UserId) -> None:
        scope = self._scopes[user_id]
        self._scopes[user_id] = AccessScope(scope.user_id, scope.display_name, scope.email,
                                            scope.role, scope.stores[:1])


async def test_a_revoke_leaves_the_key_on_the_next_call_when_the_watch_moves() -> None:
    """Scopes remembered 30 s by the one access-scope port: only the AccessWatch makes the
    next call after a revoke miss (and see the revoked store's data no longer)."""
    inner, directory, watch = CountingExecutor(), MutableDirectory(), AccessWatch(live=True)
    scopes = CachedAccessDirectory(directory, ttl_s=30, watch=watch)
    cache = CachingSalesQueryExecutor(inner, MemoryCacheStore(), scopes, StaticDataVersion(),
                                      IMMUTABLE, ttl_s=60)
    sql = guarded("SELECT 1")
    await cache.run(REGIONAL, sql, 10)
    await cache.run(REGIONAL, sql, 10)
    assert (len(inner.calls), directory.lookups) == (1, 1)  # a hit on a remembered scope
    directory.revoke_all_but_first_store(REGIONAL)
    watch.changed()  # what the database's NOTIFY does in a serving process
    await cache.run(REGIONAL, sql, 10)
    assert (len(inner.calls), directory.lookups) == (2, 2)  # new scope, new key: a miss


async def test_nothing_is_remembered_while_the_watch_is_not_live() -> None:
    inner, directory = CountingExecutor(), MutableDirectory()
    scopes = CachedAccessDirectory(directory, ttl_s=30, watch=AccessWatch(live=False))
    cache = CachingSalesQueryExecutor(inner, MemoryCacheStore(), scopes, StaticDataVersion(),
                                      IMMUTABLE, ttl_s=60)
    for _ in range(3):
        await cache.run(SEATTLE_MANAGER, guarded("SELECT 1"), 10)
    assert directory.lookups == 3
    assert len(inner.calls) == 1  # the result itself is still cached, under the fresh scope
