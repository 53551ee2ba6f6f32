from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from adapters.postgres.migrations import (
    SQL_DIR,
    Migration,
    MigrationError,
    apply_migrations,
    discover,
    latest_version,
    schema_version,
)
from ports.database_server import DatabaseEndpoints

pytestmark = pytest.mark.integration


def test_every_migration_is_recorded_with_its_checksum(database: DatabaseEndpoints) -> None:
    with psycopg.connect(database.admin_url) as conn:
        recorded = conn.execute(
            "SELECT version, name, checksum FROM zava_meta.schema_migrations ORDER BY version"
        ).fetchall()
        assert schema_version(conn) == latest_version()
    assert recorded == [(m.version, m.name, m.checksum) for m in discover()]


def test_reapplying_is_a_no_op(database: DatabaseEndpoints) -> None:
    with psycopg.connect(database.admin_url) as conn:
        before = conn.execute("SELECT count(*), max(applied_at) FROM zava_meta.schema_migrations")
        before_row = before.fetchone()
    assert apply_migrations(database.admin_url) == []
    assert apply_migrations(database.admin_url) == []
    with psycopg.connect(database.admin_url) as conn:
        after = conn.execute("SELECT count(*), max(applied_at) FROM zava_meta.schema_migrations")
        assert after.fetchone() == before_row


def test_a_changed_applied_file_is_a_clear_error(
    database: DatabaseEndpoints, tmp_path: Path
) -> None:
    changed = tmp_path / "sql"
    shutil.copytree(SQL_DIR, changed)
    first = sorted(changed.glob("0*.sql"))[1]
    first.write_text(first.read_text() + "\n-- an innocent-looking edit\n")
    with pytest.raises(MigrationError, match=rf"{first.name} changed after it was applied"):
        apply_migrations(database.admin_url, changed)


def test_badly_named_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "4_oops.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNN_snake_case_name\.sql"):
        discover(tmp_path)


def test_a_failing_migration_leaves_nothing_behind(
    database: DatabaseEndpoints, tmp_path: Path
) -> None:
    broken = tmp_path / "sql"
    shutil.copytree(SQL_DIR, broken)
    (broken / "999_broken.sql").write_text(
        "CREATE TABLE retail.half_built (id int);\nSELECT no_such_function();\n"
    )
    with pytest.raises(psycopg.errors.UndefinedFunction):
        apply_migrations(database.admin_url, broken)
    with psycopg.connect(database.admin_url) as conn:
        assert conn.execute("SELECT to_regclass('retail.half_built')").fetchone() == (None,)
        assert schema_version(conn) == latest_version()


def test_a_migration_is_sent_one_statement_at_a_time() -> None:
    """(Citus forwards the whole text of some DDL to its workers, which refuse several
    statements in one; sql/ files are split by PostgreSQL's grammar, dollar quotes intact.)"""
    migration = Migration(999, "999_x.sql", (
        b"-- a comment; not a statement\nSET LOCAL ROLE zava_owner;\n"
        b"CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'a;b' $$;\n"
        b"/* trailing; */ COMMENT ON FUNCTION f() IS 'x;y';\n"))
    assert migration.statements() == [
        b"SET LOCAL ROLE zava_owner",
        b"CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'a;b' $$",
        b"COMMENT ON FUNCTION f() IS 'x;y'",
    ]
    assert all(m.statements() for m in discover())


def test_a_migration_the_grammar_rejects_is_left_whole_for_the_server_to_report() -> None:
    migration = Migration(999, "999_x.sql", b"SELECT 1; SELEC 2;")
    assert migration.statements() == [b"SELECT 1; SELEC 2;"]
