"""Checks run before serving: refuse to serve through a role or schema that would bypass RLS."""

from __future__ import annotations

import logging

import psycopg

from adapters.postgres.migrations import latest_version, schema_version
from adapters.postgres.request_context import PROPAGATE_CONTEXT, ContextSigner, backend_binding
from domain.errors import ConfigurationError
from domain.model import UserId

TENANT_TABLES = ("customers", "orders", "order_items", "inventory")
# The query role's ceiling on temporary disk per session, set by sql/061 (why 1 GB: there).
QUERY_ROLE_TEMP_FILE_LIMIT = "1GB"

log = logging.getLogger(__name__)


def verify_serving_database(query_url: str) -> None:
    """Raise ConfigurationError unless the query role is safe and the schema is current."""
    with psycopg.connect(query_url, connect_timeout=10) as conn:
        _verify_role(conn)
        _verify_forced_rls(conn)
        _warn_without_temp_file_limit(conn)
        _verify_schema_version(conn)  # last: a refused read of the bookkeeping ends the transaction


def user_is_known(query_url: str, signer: ContextSigner, user_id: UserId) -> bool:
    """Whether the directory knows this user (asked as that user, like every request)."""
    with psycopg.connect(query_url, connect_timeout=10) as conn, conn.transaction():
        backend, propagate = backend_binding(conn)
        context = signer.sign("query", str(user_id), backend)
        conn.execute("SELECT set_config('zava.context', %s, true)", (context,))
        if propagate:
            conn.execute(PROPAGATE_CONTEXT)
        return conn.execute("SELECT 1 FROM access.current_user_profile()").fetchone() is not None


def _verify_role(conn: psycopg.Connection) -> None:
    row = conn.execute(
        """
        SELECT r.rolname, r.rolsuper, r.rolbypassrls,
               EXISTS (SELECT 1 FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                       WHERE n.nspname IN ('retail', 'access', 'audit')
                         AND pg_has_role(r.oid, c.relowner, 'USAGE')) AS owns
        FROM pg_roles AS r WHERE r.rolname = current_user
        """
    ).fetchone()
    assert row is not None
    name, is_super, bypasses, owns = row
    problems = [
        reason
        for reason, bad in (
            ("is a superuser", is_super),
            ("has BYPASSRLS", bypasses),
            ("owns (or can act as the owner of) the Zava tables", owns),
        )
        if bad
    ]
    if problems:
        raise ConfigurationError(
            f"refusing to serve: the query role {name} " + " and ".join(problems)
            + "; row-level security would not apply. Point ZAVA_DATABASE_URL at a"
            " NOSUPERUSER NOBYPASSRLS role that owns nothing (e.g. zava_query)"
        )


def _verify_forced_rls(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        """
        SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = 'retail' AND c.relname = ANY (%s)
          AND c.relrowsecurity AND c.relforcerowsecurity
        """,
        (list(TENANT_TABLES),),
    ).fetchall()
    missing = sorted(set(TENANT_TABLES) - {r[0] for r in rows})
    if missing:
        raise ConfigurationError(
            "refusing to serve: row-level security is not ENABLEd and FORCEd on retail."
            + ", retail.".join(missing) + "; run `zava-mcp db init` to migrate"
        )


def _verify_schema_version(conn: psycopg.Connection) -> None:
    expected = latest_version()
    try:
        found = schema_version(conn)
    except psycopg.errors.InsufficientPrivilege:
        return  # the query role may not read the bookkeeping; the admin path checks it
    if found != expected:
        raise ConfigurationError(
            f"database schema version is {found}, this server needs {expected}:"
            " run `zava-mcp db init`"
        )


def _warn_without_temp_file_limit(conn: psycopg.Connection) -> None:
    """sql/061 could not set it (an external server's admin that is not a superuser): say so,
    as model-written SQL can then fill the database's disk with temporary files."""
    row = conn.execute("SELECT current_setting('temp_file_limit'), current_user").fetchone()
    if row is not None and row[0] == "-1":
        log.warning("the query role has no temp_file_limit: one query can fill the database's"
                    " disk with temporary files; as a superuser run ALTER ROLE %s SET"
                    " temp_file_limit = '%s'", row[1], QUERY_ROLE_TEMP_FILE_LIMIT)
