"""Prometheus metrics, scraped from `/metrics` after real tool calls over streamable HTTP."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
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
from tests.support.http_server import RunningServer, serve_in_thread

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

    slow = [r for r in caplog.records if r.name == "zava.slow_queries"]
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
