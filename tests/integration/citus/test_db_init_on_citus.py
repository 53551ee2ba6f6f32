"""`zava-mcp db init` against a Citus coordinator (external mode): the access and key tables are
reference tables, the tenant tables are distributed by store_id and co-located, the comments
the schema tool serves survive, the workers hold the data, and a second run changes nothing."""

from __future__ import annotations

import re

import psycopg
import pytest

from adapters.postgres import citus, citus_local_reads, provisioning
from adapters.postgres.migrations import SQL_DIR
from ports.database_server import DatabaseEndpoints
from tests.conftest import DEMO_ANCHOR, DEMO_SEED

ACCESS_TABLES = {"access.app_users", "access.user_store_access", "access.context_key"}


@pytest.fixture(scope="module")
def placement(database: DatabaseEndpoints) -> dict[str, citus.TableDistribution]:
    with psycopg.connect(database.admin_url) as conn:
        return {t.table: t for t in citus.distribution(conn)}


def test_every_classified_table_is_placed_as_declared(
    database: DatabaseEndpoints, placement: dict[str, citus.TableDistribution]
) -> None:
    with psycopg.connect(database.admin_url) as conn:
        declared = dict(conn.execute("SELECT table_name, kind FROM zava_meta.table_distribution"))
    for table, kind in declared.items():
        assert placement[table].kind == kind, table
        if kind == "distributed":
            assert placement[table].distribution_column == "store_id", table
    for table in ACCESS_TABLES:
        assert placement[table].kind == "reference", table


def test_tenant_tables_are_co_located(placement: dict[str, citus.TableDistribution]) -> None:
    tenants = [t for t in placement.values() if t.kind == "distributed"]
    assert len(tenants) >= 6
    assert len({t.colocation_id for t in tenants}) == 1


def test_the_audit_trail_stays_on_the_coordinator(
    placement: dict[str, citus.TableDistribution],
) -> None:
    assert "audit.tool_calls" not in placement or placement["audit.tool_calls"].kind == "local"


def _declared_comments() -> set[tuple[str, str | None]]:
    """(table, column or None) of every COMMENT ON TABLE/COLUMN retail.… in the migrations."""
    found: set[tuple[str, str | None]] = set()
    pattern = re.compile(r"COMMENT ON (TABLE|COLUMN) (retail\.\w+)(?:\.(\w+))? IS")
    for path in sorted(SQL_DIR.glob("*.sql")):
        for kind, table, column in pattern.findall(path.read_text()):
            found.add((table, column if kind == "COLUMN" else None))
    return found


def test_table_and_column_comments_survive_the_distribution(database: DatabaseEndpoints) -> None:
    with psycopg.connect(database.admin_url) as conn:
        present = {
            (r[0], r[1]) for r in conn.execute(
                "SELECT d.objoid::regclass::text, a.attname FROM pg_description d"
                " LEFT JOIN pg_attribute a ON a.attrelid = d.objoid AND a.attnum = d.objsubid"
                " WHERE d.classoid = 'pg_class'::regclass"
                " AND d.objoid::regclass::text LIKE 'retail.%'"
            )
        }
    declared = _declared_comments()
    assert len(declared) > 20
    assert declared <= present, sorted(declared - present)


def test_the_workers_hold_the_tenant_rows(
    database: DatabaseEndpoints, worker_admin_urls: dict[str, str]
) -> None:
    from tests.integration.citus.conftest import shard_row_counts

    with psycopg.connect(database.admin_url) as conn:
        total = conn.execute("SELECT count(*) FROM retail.orders").fetchone()[0]
    per_worker = shard_row_counts(worker_admin_urls, "retail.orders")
    assert total > 40_000
    assert sum(per_worker.values()) == total
    assert all(count > 0 for count in per_worker.values()), per_worker


def test_a_second_init_changes_nothing(database: DatabaseEndpoints) -> None:
    report = provisioning.initialise(
        database,
        provisioning.DemoDataRequest(seed=DEMO_SEED, scale="small", anchor=DEMO_ANCHOR),
    )
    assert report.already_initialised
    assert report.migrations_applied == []
    assert report.distributed == []


def test_status_shows_each_tables_distribution(database: DatabaseEndpoints) -> None:
    state = provisioning.status(database)
    assert state.citus_version is not None
    assert state.citus_version.startswith("14.")
    kinds = {t.table: t.kind for t in state.distribution}
    assert kinds["retail.orders"] == "distributed"
    assert kinds["access.user_store_access"] == "reference"


def test_the_owner_can_log_in_for_citus_ddl(worker_admin_urls: dict[str, str]) -> None:
    """Citus runs DDL on the workers as the current role: zava_owner logs in on every node."""
    for url in worker_admin_urls.values():
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'zava_owner'").fetchone()
        assert row == (True,)


