"""The access check's reads of reference tables on a Citus cluster, straight from each node's
own copy (`zava-mcp db init`, adapters/postgres/citus.py).

Every statement of the query role runs the access check on the coordinator (which folds the
caller's store list while planning, to prune the shards) and again on every worker backend that
plans a shard query. The check reads four reference tables: the access directory
(`access.app_users`, `access.user_store_access`), `retail.stores` (head office sees every
store) and the context key. Named as tables, each of those reads goes through Citus's planner
and executor inside the shard query: a router plan, the query deparsed with the shard's name,
then parsed and planned again for local execution. Measured on the test cluster (warm worker
backend, one call per transaction): ~170 µs of the access function's ~280 µs, paid once per
node for a store manager's statement and once per shard for head office's.

A reference table has one shard, with a placement of the same name (`<table>_<shard id>`) on
every node, written by Citus in the same distributed transaction as the table: reading that
placement is what Citus's local execution does anyway, without the planning around it. So the
two functions that read them are re-created here, on the coordinator and (as distributed
functions) on every node, with each reference table replaced by its local placement: the same
rows, the same snapshot, the same security-definer owner. Nothing else in them changes (they
are taken from whatever migration defined them last, like the context check's global-pid
binding), so a later migration that redefines one gets it rewritten again by the next `db init`.

A node without a placement would fail the check (an error, never rows): every primary node,
the coordinator included, is given one (`replicate_reference_tables()`) and checked before the
functions are re-created. Re-run `db init` after adding a worker, as for its password.
"""

from __future__ import annotations

import re

import psycopg

from adapters.postgres.citus_context import OWNER_ROLE

# The access check's functions and the reference tables each reads (sql/003, sql/020).
LOCALLY_READ: dict[str, tuple[str, ...]] = {
    "access.visible_store_ids()": ("access.app_users", "access.user_store_access",
                                   "retail.stores"),
    "access.context_signature(text)": ("access.context_key",),
}


class LocalReadsError(RuntimeError):
    """The access functions cannot be pointed at the nodes' own reference-table placements."""


def read_reference_tables_locally(admin_url: str) -> list[str]:
    """Re-create the access functions to read each reference table's local placement; return
    what changed (nothing when they already do). On a session of its own, first in its
    transaction: on the session that had just distributed the tables, Citus sent the new
    definition to a worker over two connections, the second (`ALTER ROUTINE … OWNER TO`)
    waiting for the first's lock (a distributed deadlock, every fresh `db init`); and a node
    lacking a placement gets one over a loopback connection, which must not wait for locks
    this transaction holds."""
    with psycopg.connect(admin_url) as conn:
        return _read_locally(conn)


def _read_locally(conn: psycopg.Connection) -> list[str]:
    tables = sorted({t for names in LOCALLY_READ.values() for t in names})
    shards = _reference_shards(conn, tables)
    if _nodes_missing_a_placement(conn, shards):
        conn.execute("SELECT replicate_reference_tables('block_writes')")
        missing = _nodes_missing_a_placement(conn, shards)
        if missing:
            raise LocalReadsError(
                "the reference tables of the access check have no placement on "
                + ", ".join(missing) + " (a coordinator must be in the metadata:"
                " `SELECT citus_set_coordinator_host(host, port)`), then run `zava-mcp db init`"
                " again")
    changed = []
    for function, read in LOCALLY_READ.items():
        (definition,) = conn.execute(
            "SELECT pg_get_functiondef(%s::regprocedure)", (function,)).fetchone() or (None,)
        if definition is None:
            raise LocalReadsError(f"{function} does not exist: run the migrations first")
        local = local_definition(definition, {t: shards[t] for t in read})
        if local != definition:
            conn.execute(f"SET LOCAL ROLE {OWNER_ROLE}")
            conn.execute(local)
            conn.execute("RESET ROLE")
            changed.append(f"{function}: reads {', '.join(read)} from each node's own placement")
    return changed


def local_definition(definition: str, shards: dict[str, int]) -> str:
    """`definition` with every reference to each table (or to an earlier shard of it) replaced
    by the table's placement `<table>_<shard id>`; each table must be referenced."""
    for table, shard in shards.items():
        pattern = re.compile(rf"(?<![\w.]){re.escape(table)}(?:_\d+)?\b")
        definition, count = pattern.subn(f"{table}_{shard}", definition)
        if count == 0:
            raise LocalReadsError(f"the access function no longer reads {table}: "
                                  "adapters/postgres/citus_local_reads.py must follow it")
    return definition


def routed_definition(definition: str, tables: tuple[str, ...]) -> str:
    """The inverse of local_definition: the tables named again (for the benchmark's
    before/after comparison, bench/citus.py)."""
    for table in tables:
        definition = re.sub(rf"(?<![\w.]){re.escape(table)}_\d+\b", table, definition)
    return definition


def _reference_shards(conn: psycopg.Connection, tables: list[str]) -> dict[str, int]:
    shards = {str(t): int(s) for t, s in conn.execute(
        "SELECT s.logicalrelid::regclass::text, s.shardid FROM pg_dist_shard AS s"
        " JOIN pg_dist_partition AS p USING (logicalrelid)"
        " WHERE p.partmethod = 'n' AND p.repmodel = 't'"
        " AND s.logicalrelid = ANY (%s::regclass[])", (tables,))}
    missing = sorted(set(tables) - set(shards))
    if missing:
        raise LocalReadsError(f"not reference tables: {', '.join(missing)}")
    return shards


def _nodes_missing_a_placement(conn: psycopg.Connection, shards: dict[str, int]) -> list[str]:
    """The nodes lacking a placement of one of the shards: primary nodes by `host:port`, and
    this node (the coordinator, which runs the check too) when it is not in the metadata."""
    return [str(r[0]) for r in conn.execute(
        "WITH node AS ("
        "   SELECT n.nodename || ':' || n.nodeport AS name, n.groupid FROM pg_dist_node AS n"
        "   WHERE n.noderole = 'primary' AND n.isactive"
        "   UNION SELECT 'this coordinator', l.groupid FROM pg_dist_local_group AS l"
        "   WHERE NOT EXISTS (SELECT 1 FROM pg_dist_node AS n WHERE n.groupid = l.groupid))"
        " SELECT DISTINCT node.name FROM node CROSS JOIN unnest(%s::bigint[]) AS s(shardid)"
        " WHERE NOT EXISTS (SELECT 1 FROM pg_dist_placement AS p"
        "                   WHERE p.shardid = s.shardid AND p.groupid = node.groupid)"
        " ORDER BY 1", (list(shards.values()),))]
