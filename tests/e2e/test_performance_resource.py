"""`zava://performance` through a real MCP client on the real database: head office reads the
per-operation summary of the queries that ran; anyone else gets AUTHORIZATION_ERROR."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dependency_injector import providers
from mcp import Client
from mcp.shared.exceptions import MCPError

from domain.model import UserId
from entrypoints.container import Container
from entrypoints.mcp.server import build_server
from entrypoints.settings import Settings
from ports.database_server import DatabaseEndpoints

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SEATTLE = UserId("f47ac10b-58cc-4372-a567-0e02b2c3d479")
HEAD_OFFICE = UserId("5ba86bc5-6c7d-4d93-9337-3175bdc44ad8")


async def test_performance_summary_is_for_head_office(database: DatabaseEndpoints,
                                                      tmp_path: Path) -> None:
    container = Container(settings=Settings(data_dir=tmp_path, pool_min=1, pool_max=2))
    container.database_endpoints.override(providers.Object(database))
    caller = [SEATTLE]  # one server (one pool) for both users
    async with Client(build_server(container, caller=lambda: caller[0])) as client:
        for sql in ("SELECT count(*) FROM orders", "SELECT 1", "SELECT nope FROM orders"):
            await client.call_tool("execute_sales_query", {"postgresql_query": sql})
        with pytest.raises(MCPError, match="AUTHORIZATION_ERROR: the performance summary is"
                                           " for head office only"):
            await client.read_resource("zava://performance")
        caller[0] = HEAD_OFFICE
        listed = await client.list_resources()
        read = await client.read_resource("zava://performance")
    assert "zava://performance" in {str(r.uri) for r in listed.resources}
    summary = json.loads(read.contents[0].text)
    assert summary["slow_query_threshold_s"] == 1.0
    [sales] = [o for o in summary["operations"] if o["operation"] == "execute_sales_query"]
    assert sales["count"] == 3
    assert sales["errors"] == 1
    assert 0 < sales["min_ms"] <= sales["avg_ms"] <= sales["max_ms"]
    assert sales["slow"] == 0
    # not only the model's SQL: every database operation goes through the gateway and counts,
    # e.g. the access lookups behind the caching executor and the performance check itself
    operations = {o["operation"] for o in summary["operations"]}
    assert {"access.scope_for", "data_version"} <= operations
