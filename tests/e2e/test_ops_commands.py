"""`zava-mcp health` and `zava-mcp demo`, and the health report behind `/health`."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from dependency_injector import providers
from rich.console import Console

from adapters.memory.embeddings import HashingEmbeddingProvider
from adapters.postgres.embedded import EmbeddedPostgresServer
from domain.errors import EmbeddingServiceError
from entrypoints import health
from entrypoints.container import Container, in_memory_container
from entrypoints.health import HEALTH_TIMEOUT_S, Health, HealthChecker
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
    report = await HealthChecker(container).check(wait_for_embeddings=True)
    await container.cache_store().close()
    assert report.database == "in-memory"
    assert report.cache.startswith("fallback")
    assert report.embeddings.startswith("ok (") or report.embeddings == "not configured"
    assert report.ready
    assert report.status == "degraded"


class GatedEmbeddings(HashingEmbeddingProvider):
    """A query embedding that comes (or fails with `error`) only once the test opens the gate:
    a local model still loading, or answering in 1-2 s on a loaded machine (bench/faults.py's
    8 clients on 2 cores), or a remote API that hangs."""

    def __init__(self, error: Exception | None = None) -> None:
        super().__init__()
        self.gate = anyio.Event()
        self.loaded = anyio.Event()  # warm_up waits for it: a local model loading
        self.loaded.set()
        self.error = error
        self.asked = 0

    async def warm_up(self) -> None:
        await self.loaded.wait()

    async def embed_query(self, text: str) -> Embedding:
        self.asked += 1
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        return await super().embed_query(text)


@contextlib.asynccontextmanager
async def checker_over(database: DatabaseEndpoints, tmp_path: Path,
                       embeddings: GatedEmbeddings) -> AsyncIterator[HealthChecker]:
    """The /health checker of a server on the real database with `embeddings` as its provider;
    its gate is opened at the end so no check outlives the test."""
    container = Container(settings=Settings(data_dir=tmp_path, pool_min=1, pool_max=2))
    container.database_endpoints.override(providers.Object(database))
    container.embedding_provider.override(providers.Object(embeddings))
    gateway = container.database_gateway()
    await gateway.open()
    checker = HealthChecker(container)
    try:
        yield checker
    finally:
        embeddings.loaded.set()
        embeddings.gate.set()
        await checker.embeddings(wait_s=None)
        await gateway.close()
        await container.cache_store().close()


async def timed_check(checker: HealthChecker) -> tuple[Health, float]:
    started = time.monotonic()
    report = await checker.check()
    return report, time.monotonic() - started


@pytest.mark.anyio
async def test_health_fails_at_once_while_the_database_is_down_whatever_the_embeddings_do(
    database: DatabaseEndpoints, embedded_server: EmbeddedPostgresServer, tmp_path: Path,
) -> None:
    """Only the database decides /health's 503, so while it is down the embedding provider is
    not asked: /health used to wait for its probe (up to HEALTH_TIMEOUT_S) before answering 503.
    Both moments: the first probe after the stop, before the server has seen a refused
    connection (its own ping fails), and the next, once it has."""
    embeddings = GatedEmbeddings()
    faults = DatabaseFaults(embedded_server.pgdata, database.admin_url)
    async with checker_over(database, tmp_path, embeddings) as checker:
        try:
            await anyio.to_thread.run_sync(faults.stop)
            timed = [await timed_check(checker) for _ in range(2)]
        finally:
            await anyio.to_thread.run_sync(faults.ensure_running)
        asked = embeddings.asked  # before the cleanup's own check
    reports, took = zip(*timed, strict=True)
    first, second = reports
    assert first.database == "failed"  # its own ping found the database gone
    assert second.database.startswith("failed (refusing connections for ")
    for report in reports:
        assert not report.ready
        assert report.status == "failed"
        assert report.embeddings == "not checked (the database is down)"
        assert report.cache == "ok"
    assert asked == 0
    assert max(took) < HEALTH_TIMEOUT_S  # before: each waited the whole HEALTH_TIMEOUT_S


@pytest.mark.anyio
async def test_health_answers_at_once_while_the_embedding_provider_has_not_answered(
    database: DatabaseEndpoints, tmp_path: Path,
) -> None:
    """The first probes after a start, while a local model loads: /health used to wait for the
    embedding (up to HEALTH_TIMEOUT_S, then "failed") and a 1-2 s probe timeout would have
    marked a starting server down. Now the check runs in the background (one at a time) and the
    probe says it is under way; the server is ready, its status degraded until it is known."""
    embeddings = GatedEmbeddings()
    async with checker_over(database, tmp_path, embeddings) as checker:
        (first, took_first), (second, took_second) = [await timed_check(checker)
                                                      for _ in range(2)]
    for report in (first, second):
        assert report.database == "ok"
        assert report.ready
        assert report.status == "degraded"
        assert report.embeddings.startswith("checking (no answer yet, asked "), report
    assert embeddings.asked == 1
    assert max(took_first, took_second) < HEALTH_TIMEOUT_S  # before: HEALTH_TIMEOUT_S each


@pytest.mark.anyio
async def test_health_says_loading_while_the_model_loads_and_waits_for_it_past_the_check_timeout(
    database: DatabaseEndpoints, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A local model's first load on a busy machine outlasted the check's 30 s, and /health
    reported the provider as "failed (no answer within 30 s)" before "ok". The load is now
    waited for apart from that timeout (here 0.05 s), and a probe says it is loading."""
    monkeypatch.setattr(health, "EMBEDDINGS_CHECK_TIMEOUT_S", 0.05)
    embeddings = GatedEmbeddings()
    embeddings.loaded = anyio.Event()
    embeddings.gate.set()  # once loaded, the query embedding answers at once
    async with checker_over(database, tmp_path, embeddings) as checker:
        loading = await checker.check()
        await anyio.sleep(0.2)  # past the check's timeout
        still_loading = await checker.check()
        embeddings.loaded.set()
        await checker.embeddings(wait_s=None)
        after = await checker.check()
    for report in (loading, still_loading):
        assert report.embeddings.startswith("loading (the model is loading, asked "), report
        assert report.ready
        assert report.status == "degraded"
    assert after.embeddings == f"ok ({embeddings.model_id})"
    assert after.status == "ok"
    assert embeddings.asked == 1


