"""A pool of ONE connection, many users in hypothesis-chosen order, with attempts to make a
context outlive its request: each request sees exactly its own stores, and a connection taken
from the pool without any context sees nothing."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.demodata.reference import USERS
from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import make_query_pool
from adapters.postgres.request_context import ContextSigner
from adapters.postgres.sales_query import PsycopgSalesQueryExecutor
from domain.errors import ZavaError
from domain.model import UserId
from ports.database_server import DatabaseEndpoints
from tests.support.unguarded import AcceptEverythingGuard

pytestmark = pytest.mark.integration

GUARD = AcceptEverythingGuard()
STORES_SEEN = "SELECT DISTINCT store_id::text FROM orders"
LEAK_ATTEMPTS = {
    "plain": None,
    # copy the request's own signed context to session level: must not survive the request
    "session_copy": "SELECT set_config('zava.context', current_setting('zava.context'), false)",
    "session_search_path": "SELECT set_config('search_path', 'public', false)",
    "failing": "SELECT 1 / 0",
}

steps = st.lists(
    st.tuples(st.sampled_from(USERS), st.sampled_from(sorted(LEAK_ATTEMPTS))),
    min_size=2, max_size=12,
)


async def scenario(url: str, signer: ContextSigner, plan: list) -> None:
    pool = make_query_pool(url, min_size=1, max_size=1)
    await pool.open(wait=True)
    try:
        executor = PsycopgSalesQueryExecutor(DatabaseGateway(pool, signer))
        for user, attempt in plan:
            leak_sql = LEAK_ATTEMPTS[attempt]
            if leak_sql is not None:
                with contextlib.suppress(ZavaError):
                    await executor.run(UserId(user.user_id), GUARD.check(leak_sql), 10)
            result = await executor.run(UserId(user.user_id), GUARD.check(STORES_SEEN), 100)
            assert {r[0] for r in result.rows} == {str(s) for s in user.store_ids}
            async with pool.connection() as conn:  # a request that forgot its context
                cur = await conn.execute("SELECT count(*) FROM retail.orders")
                assert await cur.fetchone() == (0,)
                cur = await conn.execute("SHOW search_path")
                assert await cur.fetchone() == ("retail,public",)
    finally:
        await pool.close()


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=steps)
def test_no_context_survives_its_request(
    database: DatabaseEndpoints, signer: ContextSigner, plan: list
) -> None:
    asyncio.run(scenario(database.query_url, signer, plan))
