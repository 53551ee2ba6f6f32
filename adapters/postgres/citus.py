"""The Zava schema on a Citus cluster (`zava-mcp db init` against a Citus coordinator).

What Citus needs that a single PostgreSQL does not (each measured on a real cluster, see the
tests in tests/integration/citus/):
- Citus runs DDL on the workers by connecting as the current role: the owner role must be able
  to log in (with its password in the coordinator's ~/.pgpass, see the README).
- Reference tables are copied to every node: the access directory and the context key must be
  among them, because the row-level security policies run on the workers' shards and read them.
- Tenant tables are distributed by store_id and co-located; the two tenant-to-tenant foreign
  keys are dropped around the distribution and re-created, and the table comments (which the
  schema tool serves) are re-applied, because converting the first reference table turns its
  foreign-key neighbours into Citus local tables and loses both.
- The statement-level rollup triggers (transition tables) cannot run on distributed tables:
  they are dropped and the rollups are refreshed by `zava-mcp db refresh-rollups`.
- The signed request context is bound to Citus's global pid on the coordinator, and what
  travels to the workers to the request's distributed transaction (citus_context.py).
- The query role logs in to each worker with a password only the coordinator holds
  (pg_dist_authinfo), so the context that travels there as statement text cannot be replayed
  with the application's credentials (citus_worker_login.py).
- The access check reads the reference tables from each node's own placement, not through
  Citus's planner inside every shard query (citus_local_reads.py).
Everything here is idempotent: a second `db init` finds everything in place and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import psycopg
from psycopg import sql

from adapters.postgres.citus_context import (
    OWNER_ROLE,
    bind_context_to_transactions,
    function_body,
)
from adapters.postgres.citus_local_reads import read_reference_tables_locally
from adapters.postgres.citus_worker_login import (
    QUERY_ROLE,
    separate_worker_passwords,
    worker_logins_open,
)
from adapters.postgres.data_version import VERSION_SQL

log = logging.getLogger(__name__)

# Copied to every node: the policies on the workers' shards read the access directory and
# verify contexts with the key. Parents before children (foreign keys).
ACCESS_REFERENCE_TABLES = ("access.context_key", "access.app_users", "access.user_store_access")
_REFERENCE_ORDER = (
    "retail.regions", "retail.stores", "retail.categories", "retail.product_types",
    "retail.products", "retail.product_description_embeddings",
)
# The query role's settings on every node (ALTER ROLE ... SET, which Citus propagates):
# - the policy's access function reads reference tables from inside a shard query;
# - SET LOCAL of the signed context travels to the workers with the transaction;
# - no query role's statement text in pg_stat_activity (a propagated SET LOCAL carries the
#   signed context as text: no other session of the role may read it there);
# - none in the server logs either, whatever postgresql.conf says (the context is statement text
#   on the workers and a bind parameter on the coordinator, which log_statement logs too). These
#   are superuser-only settings: the role cannot turn them back on. The server logs and audits
#   the SQL it runs itself.
# - a multi-shard statement opens up to one connection per shard on a worker (at most
#   citus.max_adaptive_executor_pool_size, 16), and Citus keeps 1 per worker after the
#   transaction by default: head office's next statement logged in again (SCRAM), forked a worker
#   backend and ran the access check there with cold caches (measured: +9 ms on a 25 ms
#   head-office aggregate, 4 shards per worker). Up to 4 stay open per worker and coordinator
#   backend, i.e. at most 4 x the server's pool size idle zava_query backends on each worker.
QUERY_ROLE_SETTINGS = {
    "citus.allow_nested_distributed_execution": "on",
    "citus.propagate_set_commands": "local",
    "citus.max_cached_conns_per_worker": "4",
    "track_activities": "off",
    "log_statement": "none",
    "log_min_duration_statement": "-1",
    "log_min_duration_sample": "-1",
    "log_transaction_sample_rate": "0",
    "log_min_error_statement": "panic",
    "log_parameter_max_length": "0",
    "log_parameter_max_length_on_error": "0",
}
_CONTEXT_FUNCTION = "access.verified_context()"


class CitusSetupError(RuntimeError):
    """The coordinator is not set up the way the distributed schema needs."""


@dataclass(frozen=True)
class TableDistribution:
    table: str
    kind: str  # 'reference', 'distributed', 'local' (on the coordinator only)
    distribution_column: str | None
    colocation_id: int | None
    shard_count: int


def citus_version(conn: psycopg.Connection) -> str | None:
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'citus'").fetchone()
    return None if row is None else str(row[0])


def prepare_roles(conn: psycopg.Connection) -> None:
    """Before the migrations: the owner must log in, because Citus sends the migrations' DDL
    to the workers as the owner. Run by the admin, before sql/001 would create it NOLOGIN."""
    exists = conn.execute(
        "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (OWNER_ROLE,)
    ).fetchone()
    if exists is None:
        conn.execute(sql.SQL(
            "CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
        ).format(sql.Identifier(OWNER_ROLE)))
    elif not exists[0]:
        conn.execute(sql.SQL("ALTER ROLE {} LOGIN").format(sql.Identifier(OWNER_ROLE)))


def distribute(admin_url: str) -> list[str]:
    """Make the access and reference tables reference tables and distribute the tenant tables;
    return what it changed (nothing on a second run)."""
    changed: list[str] = []
    with psycopg.connect(admin_url) as conn:
        kinds: dict[str, str] = dict(conn.execute(
            "SELECT table_name, kind FROM zava_meta.table_distribution"
        ).fetchall())
        colocate: dict[str, str] = dict(conn.execute(
            "SELECT table_name, colocate_with FROM zava_meta.table_distribution"
            " WHERE colocate_with IS NOT NULL"
        ).fetchall())
        done = _citus_tables(conn)
        references = [*ACCESS_REFERENCE_TABLES, *_REFERENCE_ORDER,
                      *sorted(t for t, k in kinds.items()
                              if k == "reference" and t not in _REFERENCE_ORDER)]
        tenants = sorted((t for t, k in kinds.items() if k == "distributed"),
                         key=lambda t: (t in colocate, t))
        pending = [t for t in (*references, *tenants) if done.get(t) is None]
        if pending:
            with conn.transaction():
                conn.execute("SET LOCAL citus.multi_shard_modify_mode = 'sequential'")
                comments = _comments(conn, pending)
                foreign_keys = _tenant_foreign_keys(conn, tenants)
                _drop_rollup_triggers(conn)
                for name, table, _ in foreign_keys:
                    conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                        _table(table), sql.Identifier(name)))
                for table in references:
                    if table in pending:
                        conn.execute("SELECT create_reference_table(%s::regclass)", (table,))
                        changed.append(f"{table}: reference")
                for table in tenants:
                    if table in pending:
                        conn.execute(
                            "SELECT create_distributed_table(%s::regclass, 'store_id',"
                            " colocate_with => %s)", (table, colocate.get(table, "default")))
                        changed.append(f"{table}: distributed by store_id")
                for name, table, definition in foreign_keys:
                    conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                        _table(table), sql.Identifier(name)) + sql.SQL(definition))
                for statement in comments:
                    conn.execute(statement)
        changed += _configure_query_role(conn)
        changed += bind_context_to_transactions(conn)
        changed += _restrict_remote_commands(conn)
        conn.commit()
        changed += separate_worker_passwords(conn)
    changed += read_reference_tables_locally(admin_url)
    return changed


def worker_login_warnings(admin_url: str, query_url: str) -> list[str]:
    """What an operator must fix so that the application's credentials open no worker
    session of the query role (adapters/postgres/citus_worker_login.py)."""
    if not query_url:
        return ["no ZAVA_DATABASE_URL: could not check that the workers refuse the"
                " application's credentials for zava_query"]
    with psycopg.connect(admin_url) as conn:
        return worker_logins_open(conn, query_url)


def distribution(conn: psycopg.Connection) -> list[TableDistribution]:
    """Each Zava table's place in the cluster, for `db status`."""
    rows = conn.execute(
        """
        SELECT t.table_name::text, t.citus_table_type, t.distribution_column,
               t.colocation_id, t.shard_count
        FROM citus_tables AS t
        JOIN pg_class AS c ON c.oid = t.table_name
        WHERE c.relnamespace::regnamespace::text IN ('retail', 'access', 'audit', 'zava_meta')
        ORDER BY 1
        """
    ).fetchall()
    return [TableDistribution(r[0], r[1], None if r[2] in (None, "<none>") else r[2], r[3],
                              int(r[4])) for r in rows]