@pytest.mark.anyio
async def test_health_reports_a_failing_embedding_provider_once_its_check_has_failed(
    database: DatabaseEndpoints, tmp_path: Path,
) -> None:
    embeddings = GatedEmbeddings(error=EmbeddingServiceError("the embedding service failed"))
    async with checker_over(database, tmp_path, embeddings) as checker:
        under_way = await checker.check()
        embeddings.gate.set()
        await checker.embeddings(wait_s=None)  # the background check has finished
        after = await checker.check()
    assert under_way.embeddings.startswith("checking ("), under_way
    assert after.embeddings == "failed (EmbeddingServiceError)"
    assert after.ready
    assert after.status == "degraded"


@pytest.mark.anyio
async def test_health_reports_a_healthy_embedding_provider_as_ok_within_its_window(
    database: DatabaseEndpoints, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once a check succeeds, probes report it without asking again; past its window a success
    is never reported, whatever the check under way is doing."""
    embeddings = GatedEmbeddings()
    async with checker_over(database, tmp_path, embeddings) as checker:
        under_way = await checker.check()
        embeddings.gate.set()
        await checker.embeddings(wait_s=None)
        fresh = [await checker.check() for _ in range(2)]
        embeddings.gate = anyio.Event()  # the next check hangs
        monkeypatch.setattr(health, "EMBEDDINGS_PROBE_TTL_S", 0.0)
        monkeypatch.setattr(health, "EMBEDDINGS_REFRESH_AFTER_S", 0.0)
        expired = await checker.check()
    assert under_way.embeddings.startswith("checking ("), under_way
    for report in fresh:
        assert report.embeddings == f"ok ({embeddings.model_id})"
        assert report.status == "ok"
    assert expired.embeddings.startswith("checking ("), expired
    assert embeddings.asked == 2  # the two fresh probes did not ask


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
