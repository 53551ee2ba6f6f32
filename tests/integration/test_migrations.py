from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from adapters.postgres.migrations import (
    SQL_DIR,
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
