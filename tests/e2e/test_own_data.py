"""Your own data, as the README tells an operator to load it: `db init --no-demo`, `db import`
of the example chain under examples/, `users add` for a store manager and a regional manager
under identity-provider ids; then every tool answers from the imported rows, each user sees
exactly their stores, and bad files are named by file and line with nothing loaded."""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from dependency_injector import providers
from mcp import Client

from adapters.memory.clock import FixedClock
from adapters.postgres.embedded import EmbeddedPostgresServer
from domain.model import UserId
from entrypoints.container import Container
from entrypoints.mcp.server import build_server
from entrypoints.settings import Settings
from ports.database_server import DatabaseEndpoints
from tests.e2e.test_cli import zava
from tests.support.db_state import database_state

pytestmark = [pytest.mark.e2e]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cascade-hardware"
PORTLAND_MANAGER = "auth0|cascade-portland"  # the ids an identity provider issues
REGIONAL = "00u-cascade-oregon"
NOW = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def own_database() -> Iterator[tuple[Path, DatabaseEndpoints]]:
    """A data dir of its own: `db init --no-demo`, the example imported, three users added
    (as subprocesses, the way an operator types them)."""
    path = Path(tempfile.mkdtemp(prefix="zava-own-data-"))
    server = EmbeddedPostgresServer(path)
    try:
        for args in (("db", "init", "--no-demo"), ("db", "import", str(EXAMPLE)),
                     ("users", "add", "--id", PORTLAND_MANAGER, "--name", "Portland manager",
                      "--role", "store_manager", "--stores", "PDX"),
                     ("users", "add", "--id", REGIONAL, "--name", "Oregon regional manager",
                      "--role", "regional_manager", "--stores", "Portland,salem"),
                     ("users", "add", "--id", "cascade-hq", "--name", "Head office",
                      "--role", "head_office")):
            done = zava(path, *args, timeout=600)
            assert done.returncode == 0, (args, done.stderr)
        yield path, server.start()
    finally:
        server.stop()
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def own_data_dir(own_database: tuple[Path, DatabaseEndpoints]) -> Path:
    return own_database[0]


@pytest.fixture(scope="module")
def endpoints(own_database: tuple[Path, DatabaseEndpoints]) -> DatabaseEndpoints:
    return own_database[1]


def _client(own_data_dir: Path, endpoints: DatabaseEndpoints, user: str) -> Client:
    container = Container(settings=Settings(data_dir=own_data_dir, pool_min=1, pool_max=3))
    container.database_endpoints.override(providers.Object(endpoints))
    container.clock.override(providers.Object(FixedClock(NOW)))
    return Client(build_server(container, caller=lambda: UserId(user)))


async def _call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, (tool, result.content)
    assert result.structured_content is not None
    return result.structured_content


def test_db_status_says_what_was_loaded(own_data_dir: Path) -> None:
    status = zava(own_data_dir, "db", "status")
    assert "initialised without demo data" in status.stdout
    assert f"imported {EXAMPLE}" in status.stdout
    assert "demo data:" not in status.stdout


@pytest.mark.anyio
async def test_every_tool_answers_from_the_imported_data(
    own_data_dir: Path, endpoints: DatabaseEndpoints
) -> None:
    with psycopg.connect(endpoints.admin_url) as conn:
        revenue = conn.execute(
            "SELECT sum(total_amount) FROM retail.orders o JOIN retail.stores s USING (store_id)"
            " WHERE s.code = 'PDX' AND status = 'completed' AND order_date >= '2026-04-01'"
            " AND order_date < '2026-07-01'").fetchone()[0]
    async with _client(own_data_dir, endpoints, PORTLAND_MANAGER) as client:
        me = await _call(client, "whoami", {})
        assert [s["store"] for s in me["stores"]] == ["Cascade Hardware Portland"]
        performance = await _call(client, "get_store_performance",
                                  {"store": "Portland", "time_period": "2026-Q2"})
        assert Decimal(str(performance["current"]["revenue"])) == revenue
        trend = await _call(client, "get_sales_trend",
                            {"time_period": "2026-Q2", "granularity": "month"})
        assert sum(Decimal(str(p["revenue"])) for p in trend["points"]) == revenue
        top = await _call(client, "get_top_products", {"time_period": "2026-Q2", "max_rows": 3})
        assert all(p["sku"].startswith("CH-") for p in top["products"])
        ranking = await _call(client, "compare_stores", {"time_period": "2026-Q2"})
        assert [s["store"] for s in ranking["stores"]] == ["Cascade Hardware Portland"]
        alerts = await _call(client, "get_inventory_alerts", {"max_rows": 50})
        assert {a["store"] for a in alerts["alerts"]} <= {"Cascade Hardware Portland"}
        rows = await _call(client, "execute_sales_query", {
            "postgresql_query": "SELECT DISTINCT s.code FROM orders o JOIN stores s USING"
                                " (store_id)"})
        assert rows["rows"] == [["PDX"]]
        found = await _call(client, "semantic_search_products",
                            {"query_description": "something to cut branches"})
        assert found["products"][0]["sku"] == "CH-PRN-07"
        schemas = await _call(client, "get_multiple_table_schemas", {"table_names": ["stores"]})
        assert schemas["tables"][0]["valid_values"]["name"] == ["Cascade Hardware Portland"]
    async with _client(own_data_dir, endpoints, REGIONAL) as client:
        ranking = await _call(client, "compare_stores", {"time_period": "2026-Q2"})
        assert sorted(s["store"] for s in ranking["stores"]) == [
            "Cascade Hardware Portland", "Cascade Hardware Salem"]


