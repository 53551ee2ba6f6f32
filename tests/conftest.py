"""Fixtures shared by every test layer.

The integration and e2e layers share one embedded PostgreSQL per test session, migrated and
loaded with the small demo dataset for a fixed seed and anchor date.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from adapters.demodata.csv_export import export_csv
from adapters.demodata.generator import generate_dataset
from adapters.embeddings.local import LocalEmbeddingProvider
from adapters.postgres import provisioning
from adapters.postgres.data_import import import_directory
from adapters.postgres.embedded import EmbeddedPostgresServer
from adapters.postgres.embedding_store import PsycopgProductEmbeddingStore
from adapters.postgres.request_context import ContextSigner, read_context_key
from domain.services.embedding_index import EmbeddingIndexService
from ports.database_server import DatabaseEndpoints

DEMO_SEED = 7
DEMO_ANCHOR = date(2026, 6, 30)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    """Outside pytest's numbered temp dirs: a concurrent pytest session prunes those, which
    would pull the files from under a running PostgreSQL."""
    path = Path(tempfile.mkdtemp(prefix="zava-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def embedded_server(data_dir: Path) -> Iterator[EmbeddedPostgresServer]:
    server = EmbeddedPostgresServer(data_dir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def database(
    embedded_server: EmbeddedPostgresServer, local_embeddings: LocalEmbeddingProvider
) -> DatabaseEndpoints:
    """A real PostgreSQL with the Zava schema, the small demo dataset and the local model's
    product vectors (as a first `zava-mcp serve` leaves it)."""
    return initialise_demo_database(embedded_server.start(), local_embeddings)


def initialise_demo_database(
    endpoints: DatabaseEndpoints, local_embeddings: LocalEmbeddingProvider
) -> DatabaseEndpoints:
    """`zava-mcp db init` with the test seed and anchor, then the product vectors."""
    provisioning.initialise(
        endpoints,
        provisioning.DemoDataRequest(seed=DEMO_SEED, scale="small", anchor=DEMO_ANCHOR),
    )
    asyncio.run(EmbeddingIndexService(
        local_embeddings, PsycopgProductEmbeddingStore(endpoints.admin_url), batch_size=256
    ).build())
    return endpoints


@pytest.fixture(scope="session")
def local_embeddings() -> LocalEmbeddingProvider:
    """The local model, loaded once per test session (it is cached per process)."""
    return LocalEmbeddingProvider()


@pytest.fixture(scope="session")
def signer(database: DatabaseEndpoints) -> ContextSigner:
    return ContextSigner(read_context_key(database.admin_url))


@pytest.fixture(scope="session")
def imported_database() -> Iterator[DatabaseEndpoints]:
    """A second embedded PostgreSQL holding the same chain as `database`, but loaded the way an
    operator loads their own data: the demo initialised, then the same demo rows exported as
    the six CSV files and imported with `--replace` (store and product ids kept by code and
    SKU, users and their grants kept). The analytics contract suite runs on both."""
    path = Path(tempfile.mkdtemp(prefix="zava-import-test-"))
    server = EmbeddedPostgresServer(path)
    try:
        endpoints = server.start()
        dataset = generate_dataset(seed=DEMO_SEED, anchor=DEMO_ANCHOR, scale="small")
        provisioning.initialise(
            endpoints,
            provisioning.DemoDataRequest(seed=DEMO_SEED, scale="small", anchor=DEMO_ANCHOR),
        )
        export_csv(dataset, path / "csv")
        import_directory(endpoints.admin_url, path / "csv", replace=True)
        yield endpoints
    finally:
        server.stop()
        shutil.rmtree(path, ignore_errors=True)