def test_the_context_check_is_bound_to_the_global_pid_on_every_node(
    database: DatabaseEndpoints, worker_admin_urls: dict[str, str]
) -> None:
    for url in [database.admin_url, *worker_admin_urls.values()]:
        with psycopg.connect(url) as conn:
            assert citus.context_binding(conn) == "global pid", url


def _access_function_definitions(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return {f: conn.execute("SELECT pg_get_functiondef(%s::regprocedure)", (f,)).fetchone()[0]
                for f in citus_local_reads.LOCALLY_READ}


def test_the_access_check_reads_each_nodes_own_reference_placements(
    database: DatabaseEndpoints, worker_admin_urls: dict[str, str]
) -> None:
    with psycopg.connect(database.admin_url) as conn:
        shards = dict(conn.execute(
            "SELECT logicalrelid::regclass::text, shardid FROM pg_dist_shard"
            " WHERE logicalrelid::regclass::text = ANY (%s)",
            ([t for read in citus_local_reads.LOCALLY_READ.values() for t in read],)))
        nodes = conn.execute("SELECT count(*) FROM pg_dist_node").fetchone()[0]
        placed = dict(conn.execute(
            "SELECT shardid, count(*) FROM pg_dist_placement WHERE shardid = ANY (%s)"
            " GROUP BY 1", (list(shards.values()),)))
    assert all(placed[shard] == nodes for shard in shards.values()), placed
    for url in [database.admin_url, *worker_admin_urls.values()]:
        for function, definition in _access_function_definitions(url).items():
            for table in citus_local_reads.LOCALLY_READ[function]:
                assert f"{table}_{shards[table]} AS" in definition, (url, function)
                assert f"{table} AS" not in definition, (url, function)


def test_db_init_points_a_redefined_access_function_at_the_placements_again(
    database: DatabaseEndpoints, worker_admin_urls: dict[str, str]
) -> None:
    """A later migration that re-creates the functions (naming the tables) is followed by the
    next `db init`; until then the functions read the tables through Citus, as before."""
    local = _access_function_definitions(database.admin_url)
    with psycopg.connect(database.admin_url) as conn:
        conn.execute("SET LOCAL ROLE zava_owner")
        for function, definition in local.items():
            conn.execute(citus_local_reads.routed_definition(
                definition, citus_local_reads.LOCALLY_READ[function]))
    assert _access_function_definitions(database.admin_url) != local
    report = provisioning.initialise(
        database,
        provisioning.DemoDataRequest(seed=DEMO_SEED, scale="small", anchor=DEMO_ANCHOR),
    )
    assert sorted(report.distributed) == sorted(
        f"{f}: reads {', '.join(t)} from each node's own placement"
        for f, t in citus_local_reads.LOCALLY_READ.items())
    for url in [database.admin_url, *worker_admin_urls.values()]:
        assert _access_function_definitions(url) == local, url


def test_db_status_cli_prints_the_distribution(database: DatabaseEndpoints) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "ZAVA_DATABASE_URL": database.query_url,
           "ZAVA_ADMIN_DATABASE_URL": database.admin_url}
    out = subprocess.run([sys.executable, "-m", "entrypoints.cli", "db", "status"],
                         capture_output=True, text=True, env=env, check=True, timeout=60).stdout
    assert "citus 14." in out
    assert re.search(r"retail\.orders\s+distributed\s+by store_id, \d+ shards", out), out
    assert re.search(r"access\.context_key\s+reference", out), out


ROLLUP_FROM_SCRATCH = """
SELECT o.store_id::text, (o.order_date AT TIME ZONE 'UTC')::date, count(*)
FROM retail.orders AS o WHERE o.status = 'completed' GROUP BY 1, 2 ORDER BY 1, 2
"""
ROLLUP = "SELECT store_id::text, sales_date, orders FROM retail.daily_store_sales ORDER BY 1, 2"


def test_refresh_rollups_rebuilds_them_on_distributed_tables(database: DatabaseEndpoints) -> None:
    """The rollup triggers are gone on Citus: `db refresh-rollups --full` rebuilds rollups
    changed behind the refresh's back (here: rows deleted)."""
    with psycopg.connect(database.admin_url) as conn:
        conn.execute("DELETE FROM retail.daily_store_sales WHERE sales_date > %s",
                     (DEMO_ANCHOR.replace(day=1),))
        conn.commit()
        assert conn.execute(ROLLUP).fetchall() != conn.execute(ROLLUP_FROM_SCRATCH).fetchall()
    days = provisioning.refresh_rollups(database.admin_url, full=True).store_days
    with psycopg.connect(database.admin_url) as conn:
        rollup = conn.execute(ROLLUP).fetchall()
        assert rollup == conn.execute(ROLLUP_FROM_SCRATCH).fetchall()
    assert days == len(rollup) > 1000
