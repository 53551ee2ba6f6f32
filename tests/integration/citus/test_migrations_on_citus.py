"""A later release's migration applied by `zava-mcp db init` to a coordinator whose tables are
already distributed: several statements (DDL on a distributed table, an index, a comment, a
function) in one file apply on every node, are recorded, and a second `db init` is a no-op.

Sent as one multi-statement text, Citus forwarded the whole text of the CREATE INDEX to the
workers through the extended protocol ("cannot insert multiple commands into a prepared
statement"), and a function created after DDL on a distributed table in the same transaction
was refused ("cannot run function command because there was a parallel operation on a
distributed table in the transaction")."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from adapters.postgres import provisioning
from adapters.postgres.migrations import SQL_DIR, latest_version
from ports.database_server import DatabaseEndpoints

LATER_RELEASE = """-- a later release: a column, its index and comment, and a function using it
SET LOCAL ROLE zava_owner;
ALTER TABLE retail.orders ADD COLUMN zz_channel text;
CREATE INDEX orders_zz_channel ON retail.orders (store_id, zz_channel);
COMMENT ON COLUMN retail.orders.zz_channel IS 'Where the order was placed (a test column).';
CREATE FUNCTION retail.zz_channel_label(channel text) RETURNS text
    LANGUAGE sql IMMUTABLE
AS $$ SELECT coalesce(channel, 'store; in person') $$;
"""
VERSION = latest_version() + 1


@pytest.fixture(scope="module")
def later_release(database: DatabaseEndpoints, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[Path]:
    """The project's migrations plus one more; afterwards the cluster is put back as it was
    (the other Citus tests share it)."""
    sql_dir = tmp_path_factory.mktemp("later") / "sql"
    shutil.copytree(SQL_DIR, sql_dir)
    (sql_dir / f"{VERSION:03d}_order_channel.sql").write_text(LATER_RELEASE)
    yield sql_dir
    with psycopg.connect(database.admin_url) as conn:
        conn.execute("SET LOCAL citus.multi_shard_modify_mode = 'sequential'")
        conn.execute("DROP FUNCTION IF EXISTS retail.zz_channel_label(text)")
        conn.execute("DROP INDEX IF EXISTS retail.orders_zz_channel")
        conn.execute("ALTER TABLE retail.orders DROP COLUMN IF EXISTS zz_channel")
        conn.execute("DELETE FROM zava_meta.schema_migrations WHERE version = %s", (VERSION,))


def test_a_later_multi_statement_migration_applies_to_a_distributed_cluster(
    database: DatabaseEndpoints, later_release: Path, worker_admin_urls: dict[str, str]
) -> None:
    report = provisioning.initialise(database, None, sql_dir=later_release)
    assert report.migrations_applied == [f"{VERSION:03d}_order_channel.sql"]
    assert report.already_initialised
    with psycopg.connect(database.admin_url) as conn:
        assert conn.execute(
            "SELECT name FROM zava_meta.schema_migrations WHERE version = %s", (VERSION,)
        ).fetchone() == (f"{VERSION:03d}_order_channel.sql",)
        assert conn.execute(
            "SELECT col_description('retail.orders'::regclass, attnum) FROM pg_attribute"
            " WHERE attrelid = 'retail.orders'::regclass AND attname = 'zz_channel'"
        ).fetchone() == ("Where the order was placed (a test column).",)
        assert conn.execute(
            "SELECT retail.zz_channel_label(zz_channel), count(*) FROM retail.orders GROUP BY 1"
        ).fetchone()[0] == "store; in person"
    for name, url in worker_admin_urls.items():
        with psycopg.connect(url) as conn:
            conn.execute("SET citus.show_shards_for_app_name_prefixes = '*'")
            shards_with_column = conn.execute(
                "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                " WHERE c.relnamespace = 'retail'::regnamespace AND c.relkind = 'r'"
                " AND c.relname LIKE 'orders\\_1%%' AND a.attname = 'zz_channel'"
            ).fetchone()[0]
            shard_indexes = conn.execute(
                "SELECT count(*) FROM pg_indexes WHERE schemaname = 'retail'"
                " AND indexname LIKE 'orders\\_zz\\_channel\\_1%%'"
            ).fetchone()[0]
            function = conn.execute(
                "SELECT to_regprocedure('retail.zz_channel_label(text)') IS NOT NULL"
            ).fetchone()[0]
        assert shards_with_column > 0, name
        assert shard_indexes == shards_with_column, name
        assert function, name


def test_a_second_init_after_the_later_migration_is_a_no_op(
    database: DatabaseEndpoints, later_release: Path
) -> None:
    provisioning.initialise(database, None, sql_dir=later_release)  # applied once, if not yet
    with psycopg.connect(database.admin_url) as conn:
        before = conn.execute("SELECT count(*), max(applied_at) FROM zava_meta.schema_migrations"
                              ).fetchone()
    report = provisioning.initialise(database, None, sql_dir=later_release)
    assert report.migrations_applied == []
    assert report.distributed == []
    with psycopg.connect(database.admin_url) as conn:
        assert conn.execute("SELECT count(*), max(applied_at) FROM zava_meta.schema_migrations"
                            ).fetchone() == before
