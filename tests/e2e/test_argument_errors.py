"""Arguments that do not fit a tool's input schema get one clear VALIDATION_ERROR (what was
wrong, what the argument accepts, the closest name for a misspelt one) through a real MCP
client in both protocol eras, instead of pydantic's report; valid calls are untouched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from domain.model import UserId
from entrypoints.container import in_memory_container
from entrypoints.mcp.server import build_server
from entrypoints.settings import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

HEAD_OFFICE = "5ba86bc5-6c7d-4d93-9337-3175bdc44ad8"


def _server(tmp_path: Path) -> Any:
    container = in_memory_container(Settings(data_dir=tmp_path))
    return build_server(container, caller=lambda: UserId(HEAD_OFFICE))


async def _error(tmp_path: Path, mode: str, tool: str, arguments: dict[str, Any]) -> str:
    async with Client(_server(tmp_path), mode=mode) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    for internal in ("pydantic", "Arguments", "errors.pydantic.dev", "type=missing"):
        assert internal not in text
    return text


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_misspelt_required_argument_names_the_right_one(tmp_path: Path,
                                                                mode: str) -> None:
    text = await _error(tmp_path, mode, "semantic_search_products",
                        {"query": "something to cut branches"})
    assert text.startswith("VALIDATION_ERROR: ")
    assert "'query' is not an argument of this tool (did you mean 'query_description'?)" in text
    assert "'query_description' is required: string" in text


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_value_of_the_wrong_type_or_range_says_what_is_accepted(tmp_path: Path,
                                                                       mode: str) -> None:
    text = await _error(tmp_path, mode, "execute_sales_query",
                        {"postgresql_query": "SELECT 1", "max_rows": "lots"})
    assert "max_rows = 'lots' is not accepted; accepted: integer" in text
    text = await _error(tmp_path, mode, "get_sales_trend", {"granularity": 7})
    assert text.count("granularity = 7 is not accepted; accepted: one of 'day', 'week'") == 1


async def test_valid_calls_and_the_tools_own_errors_are_untouched(tmp_path: Path) -> None:
    async with Client(_server(tmp_path)) as client:
        ok = await client.call_tool("get_sales_trend", {"time_period": "last_30_days"})
        refused = await client.call_tool("get_sales_trend", {"time_period": "last_week"})
    assert not ok.is_error
    assert refused.is_error
    text = refused.content[0].text  # type: ignore[union-attr]
    assert "VALIDATION_ERROR: " in text
    assert "time_period 'last_week' is not recognised" in text
    assert "is not accepted" not in text  # the service's own message, not this layer's


# Per tool: arguments that are valid apart from one misspelt name, and the name meant (None for a
# tool without arguments). A misspelt optional argument used to be dropped silently: the call
# answered for the default (`get_top_products {"timeperiod": "last_7_days"}` for last_30_days).
MISSPELT: dict[str, tuple[dict[str, Any], str | None]] = {
    "whoami": ({"user": "me"}, None),
    "get_current_utc_date": ({"timezone": "UTC"}, None),
    "execute_sales_query": ({"postgresql_query": "SELECT 1", "maxrows": 5}, "max_rows"),
    "get_multiple_table_schemas": ({"table_name": ["orders"]}, "table_names"),
    "get_store_performance": ({"store": "Seattle", "period": "last_7_days"}, "time_period"),
    "get_sales_trend": ({"granulartiy": "day"}, "granularity"),
    "get_top_products": ({"timeperiod": "last_7_days"}, "time_period"),
    "compare_stores": ({"metrics": "orders"}, "metric"),
    "get_inventory_alerts": ({"treshold": 5}, "threshold"),
    "semantic_search_products": ({"query_description": "saw", "maxprice": 20}, "max_price"),
}


async def test_every_tool_schema_rejects_unknown_names(tmp_path: Path) -> None:
    async with Client(_server(tmp_path)) as client:
        tools = (await client.list_tools()).tools
    assert {t.name for t in tools} == set(MISSPELT)  # a new tool needs its case below
    for tool in tools:
        assert tool.input_schema.get("additionalProperties") is False, tool.name


@pytest.mark.parametrize("tool", list(MISSPELT))
async def test_a_misspelt_argument_of_any_tool_is_an_error_naming_the_one_meant(
    tmp_path: Path, tool: str
) -> None:
    arguments, meant = MISSPELT[tool]
    text = await _error(tmp_path, "auto", tool, arguments)
    wrong = next(name for name in arguments if name != meant and name not in (
        "postgresql_query", "query_description", "store"))
    assert text.startswith("VALIDATION_ERROR: ")
    if meant is None:
        assert f"{wrong!r} is not an argument of this tool; it takes none" in text
    else:
        assert f"{wrong!r} is not an argument of this tool (did you mean {meant!r}?)" in text
    assert text.count("VALIDATION_ERROR") == 1


async def test_a_refused_argument_is_audited_like_any_refusal(tmp_path: Path) -> None:
    container = in_memory_container(Settings(data_dir=tmp_path))
    server = build_server(container, caller=lambda: UserId(HEAD_OFFICE))
    async with Client(server) as client:
        await client.call_tool("get_top_products", {"timeperiod": "last_7_days"})
    (record,) = container.audit_log().records
    assert (record.tool, record.outcome, record.error_code) == (
        "get_top_products", "rejected", "VALIDATION_ERROR")
    assert str(record.user_id) == HEAD_OFFICE
