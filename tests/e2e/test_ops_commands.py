"""`zava-mcp health` and `zava-mcp demo`, and the health report behind `/health`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest
from dependency_injector import providers
from rich.console import Console

from adapters.memory.embeddings import HashingEmbeddingProvider
from adapters.postgres.embedded import EmbeddedPostgresServer
from entrypoints.container import Container, in_memory_container
from entrypoints.health import HEALTH_TIMEOUT_S, HealthChecker
from entrypoints.ops_commands import tour
from entrypoints.settings import Settings
from ports.database_server import DatabaseEndpoints
from ports.embeddings import Embedding
from tests.support.db_outage import DatabaseFaults
from tests.support.http_server import free_port

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_health_command_reports_each_part(database: DatabaseEndpoints, data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAVA_")}
    env.update(ZAVA_DATA_DIR=str(data_dir), ZAVA_LOG_LEVEL="WARNING")
    done = subprocess.run([sys.executable, "-m", "entrypoints.cli", "health", "--json"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["status"] == "ok"
    assert report["database"] == "ok"
    assert report["cache"] == "ok"
    assert report["embeddings"].startswith("ok (")


@pytest.mark.anyio
async def test_redis_down_is_degraded_but_ready(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    container = in_memory_container(settings)
    report = await HealthChecker(container).check()
    await container.cache_store().close()
    assert report.database == "in-memory"
    assert report.cache.startswith("fallback")
    assert report.embeddings.startswith("ok (") or report.embeddings == "not configured"
    assert report.ready
    assert report.status == "degraded"


class UnansweredEmbeddings(HashingEmbeddingProvider):
    """A query embedding that never comes: a local model still loading, or answering in 1-2 s
    on a loaded machine (bench/faults.py's 8 clients on 2 cores)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    async def embed_query(self, text: str) -> Embedding:
        self.asked += 1
        await anyio.sleep_forever()
        raise AssertionError("unreachable")


@pytest.mark.anyio
async def test_health_fails_at_once_while_the_database_is_down_whatever_the_embeddings_do(
    database: DatabaseEndpoints, embedded_server: EmbeddedPostgresServer, tmp_path: Path,
) -> None:
    """Only the database decides /health's 503, so while it is down the embedding provider is
    not asked: /health used to wait for its probe (up to HEALTH_TIMEOUT_S) before answering 503.
    Both moments: the first probe after the stop, before the server has seen a refused
    connection (its own ping fails), and the next, once it has."""
    container = Container(settings=Settings(data_dir=tmp_path, pool_min=1, pool_max=2))
    container.database_endpoints.override(providers.Object(database))
    embeddings = UnansweredEmbeddings()
    container.embedding_provider.override(providers.Object(embeddings))
    gateway = container.database_gateway()
    await gateway.open()
    checker = HealthChecker(container)
    faults = DatabaseFaults(embedded_server.pgdata, database.admin_url)
    reports, took = [], []
    try:
        await anyio.to_thread.run_sync(faults.stop)
        for _ in range(2):
            started = time.monotonic()
            reports.append(await checker.check())
            took.append(time.monotonic() - started)
    finally:
        await anyio.to_thread.run_sync(faults.ensure_running)
        await gateway.close()
        await container.cache_store().close()
    first, second = reports
    assert first.database == "failed"  # its own ping found the database gone
    assert second.database.startswith("failed (refusing connections for ")
    for report in reports:
        assert not report.ready
        assert report.status == "failed"
        assert report.embeddings == "not checked (the database is down)"
        assert report.cache == "ok"
    assert embeddings.asked == 0
    assert max(took) < HEALTH_TIMEOUT_S  # before: each waited the whole HEALTH_TIMEOUT_S


@pytest.mark.anyio
async def test_demo_tour_shows_three_users_different_answers(database: DatabaseEndpoints,
                                                             tmp_path: Path) -> None:
    container = Container(settings=Settings(data_dir=tmp_path, pool_min=1, pool_max=2))
    container.database_endpoints.override(providers.Object(database))
    out = io.StringIO()
    await tour(container, Console(file=out, width=140, color_system=None))
    text = out.getvalue()
    assert "Seattle store manager (store_manager) sees: Seattle\n" in text
    assert "Head office analyst (head_office) sees:" in text
    assert "Seattle store manager — 1 rows" in text
    assert "Puget Sound regional manager — 6 rows" in text
    assert "Head office analyst — 8 rows" in text
    assert "Zava Retail Spokane" in text  # head office only