def _broken_copy(tmp_path: Path, edits: dict[str, dict[int, list[str]]]) -> Path:
    """The example set with some rows replaced or appended (file -> {line: values})."""
    target = tmp_path / "broken"
    shutil.copytree(EXAMPLE, target)
    for name, lines in edits.items():
        with (target / name).open(newline="") as f:
            rows = list(csv.reader(f))
        for number, values in lines.items():
            if number > len(rows):
                rows.append(values)
            else:
                rows[number - 1] = values
        with (target / name).open("w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
    return target


def test_bad_rows_are_named_by_file_and_line_and_nothing_is_loaded(
    own_data_dir: Path, endpoints: DatabaseEndpoints, tmp_path: Path
) -> None:
    broken = _broken_copy(tmp_path, {
        "stores.csv": {5: ["PDX", "Another Portland", "Portland", "Oregon", "maybe"]},
        "orders.csv": {2: ["O00001", "SLM", "C0001", "2026-13-01", "shipped"]},
        "order_items.csv": {2: ["O00001", "CH-NOPE-99", "-2", "19.99", "0"],
                            3: ["O00002", "CH-BRU-06", "1", "8.99", "9.00"]},
        "inventory.csv": {2: ["XYZ", "CH-HAM-01", "5", "-1"]},
    })
    before = database_state(endpoints.admin_url)
    done = zava(own_data_dir, "db", "import", str(broken), "--replace", timeout=300)
    assert done.returncode == 2
    reported = [line for line in done.stderr.splitlines() if line.strip()]
    assert reported[:-1] == [
        "stores.csv:5: code: store code 'PDX' appears twice in stores.csv; accepted: each once",
        "stores.csv:5: is_online: 'maybe' is not a truth value; accepted: true or false",
        "orders.csv:2: customer_code: customer 'C0001' belongs to store 'PDX', the order to"
        " 'SLM'; accepted: a customer of the order's store",
        "orders.csv:2: ordered_at: '2026-13-01' is not a date-time; accepted: ISO 8601, e.g."
        " 2025-03-01T14:30:00Z (no zone means UTC)",
        "orders.csv:2: status: 'shipped'; accepted: completed, pending, cancelled, returned",
        "order_items.csv:2: sku: 'CH-NOPE-99' is neither in products.csv nor in the database;"
        " accepted: a known SKU",
        "order_items.csv:2: quantity: -2 is negative; accepted: a whole number >= 1",
        "order_items.csv:3: discount: 9.00 exceeds the line's 8.99; accepted: at most"
        " quantity x unit_price",
        "inventory.csv:2: store_code: 'XYZ' is neither in stores.csv nor in the database;"
        " accepted: a known store code",
        "inventory.csv:2: reorder_point: -1 is negative; accepted: a whole number >= 0",
    ]
    assert "nothing was loaded" in reported[-1]
    assert database_state(endpoints.admin_url) == before


def test_at_most_fifty_problems_then_a_count(own_data_dir: Path, tmp_path: Path) -> None:
    broken = _broken_copy(tmp_path, {"order_items.csv": {
        n: ["O00001", "CH-HAM-01", "0", "19.99", "0"] for n in range(2, 82)}})
    # --replace: the module's database may already hold the example set, whose stores and
    # products a plain import would report first ("already in the database")
    done = zava(own_data_dir, "db", "import", str(broken), "--replace", timeout=300)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    problems = [line for line in lines if line.startswith("order_items.csv:")]
    assert [p.split(":")[1] for p in problems] == [str(n) for n in range(2, 52)]
    assert all(": quantity: 0 is too small; accepted: a whole number >= 1" in p
               for p in problems)
    assert "... and 30 more problems" in lines
    assert "80 problem(s) in the files; nothing was loaded" in lines[-1]


def test_replace_keeps_users_and_their_stores(own_data_dir: Path) -> None:
    done = zava(own_data_dir, "db", "import", str(EXAMPLE), "--replace", timeout=600)
    assert done.returncode == 0, done.stderr
    users = {u["user_id"]: u for u in json.loads(zava(own_data_dir, "users", "--json").stdout)}
    assert users[PORTLAND_MANAGER]["store_codes"] == ["PDX"]
    assert users[REGIONAL]["store_codes"] == ["PDX", "SLM"]
