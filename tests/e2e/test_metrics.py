"""Prometheus metrics, scraped from `/metrics` after real tool calls over streamable HTTP."""

from __future__ import annotations

import logging
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from dependency_injector import providers
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from adapters.auth.jwt_tokens import mint_token
from entrypoints.container import Container
from entrypoints.http_app import build_http_app
from entrypoints.settings import Settings
from ports.database_server import DatabaseEndpoints
from tests.support.http_server import (
    RunningServer,
    free_port,
    serve_in_thread,
    start_serve_http,
    wait_healthy,
)

pytestmark = pytest.mark.e2e

SEATTLE = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
SECRET = "metrics-e2e-secret-that-is-long-enough-for-hs256"
SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


@pytest.fixture(scope="module")
def server(database: DatabaseEndpoints, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[RunningServer]:
    # Every query counts as slow, so the slow-query counter and log are exercised without a
    # query that really takes a second.
    settings = Settings(data_dir=tmp_path_factory.mktemp("metrics"), pool_min=1, pool_max=3,
                        jwt_secret=SECRET, jwt_jwks_url=None, jwt_issuer=None,
                        jwt_audience=None, public_url=None, allowed_hosts=[],
                        slow_query_s=1e-6)
    container = Container(settings=settings)
    container.database_endpoints.override(providers.Object(database))
    with serve_in_thread(lambda port: build_http_app(container, settings, "127.0.0.1", port)
                         ) as running:
        yield running


def scrape(server: RunningServer) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = httpx2.get(server.base_url + "/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for line in response.text.splitlines():
        match = SAMPLE.match(line)
        if match is None:
            continue
        labels = frozenset(
            tuple(pair.split("=", 1)) for pair in (match["labels"] or "").split(",") if pair
        )
        samples[match["name"], frozenset((k, v.strip('"')) for k, v in labels)] = float(
            match["value"])
    return samples


def wait_for_both_workers_pools(server: RunningServer, *, pool_max: int, timeout_s: float
                                ) -> None:
    """Until a scrape sums the pool gauges of every worker (each worker's ZAVA_POOL_MAX)."""
    deadline = time.monotonic() + timeout_s
    while value(scrape(server), "zava_db_pool_max", pool="query") != pool_max:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the pool gauges never summed to {pool_max} in {timeout_s} s")
        time.sleep(0.1)


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def _calls(server: RunningServer, calls: list[tuple[str, dict[str, Any]]]) -> None:
    headers = {"Authorization": f"Bearer {mint_token(SECRET, SEATTLE, 300)}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http, \
            Client(streamable_http_client(server.mcp_url, http_client=http)) as client:
        for tool, arguments in calls:
            await client.call_tool(tool, arguments)


@pytest.mark.anyio
async def test_metrics_count_real_calls(server: RunningServer,
                                        caplog: pytest.LogCaptureFixture) -> None:
    before = scrape(server)
    literal = "Seattle-secret-literal"
    with caplog.at_level(logging.WARNING, logger="zava.slow_queries"):
        await _calls(server, [
            ("execute_sales_query", {"postgresql_query": "SELECT count(*) FROM orders"}),
            ("execute_sales_query", {"postgresql_query":
                                     f"SELECT count(*) FROM stores WHERE name <> '{literal}'"}),
            ("execute_sales_query", {"postgresql_query": "DELETE FROM orders"}),
            ("execute_sales_query", {"postgresql_query": "SELECT nope FROM orders"}),
            ("whoami", {}),
        ])
    after = scrape(server)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    sales = "execute_sales_query"
    assert delta("zava_tool_calls_total", tool=sales, outcome="ok") == 2
    assert delta("zava_tool_calls_total", tool=sales, outcome="rejected") == 2
    assert delta("zava_tool_calls_total", tool="whoami", outcome="ok") == 1
    assert delta("zava_tool_errors_total", tool=sales, error_type="VALIDATION_ERROR") == 2
    assert delta("zava_tool_call_duration_seconds_count", tool=sales) == 4
    # the guard stops DELETE before the database; the unknown column reaches it and fails there
    assert delta("zava_query_duration_seconds_count", operation=sales) == 3
    assert delta("zava_slow_queries_total", operation=sales) == 3
    assert value(after, "zava_db_pool_size", pool="query") >= 1
    assert value(after, "zava_db_pool_max", pool="query") == 3
    assert ("zava_db_pool_waiting", frozenset({("pool", "query")})) in after
    assert value(after, "zava_process_cpu_seconds_total") > 0

    # every database operation reports (the gateway), so keep to this tool's statements
    slow = [r for r in caplog.records
            if r.name == "zava.slow_queries" and getattr(r, "operation", "") == sales]
    assert len(slow) == 3
    assert all(SEATTLE in r.getMessage() for r in slow)
    assert all(literal not in r.getMessage() for r in slow)
    assert any("<>" in getattr(r, "sql_fingerprint", "") for r in slow)


@pytest.mark.anyio
async def test_embedding_latency_counts_each_query_embedding(server: RunningServer) -> None:
    before = scrape(server)
    await _calls(server, [
        ("semantic_search_products", {"query_description": "something to cut branches",
                                      "max_rows": 3}),
        ("semantic_search_products", {"query_description": " "}),  # rejected before embedding
    ])
    after = scrape(server)

    def delta(name: str) -> float:
        return value(after, name, provider="local") - value(before, name, provider="local")

    # the local model (the default provider) embedded the one valid query, once
    assert delta("zava_embedding_duration_seconds_count") == 1
    assert delta("zava_embedding_duration_seconds_sum") > 0
    assert value(after, "zava_embedding_duration_seconds_bucket", provider="local",
                 le="+Inf") == value(after, "zava_embedding_duration_seconds_count",
                                     provider="local")


def test_metrics_are_outside_auth_and_carry_no_tenant_data(server: RunningServer) -> None:
    response = httpx2.get(server.base_url + "/metrics", timeout=5)
    assert response.status_code == 200
    assert "# TYPE zava_embedding_duration_seconds histogram" in response.text
    assert "# TYPE zava_cache_lookups_total counter" in response.text
    assert SEATTLE not in response.text
    assert "SELECT" not in response.text


def test_two_workers_answer_a_scrape_with_both_workers_counts(
    database: DatabaseEndpoints, data_dir: Path, tmp_path: Path,
) -> None:
    """`serve --workers 2`: both workers listen on one port, so a scrape reaches either. Every
    scrape must count every call, whichever worker served it, and the pool gauges sum both
    workers' pools. The metric files go when the server stops."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAVA_")}
    env.update(ZAVA_DATA_DIR=str(data_dir), ZAVA_JWT_SECRET=SECRET, ZAVA_POOL_MIN="1",
               ZAVA_POOL_MAX="2", TMPDIR=str(tmp_path))
    stderr_path = tmp_path / "serve.stderr"
    process = start_serve_http(port, env, stderr_path, "--workers", "2")
    running = RunningServer(f"http://127.0.0.1:{port}")
    calls = 24
    try:
        wait_healthy(running.base_url, timeout_s=180)
        # /health answers as soon as one worker is up; the other's pool gauges appear once its
        # start-up is over (pool open, gauges refreshed every second), later on a loaded
        # machine (a fixed sleep after the calls once saw one worker's pool: 2 != 4). Both up
        # before the calls, so either may serve them.
        wait_for_both_workers_pools(running, pool_max=4, timeout_s=120)
        token = mint_token(SECRET, SEATTLE, 300)
        for call in range(calls):  # a new connection each: either worker may accept it
            response = httpx2.post(running.mcp_url, timeout=30, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json",
                "Accept": "application/json, text/event-stream"},
                json={"jsonrpc": "2.0", "id": call, "method": "tools/call",
                      "params": {"name": "whoami", "arguments": {}}})
            assert response.status_code == 200
            assert response.json()["result"]["isError"] is False
        scrapes = [scrape(running) for _ in range(6)]
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=60)
    for samples in scrapes:
        assert samples["zava_tool_calls_total", frozenset(
            {("tool", "whoami"), ("outcome", "ok")})] == calls
        assert samples["zava_db_pool_max", frozenset({("pool", "query")})] == 4
        assert samples["zava_db_pool_waiting", frozenset({("pool", "query")})] == 0
        assert not any(name.startswith("zava_process_") for name, _ in samples)
    assert out == b""
    assert process.returncode in (0, 128 + signal.SIGTERM)
    assert not list(tmp_path.glob("zava-metrics-*"))
    assert "Traceback" not in stderr_path.read_text()