def context_binding(conn: psycopg.Connection) -> str:
    """Which backend id the database binds a signed context to: 'pid' or 'global pid'."""
    body = function_body(conn, _CONTEXT_FUNCTION)
    return "global pid" if body and "citus_backend_gpid()" in body else "pid"


def _citus_tables(conn: psycopg.Connection) -> dict[str, str]:
    return {r[0]: r[1] for r in conn.execute(
        "SELECT logicalrelid::regclass::text, partmethod FROM pg_dist_partition"
    )}


def _table(name: str) -> sql.Composable:
    return sql.Identifier(*name.split("."))


def _comments(conn: psycopg.Connection, tables: list[str]) -> list[sql.Composed]:
    """COMMENT statements that restore the tables' and columns' comments."""
    rows = conn.execute(
        """
        SELECT d.objoid::regclass::text, a.attname, d.description
        FROM pg_description AS d
        LEFT JOIN pg_attribute AS a ON a.attrelid = d.objoid AND a.attnum = d.objsubid
        WHERE d.classoid = 'pg_class'::regclass AND d.objoid = ANY (%s::regclass[])
        """, (tables,),
    ).fetchall()
    statements = []
    for table, column, text in rows:
        target = (sql.SQL("TABLE {}").format(_table(table)) if column is None else
                  sql.SQL("COLUMN {}.{}").format(_table(table), sql.Identifier(column)))
        statements.append(sql.SQL("COMMENT ON {} IS {}").format(target, sql.Literal(text)))
    return statements


