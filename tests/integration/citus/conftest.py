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
from pathlib import Path

import psycopg
import pytest

from adapters.embeddings.local import LocalEmbeddingProvider
from adapters.postgres.request_context import ContextSigner, read_context_key
from ports.database_server import DatabaseEndpoints
from tests.conftest import initialise_demo_database
from tests.integration.citus.cluster import CitusCluster

QUERY_ROLE = "zava_query"


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
    return DatabaseEndpoints(
        admin_url=coordinator.url(), query_url=coordinator.url(QUERY_ROLE), kind="external"
    )


@pytest.fixture(scope="session")
def database(
    citus_cluster: CitusCluster, local_embeddings: LocalEmbeddingProvider
) -> DatabaseEndpoints:
    """The coordinator after `zava-mcp db init` in external mode, with the product vectors."""
    return initialise_demo_database(citus_endpoints(citus_cluster), local_embeddings)


@pytest.fixture(scope="session")
def signer(database: DatabaseEndpoints) -> ContextSigner:
    return ContextSigner(read_context_key(database.admin_url))


@pytest.fixture(scope="session")
def worker_urls(citus_cluster: CitusCluster, database: DatabaseEndpoints) -> dict[str, str]:
    """The query role's URL on each worker, to query a worker directly (as an attacker with the
    query role's credentials could)."""
    return {w.name: w.url(QUERY_ROLE) for w in citus_cluster.workers}


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
