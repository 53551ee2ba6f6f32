"""The in-memory SQL database (SQLite) against the real one: the same data set, loaded by
`zava-mcp db init` into PostgreSQL and into the fake, answers portable queries identically for
each demo user (row-level security emulated), and the fake's schema catalog describes the same
tables, columns and valid values as PostgreSQL's."""

from __future__ import annotations

import pytest

from adapters.demodata.generator import generate_dataset
from adapters.demodata.reference import USERS
from adapters.memory.access import InMemoryAccessDirectory
from adapters.memory.sql_database import InMemorySqlDatabase
from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.sales_query import PsycopgSalesQueryExecutor
from adapters.postgres.schema_catalog import PsycopgSchemaCatalog
from domain.model import UserId
from tests.conftest import DEMO_ANCHOR, DEMO_SEED
from tests.support.unguarded import AcceptEverythingGuard

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

GUARD = AcceptEverythingGuard()
PORTABLE_QUERIES = [
    "SELECT count(*) FROM orders",
    "SELECT s.name, count(*) AS orders FROM orders o JOIN stores s USING (store_id)"
    " GROUP BY s.name ORDER BY s.name",
    "SELECT status, count(*) FROM orders GROUP BY status ORDER BY status",
    "SELECT count(*), sum(quantity) FROM order_items",
    "SELECT round(sum(total_amount), 2) FROM orders WHERE status = 'completed'",
    "SELECT count(*) FROM customers",
    "SELECT count(*) FROM inventory WHERE stock_level <= reorder_point",
    "SELECT c.name, count(*) FROM products p JOIN categories c USING (category_id)"
    " GROUP BY c.name ORDER BY c.name",
    "SELECT sku FROM products ORDER BY base_price DESC, sku LIMIT 5",
]
# columns PostgreSQL computes itself (the full-text search document): not in the data set
DATABASE_GENERATED = {("retail.products", "search_document")}
USER_IDS = [UserId(u.user_id) for u in USERS[:3]] + [UserId(USERS[-1].user_id)]


@pytest.fixture(scope="module")
def fake() -> InMemorySqlDatabase:
    return InMemorySqlDatabase(generate_dataset(DEMO_SEED, DEMO_ANCHOR, "small"),
                               InMemoryAccessDirectory.from_demo_data())


def _close(a: object, b: object) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int):
        return abs(a - b) <= 0.011  # SQLite sums floats, PostgreSQL numerics: to the cent
    return a == b


@pytest.mark.parametrize("user", USER_IDS)
async def test_portable_queries_answer_alike(fake: InMemorySqlDatabase,
                                             executor: PsycopgSalesQueryExecutor,
                                             user: UserId) -> None:
    for sql in PORTABLE_QUERIES:
        real = await executor.run(user, GUARD.check(sql), 100)
        memory = await fake.executor.run(user, GUARD.check(sql), 100)
        assert len(memory.rows) == len(real.rows), sql
        for got, expected in zip(memory.rows, real.rows, strict=True):
            assert all(_close(g, e) for g, e in zip(got, expected, strict=True)), (
                sql, got, expected)


@pytest.mark.parametrize("user", USER_IDS)
async def test_the_schema_catalogs_agree(fake: InMemorySqlDatabase, gateway: DatabaseGateway,
                                         user: UserId) -> None:
    real_catalog = PsycopgSchemaCatalog(gateway)
    tables = sorted(fake.catalog.exposed_tables())
    assert set(tables) <= real_catalog.exposed_tables()
    real = await real_catalog.describe(user, tables)
    memory = await fake.catalog.describe(user, tables)
    for got, expected in zip(memory, real, strict=True):
        assert got.name == expected.name
        assert got.row_level_security == expected.row_level_security
        # by name: a column added by a later migration comes last in PostgreSQL, where the
        # data set's loader puts it
        loaded = {c.name: c for c in expected.columns
                  if (got.name, c.name) not in DATABASE_GENERATED}
        assert sorted(c.name for c in got.columns) == sorted(loaded), got.name
        for column in got.columns:
            assert loaded[column.name].data_type.startswith(column.data_type), (got.name, column)
        assert got.valid_values == expected.valid_values, got.name
