"""The policies fold the caller's store list into the plan (sql/009). That is only safe while no
plan made under one request's context runs under another's; each way a plan can outlive its
request is attacked here on the real database, through a pool of one connection so every request
lands on the same backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from adapters.demodata.reference import USERS, DemoUser
from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import configure_query_connection, make_query_pool
from adapters.postgres.request_context import ContextSigner
from domain.model import UserId
from ports.database_server import DatabaseEndpoints

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

STORES_SEEN = "SELECT DISTINCT store_id::text FROM retail.orders"
SEATTLE, HEAD_OFFICE = USERS[0], next(u for u in USERS if len(u.store_ids) > 1)


def own_stores(user: DemoUser) -> set[str]:
    return {str(s) for s in user.store_ids}


@asynccontextmanager
async def one_connection(pool: AsyncConnectionPool) -> AsyncIterator[AsyncConnectionPool]:
    await pool.open(wait=True)
    try:
        yield pool
    finally:
        await pool.close()


async def stores_seen_in_turns(rls: DatabaseGateway, rounds: int
                               ) -> list[tuple[DemoUser, set[str]]]:
    """The same statement, text for text, as alternating users: what each one saw."""
    seen = []
    for _ in range(rounds):
        for user in (SEATTLE, HEAD_OFFICE, USERS[1]):
            async with rls.session(UserId(user.user_id)) as conn:
                cur = await conn.execute(STORES_SEEN)
                seen.append((user, {row[0] for row in await cur.fetchall()}))
    return seen


async def test_the_plan_carries_the_callers_own_store_list(
    database: DatabaseEndpoints, signer: ContextSigner
) -> None:
    async with one_connection(make_query_pool(database.query_url, min_size=1, max_size=1)) as pool:
        rls = DatabaseGateway(pool, signer)
        for user_id, expected in ((SEATTLE.user_id, own_stores(SEATTLE)), (None, set())):
            async with rls.session(None if user_id is None else UserId(user_id)) as conn:
                cur = await conn.execute("EXPLAIN SELECT count(*) FROM retail.orders")
                plan = "\n".join(row[0] for row in await cur.fetchall())
            folded = plan.split("store_id = ANY ('{", 1)[1].split("}'", 1)[0]
            assert set(filter(None, folded.split(","))) == expected, plan
            assert "InitPlan" not in plan


async def test_repeating_a_statement_never_reuses_another_users_plan(
    database: DatabaseEndpoints, signer: ContextSigner
) -> None:
    # psycopg's default turns a statement run 5 times into a server-side prepared statement
    # whose generic plan would keep the first caller's stores; the query pool never prepares.
    async with one_connection(make_query_pool(database.query_url, min_size=1, max_size=1)) as pool:
        seen = await stores_seen_in_turns(DatabaseGateway(pool, signer), rounds=4)
    assert all(stores == own_stores(user) for user, stores in seen)


async def execute_what_another_user_prepared(rls: DatabaseGateway) -> set[str]:
    """Head office PREPAREs in one request; Seattle's next request on the same connection
    EXECUTEs it. What Seattle saw, if it could."""
    async with rls.session(UserId(HEAD_OFFICE.user_id)) as conn:
        await conn.execute(f"PREPARE zava_stores AS {STORES_SEEN}")
        cur = await conn.execute("EXECUTE zava_stores")
        assert {row[0] for row in await cur.fetchall()} == own_stores(HEAD_OFFICE)
    async with rls.session(UserId(SEATTLE.user_id)) as conn:
        cur = await conn.execute("EXECUTE zava_stores")
        return {row[0] for row in await cur.fetchall()}


async def test_a_prepared_statement_does_not_outlive_its_request(
    database: DatabaseEndpoints, signer: ContextSigner
) -> None:
    # The guard refuses PREPARE/EXECUTE; this is the layer below it: whatever a request left
    # prepared on its connection is gone before the next request gets that connection.
    async with one_connection(make_query_pool(database.query_url, min_size=1, max_size=1)) as pool:
        with pytest.raises(psycopg.errors.InvalidSqlStatementName):
            await execute_what_another_user_prepared(DatabaseGateway(pool, signer))


async def prepared_plan_without_discard_all(
    database: DatabaseEndpoints, signer: ContextSigner
) -> set[str]:
    """What Seattle sees EXECUTEing head office's prepared statement through a pool that only
    RESETs settings between requests (no DISCARD ALL)."""
    async def reset_settings_only(conn: psycopg.AsyncConnection) -> None:
        await conn.execute("RESET ALL")

    class SettingsOnlyDatabase(DatabaseGateway):
        # DatabaseGateway discards the session state as each request ends; this one only resets
        # the settings, like the misconfigured pool
        SESSION_RESET = "RESET ALL"

    misconfigured = AsyncConnectionPool(
        database.query_url, min_size=1, max_size=1, open=False,
        configure=configure_query_connection, reset=reset_settings_only,
    )
    async with one_connection(misconfigured):
        return await execute_what_another_user_prepared(
            SettingsOnlyDatabase(misconfigured, signer))


async def test_without_discard_all_the_prepared_plan_would_leak(
    database: DatabaseEndpoints, signer: ContextSigner
) -> None:
    # The test above can fail: a pool that only RESETs settings between requests lets Seattle
    # run head office's plan, store list folded in, and see every store.
    seen = await prepared_plan_without_discard_all(database, signer)
    assert seen == own_stores(HEAD_OFFICE) != own_stores(SEATTLE)
