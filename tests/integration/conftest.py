from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import make_query_pool
from adapters.postgres.request_context import ContextSigner
from adapters.postgres.sales_query import PsycopgSalesQueryExecutor
from ports.database_server import DatabaseEndpoints


@pytest.fixture
async def query_pool(database: DatabaseEndpoints) -> AsyncIterator[AsyncConnectionPool]:
    pool = make_query_pool(database.query_url, min_size=1, max_size=3)
    await pool.open(wait=True)
    yield pool
    await pool.close()


@pytest.fixture
def gateway(query_pool: AsyncConnectionPool, signer: ContextSigner) -> DatabaseGateway:
    return DatabaseGateway(query_pool, signer, statement_timeout_s=5)


@pytest.fixture
def executor(gateway: DatabaseGateway) -> PsycopgSalesQueryExecutor:
    return PsycopgSalesQueryExecutor(gateway)


@pytest.fixture
def integrity_urls(database: DatabaseEndpoints) -> list[str]:
    """Admin URLs whose tables and catalog an attack must leave unchanged (every node on Citus)."""
    return [database.admin_url]


def other_database(endpoints: DatabaseEndpoints, name: str) -> DatabaseEndpoints:
    return DatabaseEndpoints(
        admin_url=endpoints.admin_url.replace("/zava?", f"/{name}?"),
        query_url=endpoints.query_url.replace("/zava?", f"/{name}?"),
        kind=endpoints.kind,
    )


@pytest.fixture
def scratch(database: DatabaseEndpoints) -> Iterator[DatabaseEndpoints]:
    """A second, empty database on the same server."""
    root = database.admin_url.replace("/zava?", "/postgres?")
    with psycopg.connect(root, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS zava_scratch WITH (FORCE)")
        conn.execute("CREATE DATABASE zava_scratch")
    yield other_database(database, "zava_scratch")
    with psycopg.connect(root, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS zava_scratch WITH (FORCE)")
