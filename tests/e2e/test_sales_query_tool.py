"""execute_sales_query, get_multiple_table_schemas and the audit trail through a real MCP client
(in process) on the real database: three users, same questions, different correct answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from dependency_injector import providers
from mcp import Client

from adapters.demodata.reference import SEATTLE, STORES, USERS
from domain.model import UserId
from entrypoints.container import Container
from entrypoints.mcp.server import build_server
from entrypoints.settings import Settings
from ports.database_server import DatabaseEndpoints
from tests.support.temp_disk import SPILLING_SORT, lowered_temp_file_limit

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SEATTLE_MANAGER, REGIONAL, HEAD_OFFICE = USERS[0], USERS[8], USERS[9]
STORES_BY_ID = {str(s.store_id): s.name for s in STORES}


@pytest.fixture
def container(database: DatabaseEndpoints, tmp_path: Path) -> Container:
    container = Container(settings=Settings(data_dir=tmp_path, pool_min=1, pool_max=3))
    container.database_endpoints.override(providers.Object(database))
    return container


@pytest.fixture
def client_for(container: Container):
    def connect(user) -> Client:
        return Client(build_server(container, caller=lambda: UserId(user.user_id)))

    return connect


async def ask(client: Client, sql: str, max_rows: int = 100):
    return await client.call_tool(
        "execute_sales_query", {"postgresql_query": sql, "max_rows": max_rows}
    )


@pytest.mark.parametrize("user", [SEATTLE_MANAGER, REGIONAL, HEAD_OFFICE],
                         ids=lambda u: u.role)
async def test_same_question_different_answers(client_for, user) -> None:
    async with client_for(user) as client:
        result = await ask(
            client,
            "SELECT s.name, count(*) AS orders FROM orders o JOIN stores s USING (store_id)"
            " GROUP BY s.name ORDER BY s.name",
        )
    assert not result.is_error, result.content
    content = result.structured_content
    assert content is not None
    assert content["columns"] == ["name", "orders"]
    assert {row[0] for row in content["rows"]} == {STORES_BY_ID[str(s)] for s in user.store_ids}
    assert content["row_count"] == len(user.store_ids)
    assert content["truncated"] is False


async def test_truncation_is_reported(client_for) -> None:
    async with client_for(HEAD_OFFICE) as client:
        result = await ask(client, "SELECT order_id FROM orders", max_rows=5)
    assert result.structured_content["row_count"] == 5
    assert result.structured_content["truncated"] is True


async def test_columns_named_like_the_size_wrappers_own_names(client_for) -> None:
    """A model may name a column anything: `zava_q` is the wrapper's alias for the whole row
    ("type integer is not composite" before), `zava_bytes` the name of its running total."""
    async with client_for(SEATTLE_MANAGER) as client:
        result = await ask(client, "SELECT order_id::text AS zava_q, 1 AS zava_bytes FROM orders"
                                   " ORDER BY order_id LIMIT 2")
    assert not result.is_error, result.content
    content = result.structured_content
    assert content["columns"] == ["zava_q", "zava_bytes"]
    assert content["row_count"] == 2
    assert all(len(row[0]) == 36 and row[1] == 1 for row in content["rows"])


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("DELETE FROM orders", "VALIDATION_ERROR"),
        ("SELECT * FROM pg_read_file('/etc/passwd')", "pg_read_file"),
        ("SELECT * FROM access.app_users", "access.app_users"),
        ("SELECT set_config('zava.context', 'x', true)", "set_config"),
        ("SELECT 1; SELECT 2", "VALIDATION_ERROR"),
        ("SELECT no_such_column FROM orders", "no_such_column"),
    ],
)
async def test_rejections_name_the_problem(client_for, sql: str, fragment: str) -> None:
    async with client_for(SEATTLE_MANAGER) as client:
        result = await ask(client, sql)
    assert result.is_error
    text = result.content[0].text
    assert fragment in text
    assert "Traceback" not in text
    assert "postgresql://" not in text


@pytest.mark.parametrize("max_rows", [0, -1, 10**9])
async def test_bad_max_rows(client_for, max_rows: int) -> None:
    async with client_for(SEATTLE_MANAGER) as client:
        result = await ask(client, "SELECT 1", max_rows=max_rows)
    assert result.is_error
    assert "max_rows must be between 1 and" in result.content[0].text


async def test_schema_tool_shows_only_visible_values(client_for) -> None:
    async with client_for(SEATTLE_MANAGER) as client:
        result = await client.call_tool(
            "get_multiple_table_schemas", {"table_names": ["stores", "Orders", "retail.regions"]}
        )
        unknown = await client.call_tool(
            "get_multiple_table_schemas", {"table_names": ["app_users"]}
        )
        resource = await client.read_resource("zava://schema/inventory")
    assert not result.is_error, result.content
    tables = {t["table"]: t for t in result.structured_content["tables"]}
    assert set(tables) == {"retail.stores", "retail.orders", "retail.regions"}
    assert tables["retail.stores"]["valid_values"]["name"] == [SEATTLE.name]
    assert tables["retail.regions"]["valid_values"]["name"] == ["Puget Sound"]
    orders = tables["retail.orders"]
    assert orders["row_level_security"] is True
    assert orders["primary_key"] == ["store_id", "order_id"]
    assert "completed" in orders["valid_values"]["status"]
    assert any(c["name"] == "order_date" and "timestamp" in c["type"] for c in orders["columns"])
    assert unknown.is_error
    assert "unknown table 'app_users'" in unknown.content[0].text
    assert "stock_level" in resource.contents[0].text


@pytest.fixture
def audit_count(database: DatabaseEndpoints) -> Callable[[], int]:
    def count() -> int:
        with psycopg.connect(database.admin_url) as conn:
            return conn.execute("SELECT count(*) FROM audit.tool_calls").fetchone()[0]

    return count


async def test_every_call_is_audited(client_for, container: Container, audit_count,
                                     database: DatabaseEndpoints) -> None:
    before = audit_count()
    async with client_for(SEATTLE_MANAGER) as client:
        await ask(client, "SELECT count(*) FROM orders")
        await ask(client, "DROP TABLE orders")
        await ask(client, "SELECT pg_sleep(1)")
        await client.call_tool("whoami", {})
        await client.call_tool("get_multiple_table_schemas", {"table_names": ["nope"]})
    await container.audit_log().flush()
    assert audit_count() == before + 5
    with psycopg.connect(database.admin_url) as conn:
        rows = conn.execute(
            "SELECT tool, outcome, error_code, user_id, row_count, sql_fingerprint"
            " FROM audit.tool_calls ORDER BY call_id DESC LIMIT 5"
        ).fetchall()
    rows.reverse()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("execute_sales_query", "ok", None),
        ("execute_sales_query", "rejected", "VALIDATION_ERROR"),
        ("execute_sales_query", "rejected", "VALIDATION_ERROR"),
        ("whoami", "ok", None),
        ("get_multiple_table_schemas", "rejected", "VALIDATION_ERROR"),
    ]
    assert all(str(r[3]) == str(SEATTLE_MANAGER.user_id) for r in rows)
    assert rows[0][4] == 1
    assert rows[0][5] is not None


async def test_a_large_answer_is_compact_and_cut_to_the_byte_budget(client_for) -> None:
    """`SELECT * FROM orders` with max_rows=1000 answered 288 KB of indented JSON; now the text is
    compact JSON of at most ZAVA_ANSWER_MAX_BYTES (default 32 KB) with a note on narrowing."""
    async with client_for(HEAD_OFFICE) as client:
        result = await ask(client, "SELECT * FROM orders", max_rows=1000)
        small = await ask(client, "SELECT 1 AS one")
    assert not result.is_error, result.content
    text = result.content[0].text
    content = result.structured_content
    assert content is not None
    assert len(text.encode()) <= 32_768
    assert json.loads(text) == content
    assert "\n" not in text
    assert content["truncated"] is True
    assert 50 < content["row_count"] == len(content["rows"]) < 1000
    assert content["note"].startswith(f"{content['row_count']} of 1000 rows shown: answers are"
                                      " limited to 32768 bytes")
    assert "max_rows" in content["note"]
    assert small.content[0].text.startswith('{"columns":["one"],"rows":[[1]],"row_count":1,')
    assert "note" not in small.structured_content


async def test_a_query_needing_too_much_temporary_disk_is_told_to_narrow(
    client_for, database: DatabaseEndpoints,
) -> None:
    with lowered_temp_file_limit(database.admin_url):  # the client's pool connects inside
        async with client_for(HEAD_OFFICE) as client:
            result = await ask(client, SPILLING_SORT)
    assert result.is_error
    text = result.content[0].text
    assert text.startswith("DATABASE_ERROR: the query needs more temporary disk than one query"
                           " may use (temporary file size exceeds ")
    assert text.endswith("; filter by date or store, aggregate, or add LIMIT")
    assert "retry" not in text
    assert "internal error" not in text
