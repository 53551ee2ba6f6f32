"""The Citus layer: the same integration tests, on a real coordinator + 2 workers.

Test modules here re-export tests of tests/integration (so they are collected again, under this
directory) and get this directory's `database`: a Citus coordinator that `zava-mcp db init`
(external mode) distributed and loaded. Every session-scoped fixture that derives from
`database` is overridden here too, so nothing of the single node's is reused.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from adapters.demodata.reference import USERS
from adapters.embeddings.local import LocalEmbeddingProvider
from adapters.postgres.request_context import ContextSigner, read_context_key
from ports.database_server import DatabaseEndpoints
from tests.conftest import initialise_demo_database
from tests.integration.citus.cluster import CitusCluster
from tests.integration.test_request_context import set_context

QUERY_ROLE = "zava_query"
# The application's password for the query role: what its DSN (ZAVA_DATABASE_URL) holds. The
# operator creates the role with it before `db init`, and Citus copies it to every worker; `db
# init` then gives the role a password of its own on each worker.
APP_PASSWORD = "the-applications-query-password"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.citus)
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def citus_cluster() -> Iterator[CitusCluster]:
    root = Path(tempfile.mkdtemp(prefix="zava-citus-"))
    cluster = CitusCluster(root)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def citus_endpoints(cluster: CitusCluster) -> DatabaseEndpoints:
    coordinator = cluster.coordinator
    return DatabaseEndpoints(admin_url=coordinator.url(),
                             query_url=coordinator.url(f"{QUERY_ROLE}:{APP_PASSWORD}"),
                             kind="external")


def create_query_role_with_app_password(cluster: CitusCluster) -> None:
    """What an operator does before `db init`: the query role (sql/001's attributes) with the
    application's password, which Citus propagates to every worker."""
    with psycopg.connect(cluster.coordinator.url(), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (QUERY_ROLE,)).fetchone():
            return
        conn.execute(sql.SQL(
            "CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT"
            " CONNECTION LIMIT 200 PASSWORD {}").format(
                sql.Identifier(QUERY_ROLE), sql.Literal(APP_PASSWORD)))


@pytest.fixture(scope="session")
def database(
    citus_cluster: CitusCluster, local_embeddings: LocalEmbeddingProvider
) -> DatabaseEndpoints:
    """The coordinator after `zava-mcp db init` in external mode, with the product vectors."""
    create_query_role_with_app_password(citus_cluster)
    return initialise_demo_database(citus_endpoints(citus_cluster), local_embeddings)


@pytest.fixture(scope="session")
def signer(database: DatabaseEndpoints) -> ContextSigner:
    return ContextSigner(read_context_key(database.admin_url))


@pytest.fixture(scope="session")
def worker_urls(citus_cluster: CitusCluster, database: DatabaseEndpoints) -> dict[str, str]:
    """The query role's URL on each worker with its worker password (read from
    pg_dist_authinfo as the superuser): an attacker who somehow has it, so that the context
    check is proven on a worker on its own too. Never printed."""
    with psycopg.connect(database.admin_url) as conn:
        passwords = dict(conn.execute(
            "SELECT n.nodeport, a.authinfo FROM pg_dist_authinfo AS a"
            " JOIN pg_dist_node AS n USING (nodeid) WHERE a.rolename = %s", (QUERY_ROLE,)
        ).fetchall())
    return {w.name: w.url(f"{QUERY_ROLE}:{passwords[w.port].removeprefix('password=')}")
            for w in citus_cluster.workers}


@pytest.fixture(scope="session")
def app_worker_urls(citus_cluster: CitusCluster, database: DatabaseEndpoints) -> dict[str, str]:
    """The application's own credentials (its DSN's user and password) aimed at each worker."""
    return {w.name: w.url(f"{QUERY_ROLE}:{APP_PASSWORD}") for w in citus_cluster.workers}


@pytest.fixture(scope="session")
def worker_admin_urls(citus_cluster: CitusCluster, database: DatabaseEndpoints) -> dict[str, str]:
    return {w.name: w.url() for w in citus_cluster.workers}


@pytest.fixture
def integrity_urls(database: DatabaseEndpoints, worker_admin_urls: dict[str, str]) -> list[str]:
    """The coordinator and every worker (their catalogs, shards included, as the superuser)."""
    return [database.admin_url, *worker_admin_urls.values()]


def shard_row_counts(urls: dict[str, str], table: str) -> dict[str, int]:
    """Rows of `table`'s shards per worker, as the superuser sees them (integrity checks)."""
    counts = {}
    for name, url in urls.items():
        with psycopg.connect(url) as conn:
            conn.execute("SET citus.show_shards_for_app_name_prefixes = '*'")
            shards = [r[0] for r in conn.execute(
                "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname LIKE %s"
                " AND c.relkind = 'r'", (table.split(".")[0], table.split(".")[1] + "_1%"),
            )]
            counts[name] = sum(
                conn.execute(f"SELECT count(*) FROM {shard}").fetchone()[0] for shard in shards
            )
    return counts


@dataclass(frozen=True)
class LiveRequest:
    global_pid: int
    server_context: str  # what the server set on the coordinator (a bind parameter)
    worker_context: str  # what travelled to the workers as statement text
    transaction_number: int
    transaction_stamp: datetime  # the secret half of the binding (never in the value)


@pytest.fixture
def live_request(database: DatabaseEndpoints, signer: ContextSigner) -> Iterator[LiveRequest]:
    """A head-office request in progress on a coordinator backend of the query role, set up as
    the gateway does it; it stays open while the test attacks it."""
    with psycopg.connect(database.query_url) as conn:
        (gpid,) = conn.execute("SELECT citus_backend_gpid()").fetchone() or (0,)
        conn.rollback()
        context = signer.sign("query", str(USERS[-1].user_id), int(gpid))
        with conn.transaction(force_rollback=True):
            set_context(conn, context)
            (orders,) = conn.execute("SELECT count(*) FROM retail.orders").fetchone() or (0,)
            assert orders > 0  # the control: the request itself sees head office's orders
            (propagated,) = conn.execute(
                "SELECT current_setting('zava.context')").fetchone() or ("",)
            number, stamp = conn.execute(
                "SELECT transaction_number, transaction_stamp FROM get_current_transaction_id()"
            ).fetchone() or (0, None)
            yield LiveRequest(int(gpid), context, str(propagated), int(number), stamp)
