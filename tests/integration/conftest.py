from __future__ import annotations

from collections.abc import AsyncIterator

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