def _tenant_foreign_keys(
    conn: psycopg.Connection, tenants: list[str]
) -> list[tuple[str, str, str]]:
    """(name, table, definition) of the foreign keys between tenant tables."""
    rows = conn.execute(
        """
        SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE contype = 'f' AND conrelid = ANY (%(t)s::regclass[])
          AND confrelid = ANY (%(t)s::regclass[])
        ORDER BY conrelid::regclass::text, conname
        """, {"t": tenants},
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def _drop_rollup_triggers(conn: psycopg.Connection) -> None:
    for name, table in conn.execute(
        "SELECT tgname, tgrelid::regclass::text FROM pg_trigger"
        " WHERE NOT tgisinternal AND tgname LIKE '%%sales_rollup%%'"
        " AND tgrelid::regclass::text LIKE 'retail.%%'"
    ).fetchall():
        conn.execute(sql.SQL("DROP TRIGGER {} ON {}").format(sql.Identifier(name), _table(table)))


def _configure_query_role(conn: psycopg.Connection) -> list[str]:
    current = dict(
        setting.split("=", 1)
        for (config,) in conn.execute(
            "SELECT coalesce(setconfig, '{}') FROM pg_db_role_setting"
            " WHERE setrole = %s::regrole AND setdatabase = 0", (QUERY_ROLE,))
        for setting in config
    )
    changed = []
    for name, value in QUERY_ROLE_SETTINGS.items():
        if current.get(name) != value:
            conn.execute(sql.SQL("ALTER ROLE {} SET {} = {}").format(
                sql.Identifier(QUERY_ROLE), sql.Identifier(*name.split(".")), sql.Literal(value)))
            changed.append(f"{QUERY_ROLE}: {name} = {value}")
    return changed


# Citus's run_command_on_* functions (all through master_run_on_worker, PUBLIC by default) run any
# SQL on the workers as the current role, with the worker passwords in pg_dist_authinfo: a
# session of the query role on the coordinator could use the workers as if it could log in
# there (and claim any global pid in that SQL). Only a superuser and the owner keep them; the
# one thing the server asks of every node, its row-change counters (the cache's data version,
# adapters/postgres/data_version.py), it asks through a function of the owner's.
_REMOTE_COMMAND = "pg_catalog.master_run_on_worker(text[], integer[], text[], boolean)"
CLUSTER_ROW_CHANGES = "access.cluster_row_changes()"
_CLUSTER_ROW_CHANGES_FUNCTION = sql.SQL("""
CREATE OR REPLACE FUNCTION access.cluster_row_changes(OUT changes bigint, OUT failed bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(sum(result::bigint), 0)::bigint, count(*) FILTER (WHERE NOT success)
    FROM run_command_on_all_nodes({})
$$
""").format(sql.Literal(VERSION_SQL))


def _restrict_remote_commands(conn: psycopg.Connection) -> list[str]:
    changed = []
    (public,) = conn.execute(
        "SELECT has_function_privilege('public', %s::regprocedure, 'EXECUTE')",
        (_REMOTE_COMMAND,)).fetchone() or (False,)
    if public:
        conn.execute(f"REVOKE EXECUTE ON FUNCTION {_REMOTE_COMMAND} FROM PUBLIC")
        conn.execute(f"GRANT EXECUTE ON FUNCTION {_REMOTE_COMMAND} TO {OWNER_ROLE}")
        changed.append("master_run_on_worker (run_command_on_*): no longer PUBLIC on the"
                       " coordinator")
    exists = conn.execute("SELECT to_regprocedure(%s)", (CLUSTER_ROW_CHANGES,)).fetchone()
    if exists is None or exists[0] is None:
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER_ROLE)))
        conn.execute(_CLUSTER_ROW_CHANGES_FUNCTION)
        conn.execute(f"REVOKE ALL ON FUNCTION {CLUSTER_ROW_CHANGES} FROM PUBLIC")
        conn.execute(f"GRANT EXECUTE ON FUNCTION {CLUSTER_ROW_CHANGES} TO {QUERY_ROLE}")
        conn.execute("RESET ROLE")
        changed.append(f"{CLUSTER_ROW_CHANGES}: every node's row-change counters, as the owner")
    return changed
