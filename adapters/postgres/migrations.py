"""Versioned SQL migrations from `sql/`: applied in order, each in its own transaction, recorded
with a sha256 so that re-running is a no-op and an edited, already-applied file is refused.

Each migration is sent one statement at a time (split by PostgreSQL's own grammar, pglast), not
as one multi-statement text. On a Citus coordinator whose tables are already distributed, Citus
forwards the *whole* query text of some DDL (CREATE/DROP INDEX, CREATE TRIGGER, DROP POLICY,
CLUSTER, ...) to the workers through the extended protocol, where a text of several statements
fails: "cannot insert multiple commands into a prepared statement". On Citus a migration also
runs its multi-shard DDL over one connection per worker (citus.multi_shard_modify_mode =
sequential): a function created after DDL on a distributed table in the same transaction is
refused otherwise ("cannot run function command because there was a parallel operation on a
distributed table in the transaction")."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
from pglast.parser import ParseError, split

from domain.errors import ConfigurationError

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
_FILE_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x5A7A_4D16  # pg_advisory_xact_lock key serialising concurrent runners


class MigrationError(ConfigurationError):
    """The migration set or the database's record of it is inconsistent."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: bytes

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql).hexdigest()

    def statements(self) -> list[bytes]:
        """The migration's statements, without comments or the separating semicolons. A text
        PostgreSQL's grammar cannot parse is returned whole, for the server to report."""
        text = self.sql.decode()
        try:
            return [statement.encode() for statement in split(text, with_parser=True)]
        except ParseError:
            return [self.sql]


def discover(sql_dir: Path = SQL_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(sql_dir.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(
                f"{path.name}: migration files are named NNN_snake_case_name.sql"
            )
        migrations.append(Migration(int(match.group(1)), path.name, path.read_bytes()))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {sql_dir}")
    return migrations


def latest_version(sql_dir: Path = SQL_DIR) -> int:
    return max(m.version for m in discover(sql_dir))


def apply_migrations(admin_url: str, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply every pending migration; return the names of those applied now."""
    if not admin_url:
        raise MigrationError(
            "ZAVA_ADMIN_DATABASE_URL is not set: migrations need the owner's connection string"
        )
    applied_now: list[str] = []
    with psycopg.connect(admin_url, autocommit=True) as conn:
        _ensure_bookkeeping(conn)
        on_citus = _on_citus(conn)
        for migration in discover(sql_dir):
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                recorded = _recorded_checksum(conn, migration.version)
                if recorded is None:
                    if on_citus:
                        conn.execute("SET LOCAL citus.multi_shard_modify_mode = 'sequential'")
                    for statement in migration.statements():
                        conn.execute(statement)
                    conn.execute("RESET ROLE")
                    conn.execute(
                        "INSERT INTO zava_meta.schema_migrations (version, name, checksum)"
                        " VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                    applied_now.append(migration.name)
                elif recorded != migration.checksum:
                    raise MigrationError(
                        f"{migration.name} changed after it was applied (recorded sha256 "
                        f"{recorded[:12]}…, file {migration.checksum[:12]}…); applied migrations"
                        " are immutable: restore the file and add a new migration instead"
                    )
    return applied_now


def schema_version(conn: psycopg.Connection) -> int | None:
    """The highest applied migration, or None for a database that was never initialised."""
    exists = conn.execute("SELECT to_regclass('zava_meta.schema_migrations')").fetchone()
    if exists is None or exists[0] is None:
        return None
    row = conn.execute("SELECT max(version) FROM zava_meta.schema_migrations").fetchone()
    return None if row is None else row[0]


def _ensure_bookkeeping(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute("CREATE SCHEMA IF NOT EXISTS zava_meta")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS zava_meta.schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )


def _on_citus(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'").fetchone() is not None


def _recorded_checksum(conn: psycopg.Connection, version: int) -> str | None:
    row = conn.execute(
        "SELECT checksum FROM zava_meta.schema_migrations WHERE version = %s", (version,)
    ).fetchone()
    return None if row is None else str(row[0])
