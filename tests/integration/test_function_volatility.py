"""Cacheability by PostgreSQL's own volatility marks (pg_proc.provolatile, read once), through
the real guard, the real executor and the real database: a query is served from the cache only
when every function it calls is IMMUTABLE and it holds no time literal."""

from __future__ import annotations

import pytest

from adapters.cache.memory import MemoryCacheStore
from adapters.demodata.reference import USERS
from adapters.postgres.access import PsycopgAccessDirectory
from adapters.postgres.data_version import PsycopgDataVersion
from adapters.postgres.function_volatility import PsycopgFunctionVolatility
from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.sales_query import PsycopgSalesQueryExecutor
from adapters.sqlguard.pglast_guard import ALLOWED_FUNCTIONS, PglastSqlGuard
from domain.model import QueryResult, UserId
from domain.services.query_cache import CachingSalesQueryExecutor
from ports.sql_guard import GuardedQuery

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

HEAD_OFFICE = UserId(USERS[9].user_id)
GUARD = PglastSqlGuard()


class Counting:
    def __init__(self, inner: PsycopgSalesQueryExecutor) -> None:
        self.inner = inner
        self.runs = 0

    async def run(self, user_id: UserId, query: GuardedQuery, max_rows: int) -> QueryResult:
        self.runs += 1
        return await self.inner.run(user_id, query, max_rows)


async def test_the_marks_come_from_pg_proc_once(gateway: DatabaseGateway) -> None:
    volatility = PsycopgFunctionVolatility(gateway)
    immutable = await volatility.immutable_functions()
    assert {"round", "lower", "count", "sum", "abs", "cosine_distance"} <= immutable
    # STABLE or VOLATILE in at least one overload
    assert not {"now", "clock_timestamp", "date_trunc", "to_char", "age"} & immutable
    assert await volatility.immutable_functions() is immutable  # remembered, not re-read
    allowed_immutable = ALLOWED_FUNCTIONS & immutable
    assert len(allowed_immutable) > 100, sorted(allowed_immutable)


NOT_CACHED = [
    "SELECT count(*) FROM orders WHERE order_date >= now() - interval '30 days'",
    "SELECT count(*) FROM orders WHERE order_date >= CURRENT_DATE - 30",
    "SELECT count(*) FROM orders WHERE order_date < clock_timestamp()",
    "SELECT date_trunc('month', order_date) AS m, count(*) FROM orders GROUP BY 1",
    "SELECT count(*) FROM orders WHERE order_date = 'today'",
    "SELECT count(*) FROM orders WHERE order_date >= 'yesterday'::date",
    "SELECT count(*) FROM orders WHERE order_date < 'tomorrow'",
    "SELECT count(*) FROM orders WHERE order_date < 'now'::timestamptz",
    "SELECT count(*) FROM orders WHERE order_date > 'epoch'::timestamptz",
]
CACHED = [
    "SELECT count(*) FROM orders WHERE order_date >= '2026-01-01'",
    "SELECT round(sum(quantity * unit_price), 2) FROM order_items",
    "SELECT lower(name) FROM stores ORDER BY 1",
]


@pytest.mark.parametrize(("sql", "cached"),
                         [(sql, False) for sql in NOT_CACHED] + [(sql, True) for sql in CACHED])
async def test_cached_only_when_immutable_and_free_of_time_literals(
    gateway: DatabaseGateway, sql: str, cached: bool
) -> None:
    counting = Counting(PsycopgSalesQueryExecutor(gateway))
    caching = CachingSalesQueryExecutor(
        counting, MemoryCacheStore(), PsycopgAccessDirectory(gateway),
        PsycopgDataVersion(gateway), PsycopgFunctionVolatility(gateway), ttl_s=60,
    )
    query = GUARD.check(sql)
    first = await caching.run(HEAD_OFFICE, query, 10)
    second = await caching.run(HEAD_OFFICE, query, 10)
    assert first.rows == second.rows
    assert counting.runs == (1 if cached else 2)
