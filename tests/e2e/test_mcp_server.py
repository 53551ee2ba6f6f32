"""The walking skeleton through a real MCP client: in process (on the real database and on the
in-memory wiring) and over stdio against the `zava-mcp serve` subprocess."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dependency_injector import providers
from mcp import Client, StdioServerParameters

from domain.errors import ServiceUnavailableError
from domain.model import ToolCallRecord, UserId
from entrypoints.container import Container, in_memory_container
from entrypoints.mcp.server import build_server
from entrypoints.settings import Settings
from ports.database_server import DatabaseEndpoints

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SEATTLE = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
REGIONAL = "19fadba2-0ce0-477c-8044-861caf516f15"
HEAD_OFFICE = "5ba86bc5-6c7d-4d93-9337-3175bdc44ad8"
EXPECTED_STORE_COUNTS = {SEATTLE: 1, REGIONAL: 6, HEAD_OFFICE: 8}


def _postgres_container(database: DatabaseEndpoints, data_dir: Path) -> Container:
    container = Container(settings=Settings(data_dir=data_dir, pool_min=1, pool_max=2))
    container.database_endpoints.override(providers.Object(database))
    return container


@pytest.fixture(params=["postgres", "memory"])
def container(request: pytest.FixtureRequest, tmp_path: Path) -> Container:
    if request.param == "memory":
        return in_memory_container(Settings(data_dir=tmp_path))
    database = request.getfixturevalue("database")
    return _postgres_container(database, tmp_path)


@pytest.mark.parametrize("user", list(EXPECTED_STORE_COUNTS))
async def test_whoami_in_process(container: Container, user: str) -> None:
    server = build_server(container, caller=lambda: UserId(user))
    async with Client(server) as client:
        result = await client.call_tool("whoami", {})
    assert not result.is_error
    content = result.structured_content
    assert content is not None
    assert content["user_id"] == user
    assert len(content["stores"]) == EXPECTED_STORE_COUNTS[user]
    if user == SEATTLE:
        assert content["stores"][0]["store"] == "Zava Retail Seattle"
        assert content["role"] == "store_manager"


async def test_unknown_user_gets_an_authorization_error(container: Container) -> None:
    nil = UserId("00000000-0000-0000-0000-000000000000")
    async with Client(build_server(container, caller=lambda: nil)) as client:
        result = await client.call_tool("whoami", {})
    assert result.is_error
    assert "AUTHORIZATION_ERROR: unknown user" in result.content[0].text


async def test_no_caller_is_an_authorization_error_not_an_internal_one(tmp_path: Path) -> None:
    """The missing caller is refused inside the runner (audited, counted) with its own code; it
    used to leave the runner as a ToolError and come out as "MCP_ERROR: internal error"."""
    container = in_memory_container(Settings(data_dir=tmp_path))
    calls = {"whoami": {}, "execute_sales_query": {"postgresql_query": "SELECT 1"},
             "get_store_performance": {}, "semantic_search_products": {"query_description": "saw"}}
    async with Client(build_server(container, caller=lambda: None)) as client:
        results = {tool: await client.call_tool(tool, args) for tool, args in calls.items()}
        with pytest.raises(Exception, match="AUTHORIZATION_ERROR: no authenticated user"):
            await client.read_resource("zava://performance")
    for tool, result in results.items():
        assert result.is_error, tool
        assert "AUTHORIZATION_ERROR: no authenticated user" in result.content[0].text, tool
    outcomes = [(r.tool, r.outcome, r.error_code) for r in container.audit_log().records]
    assert ("whoami", "rejected", "AUTHORIZATION_ERROR") in outcomes


async def test_the_caller_s_scope_is_resolved_once_for_many_requests(tmp_path: Path) -> None:
    """Every service reads the caller's scope through the one cached access-scope port: five
    calls to three tools (and a resource) look it up once, where analytics used to make one
    sequential database trip before every call."""
    container = in_memory_container(Settings(data_dir=tmp_path))
    directory = container.access_source()
    lookups = []
    real_scope_for = directory.scope_for

    async def counted(user_id: UserId):
        lookups.append(user_id)
        return await real_scope_for(user_id)

    directory.scope_for = counted  # type: ignore[method-assign]
    user = UserId(REGIONAL)
    async with Client(build_server(container, caller=lambda: user)) as client:
        for tool, arguments in [("whoami", {}), ("get_store_performance", {}),
                                ("get_store_performance", {"store": "Bellevue"}),
                                ("compare_stores", {}), ("get_inventory_alerts", {})]:
            assert not (await client.call_tool(tool, arguments)).is_error, tool
        await client.read_resource("zava://stores")
    assert lookups == [user]


async def test_tools_are_read_only_and_documented(container: Container) -> None:
    server = build_server(container, caller=lambda: UserId(SEATTLE))
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
        date = await client.call_tool("get_current_utc_date", {})
    assert {t.name for t in tools} >= {"whoami", "get_current_utc_date"}
    for tool in tools:
        assert tool.description
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint
    assert date.structured_content is not None
    assert date.structured_content["utc_now"].endswith("+00:00")


@pytest.fixture
async def stdio_client(database: DatabaseEndpoints, data_dir: Path) -> AsyncIterator[Client]:
    env = {
        **os.environ,
        "ZAVA_DATA_DIR": str(data_dir),
        "ZAVA_USER_ID": REGIONAL,
        "ZAVA_LOG_LEVEL": "WARNING",
    }
    env.pop("ZAVA_DATABASE_URL", None)
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "entrypoints.cli", "serve"], env=env
    )
    async with Client(params) as client:
        yield client


async def test_whoami_over_stdio(stdio_client: Client) -> None:
    result = await stdio_client.call_tool("whoami", {})
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["role"] == "regional_manager"
    assert len(result.structured_content["stores"]) == 6
    me = await stdio_client.read_resource("zava://me")
    assert REGIONAL in me.contents[0].text


async def test_the_sql_tools_answer_on_either_wiring(container: Container) -> None:
    """execute_sales_query and get_multiple_table_schemas answer on the in-memory wiring too
    (SQLite over the same data set; before, both failed there with an internal error)."""
    server = build_server(container, caller=lambda: UserId(SEATTLE))
    async with Client(server) as client:
        counted = await client.call_tool("execute_sales_query", {
            "postgresql_query": "SELECT count(DISTINCT store_id) AS stores FROM orders"})
        described = await client.call_tool("get_multiple_table_schemas",
                                           {"table_names": ["stores", "orders"]})
    assert not counted.is_error, counted.content
    assert counted.structured_content is not None
    assert counted.structured_content["rows"] == [[1]]  # the Seattle manager's one store
    assert not described.is_error, described.content
    assert described.structured_content is not None
    tables = described.structured_content["tables"]
    assert [t["table"] for t in tables] == ["retail.stores", "retail.orders"]
    assert tables[0]["valid_values"]["name"] == ["Zava Retail Seattle"]


async def test_every_tool_call_is_audited_the_clock_too(tmp_path: Path) -> None:
    """Every tool call is audited. get_current_utc_date answered without the runner
    and left no audit row (the soak found audit rows = calls minus its calls)."""
    container = in_memory_container(Settings(data_dir=tmp_path))
    seattle = UserId("f47ac10b-58cc-4372-a567-0e02b2c3d479")
    async with Client(build_server(container, caller=lambda: seattle)) as client:
        result = await client.call_tool("get_current_utc_date", {})
    assert not result.is_error
    records = container.audit_log().records
    assert [(r.tool, r.user_id, r.outcome) for r in records] == [
        ("get_current_utc_date", seattle, "ok")]


class _RefusingAudit:
    """An audit log that cannot take a record (the database down and the spool unwritable)."""

    async def record(self, entry: ToolCallRecord) -> None:
        raise ServiceUnavailableError("the audit trail cannot be written")

    async def flush(self) -> None:
        pass

    async def close(self) -> None:
        pass


async def test_a_call_the_audit_log_cannot_take_is_not_answered(tmp_path: Path) -> None:
    """An answered call must be in the audit trail: when the record cannot be kept, the client
    gets the audit's SERVICE_UNAVAILABLE (retryable) instead of the answer, for a tool's own
    answer and for a refusal of its arguments alike."""
    container = in_memory_container(Settings(data_dir=tmp_path))
    container.audit_log.override(providers.Object(_RefusingAudit()))
    seattle = UserId(SEATTLE)
    async with Client(build_server(container, caller=lambda: seattle)) as client:
        answered = await client.call_tool("execute_sales_query", {
            "postgresql_query": "SELECT 1 AS one", "max_rows": 1})
        refused = await client.call_tool("get_top_products", {"by": "profit"})
    for result in (answered, refused):
        assert result.is_error
        [text] = [c.text for c in result.content if c.type == "text"]
        assert text.startswith("SERVICE_UNAVAILABLE: the audit trail cannot be written")
