"""completion/complete and logging/setLevel through real MCP clients: in process (handshake era
and 2026-07-28) on the in-memory wiring, and over HTTP with bearer tokens on the real database,
where each user is offered their own stores only."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.types import LoggingMessageNotificationParams, PromptReference, ResourceTemplateReference

from adapters.auth.jwt_tokens import mint_token
from domain.model import UserId
from entrypoints.container import in_memory_container
from entrypoints.mcp.server import build_server
from entrypoints.settings import Settings
from ports.database_server import DatabaseEndpoints
from tests.support.http_server import RunningServer, serve_with_secret

pytestmark = pytest.mark.e2e

SEATTLE = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
REGIONAL = "19fadba2-0ce0-477c-8044-861caf516f15"
HEAD_OFFICE = "5ba86bc5-6c7d-4d93-9337-3175bdc44ad8"
SECRET = "completions-e2e-secret-that-is-long-enough-for-hs256"
SCHEMA = ResourceTemplateReference(type="ref/resource", uri="zava://schema/{table}")
ANALYZE = PromptReference(type="ref/prompt", name="analyze_store_performance")
DROP = {"postgresql_query": "DROP TABLE orders"}


def _server(tmp_path: Path, user: str) -> Any:
    container = in_memory_container(Settings(data_dir=tmp_path))
    return build_server(container, caller=lambda: UserId(user))


async def _set_level(client: Client, level: Any) -> None:
    with warnings.catch_warnings():  # the client marks logging deprecated as of 2026-07-28
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        await client.set_logging_level(level)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_capabilities_and_completions_in_process(tmp_path: Path, mode: Any) -> None:
    async with Client(_server(tmp_path, REGIONAL), mode=mode) as client:
        tables = await client.complete(SCHEMA, {"name": "table", "value": "order"})
        stores = await client.complete(ANALYZE, {"name": "store", "value": ""})
        period = await client.complete(ANALYZE, {"name": "time_period", "value": "last_q"},
                                       context_arguments={"store": "Seattle"})
        free_text = await client.complete(
            PromptReference(type="ref/prompt", name="find_products"),
            {"name": "need", "value": "something to"})
        unknown = await client.complete(
            PromptReference(type="ref/prompt", name="test_prompt_with_arguments"),
            {"name": "arg1", "value": "test"})
    assert tables.completion.values == ["order_items", "orders"]
    assert len(stores.completion.values) == 6  # the regional manager's stores
    assert all(v.startswith("Zava Retail ") for v in stores.completion.values)
    assert period.completion.values == ["last_quarter"]
    assert free_text.completion.values == []
    assert unknown.completion.values == []


@pytest.mark.anyio
async def test_a_store_manager_is_offered_only_their_store(tmp_path: Path) -> None:
    async with Client(_server(tmp_path, SEATTLE)) as client:
        everything = await client.complete(ANALYZE, {"name": "store", "value": ""})
        other = await client.complete(ANALYZE, {"name": "store", "value": "Bell"})
    assert everything.completion.values == ["Zava Retail Seattle"]
    assert other.completion.values == []


@pytest.mark.anyio
async def test_the_legacy_handshake_declares_logging_and_completions(tmp_path: Path) -> None:
    async with Client(_server(tmp_path, SEATTLE), mode="legacy") as client:
        capabilities = client.server_capabilities
        assert client.protocol_version == "2025-11-25"
    assert capabilities.logging is not None
    assert capabilities.completions is not None


@pytest.mark.anyio
async def test_set_level_filters_the_tool_outcome_notifications(tmp_path: Path) -> None:
    received: list[LoggingMessageNotificationParams] = []

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        received.append(params)

    async with Client(_server(tmp_path, SEATTLE), mode="legacy", logging_callback=on_log
                      ) as client:
        await client.call_tool("whoami", {})
        assert received == []  # nothing until the client asks
        await _set_level(client, "info")
        await client.call_tool("whoami", {})
        await client.call_tool("execute_sales_query", DROP)
        await _set_level(client, "warning")
        await client.call_tool("whoami", {})  # info: below the level now
        await client.call_tool("execute_sales_query", DROP)
        await _set_level(client, "error")
        await client.call_tool("execute_sales_query", DROP)  # a warning: below the level now

    assert [(m.level, m.logger, m.data["tool"], m.data["outcome"]) for m in received] == [
        ("info", "zava.tools", "whoami", "ok"),
        ("warning", "zava.tools", "execute_sales_query", "rejected"),
        ("warning", "zava.tools", "execute_sales_query", "rejected"),
    ]
    assert received[1].data["error_code"] == "VALIDATION_ERROR"
    assert received[1].data["message"].startswith("VALIDATION_ERROR: DROP statements")


@pytest.mark.anyio
async def test_2026_clients_opt_in_per_request(tmp_path: Path) -> None:
    received: list[LoggingMessageNotificationParams] = []

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        received.append(params)

    server = _server(tmp_path, SEATTLE)
    async with Client(server, logging_callback=on_log) as client:
        await client.call_tool("whoami", {})
    assert received == []
    async with Client(server, logging_callback=on_log, log_level="warning") as client:
        await client.call_tool("whoami", {})
        await client.call_tool("execute_sales_query", DROP)
    assert [(m.level, m.data["tool"]) for m in received] == [
        ("warning", "execute_sales_query")]


@pytest.fixture(scope="module")
def http_server(database: DatabaseEndpoints, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[RunningServer]:
    with serve_with_secret(database, tmp_path_factory.mktemp("completions-http"), SECRET,
                           pool_max=2) as running:
        yield running


def _complete_over_http(server: RunningServer, user: str, value: str) -> list[str]:
    response = httpx2.post(
        server.mcp_url, timeout=10,
        json={"jsonrpc": "2.0", "id": 1, "method": "completion/complete", "params": {
            "ref": {"type": "ref/prompt", "name": "analyze_store_performance"},
            "argument": {"name": "store", "value": value}}},
        headers={"Authorization": f"Bearer {mint_token(SECRET, user, 300)}",
                 "Content-Type": "application/json",
                 "Accept": "application/json, text/event-stream",
                 "MCP-Protocol-Version": "2025-11-25"},
    )
    assert response.status_code == 200, response.text
    values: list[str] = response.json()["result"]["completion"]["values"]
    return values


@pytest.mark.parametrize(("user", "count"), [(SEATTLE, 1), (REGIONAL, 6), (HEAD_OFFICE, 8)])
def test_over_http_each_token_completes_its_own_stores(http_server: RunningServer, user: str,
                                                      count: int) -> None:
    assert len(_complete_over_http(http_server, user, "")) == count


def test_over_http_a_store_outside_the_scope_is_not_suggested(http_server: RunningServer
                                                              ) -> None:
    assert _complete_over_http(http_server, HEAD_OFFICE, "Seattle") == ["Zava Retail Seattle"]
    assert _complete_over_http(http_server, SEATTLE, "Bellevue") == []
