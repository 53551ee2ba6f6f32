"""The query role has exactly the privileges the security model gives it (README "Security
model"), proven on the live database."""

from __future__ import annotations

import psycopg
import pytest

from ports.database_server import DatabaseEndpoints

pytestmark = pytest.mark.integration

RETAIL_TABLES = (
    "regions", "stores", "categories", "product_types", "products",
    "product_description_embeddings", "customers", "orders", "order_items", "inventory",
)
PRIVATE_TABLES = (
    "access.app_users", "access.user_store_access", "audit.tool_calls",
    "zava_meta.schema_migrations", "zava_meta.demo_dataset", "zava_meta.table_distribution",
)
WRITES = (
    "INSERT INTO retail.{t} DEFAULT VALUES",
    "UPDATE retail.{t} SET updated_at = updated_at",
    "DELETE FROM retail.{t}",
    "TRUNCATE retail.{t}",
    "ALTER TABLE retail.{t} ADD COLUMN x int",
    "DROP TABLE retail.{t}",
    "ALTER TABLE retail.{t} DISABLE ROW LEVEL SECURITY",
)


def _attempt(url: str, statement: str, *, read_only: bool = False) -> Exception | None:
    """Run `statement` as the query role in its own read-write transaction."""
    with psycopg.connect(url) as conn:
        try:
            if read_only:
                conn.execute("SET TRANSACTION READ ONLY")
            conn.execute(statement)
        except psycopg.Error as e:
            return e
        finally:
            conn.rollback()
    return None


def test_role_attributes(database: DatabaseEndpoints) -> None:
    with psycopg.connect(database.query_url) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolinherit"
            " FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert row == (False, False, False, False, False)
        owned = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
        ).fetchone()
        assert owned == (0,)
        memberships = conn.execute(
            "SELECT count(*) FROM pg_auth_members WHERE member = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
        ).fetchone()
        assert memberships == (0,)


def test_select_only_on_every_retail_table(database: DatabaseEndpoints) -> None:
    with psycopg.connect(database.query_url) as conn:
        for table in RETAIL_TABLES:
            privileges = conn.execute(
                "SELECT array_agg(p ORDER BY p) FROM unnest(ARRAY['SELECT','INSERT','UPDATE',"
                "'DELETE','TRUNCATE','REFERENCES','TRIGGER']) AS p "
                "WHERE has_table_privilege(current_user, %s, p)",
                (f"retail.{table}",),
            ).fetchone()
            assert privileges == (["SELECT"],), table


@pytest.mark.parametrize("table", RETAIL_TABLES)
@pytest.mark.parametrize("template", WRITES)
def test_writes_are_refused_even_outside_a_read_only_transaction(
    database: DatabaseEndpoints, table: str, template: str
) -> None:
    error = _attempt(database.query_url, template.format(t=table))
    assert isinstance(error, psycopg.errors.InsufficientPrivilege), error


@pytest.mark.parametrize("table", PRIVATE_TABLES)
def test_private_tables_are_unreadable(database: DatabaseEndpoints, table: str) -> None:
    error = _attempt(database.query_url, f"SELECT * FROM {table}")
    assert isinstance(error, psycopg.errors.InsufficientPrivilege), error


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE public.x (id int)",
        "CREATE TABLE retail.x (id int)",
        "CREATE TEMP TABLE x (id int)",
        "CREATE SCHEMA sneaky",
        "CREATE FUNCTION retail.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_ls_dir('.')",
        "COPY retail.orders TO '/tmp/orders.csv'",
        "COPY (SELECT 1) TO PROGRAM 'id'",
        "SELECT lo_import('/etc/passwd')",
        "INSERT INTO audit.tool_calls (tool, argument_digest, duration_ms, outcome)"
        " VALUES ('x', 'x', 1, 'ok')",
        "SET ROLE zava_owner",
        "CREATE EXTENSION dblink",
    ],
)
def test_no_way_to_create_write_or_touch_files(
    database: DatabaseEndpoints, statement: str
) -> None:
    error = _attempt(database.query_url, statement)
    assert error is not None, statement
    assert isinstance(
        error, psycopg.errors.InsufficientPrivilege | psycopg.errors.UndefinedFile
    ), error

