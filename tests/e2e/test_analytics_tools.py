"""The sales analytics tools through a real MCP client (in process) on the real database, as
the Seattle store manager, the regional manager and head office: the same question gives each
a different, correct answer (checked against the raw tables as the owner), another store is an
AUTHORIZATION_ERROR, and a bad period a VALIDATION_ERROR listing the accepted forms."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from dependency_injector import providers
from mcp import Client

from adapters.demodata.reference import STORES, USERS, DemoUser
from adapters.memory.clock import FixedClock
from domain.model import UserId
from domain.time_period import ACCEPTED_FORMS
from entrypoints.container import Container, in_memory_container
from entrypoints.mcp.server import build_server
from entrypoints.settings import Settings
from ports.database_server import DatabaseEndpoints
from tests.conftest import DEMO_ANCHOR

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SEATTLE_MANAGER, REGIONAL, HEAD_OFFICE = USERS[0], USERS[8], USERS[9]
THREE_USERS = pytest.mark.parametrize("user", [SEATTLE_MANAGER, REGIONAL, HEAD_OFFICE],
                                      ids=lambda u: u.role)
NAMES = {s.store_id: s.name for s in STORES}
NOW = datetime.combine(DEMO_ANCHOR, datetime.min.time(), tzinfo=UTC)


@pytest.fixture
def client_for(database: DatabaseEndpoints, tmp_path: Path):
    """A client of a fresh server (its own pool, opened and closed by the lifespan) on the
    test database, with the clock stopped at the data's anchor date."""
    def connect(user: DemoUser) -> Client:
        container = Container(settings=Settings(data_dir=tmp_path, pool_min=1, pool_max=3))
        container.database_endpoints.override(providers.Object(database))
        container.clock.override(providers.Object(FixedClock(NOW)))
        return Client(build_server(container, caller=lambda: UserId(user.user_id)))

    return connect


@pytest.fixture
def raw(database: DatabaseEndpoints):
    """Completed orders and revenue of some stores straight from the orders table, as the
    owner (no rollups, no RLS): the independent truth the tools must match."""
    def totals(store_ids, first: str, last: str) -> tuple[int, Decimal]:
        with psycopg.connect(database.admin_url) as conn:
            row = conn.execute(
                "SELECT count(*), coalesce(sum(total_amount), 0) FROM retail.orders"
                " WHERE status = 'completed' AND store_id = ANY (%s)"
                " AND order_date >= %s::date AND order_date < %s::date + 1",
                (list(store_ids), first, last),
            ).fetchone()
        assert row is not None
        return row[0], row[1]

    return totals


@THREE_USERS
async def test_same_question_different_correct_answers(client_for, raw, user) -> None:
    async with client_for(user) as client:
        result = await client.call_tool("get_store_performance", {"time_period": "last_90_days"})
        ranking = await client.call_tool("compare_stores", {"time_period": "last_90_days"})
    assert not result.is_error, result.content
    content = result.structured_content
    assert content["stores"] == sorted(NAMES[s] for s in user.store_ids)
    period = content["period"]
    assert (period["first_day"], period["last_day"]) == ("2026-04-01", "2026-06-29")
    orders, revenue = raw(user.store_ids, period["first_day"], period["last_day"])
    assert content["current"]["orders"] == orders
    assert Decimal(str(content["current"]["revenue"])) == revenue
    previous = content["previous_period"]
    orders, revenue = raw(user.store_ids, previous["first_day"], previous["last_day"])
    assert content["previous"]["orders"] == orders
    assert sum(c["share_pct"] for c in content["categories"]) == pytest.approx(100.0)
    assert content["insights"], "a quarter of demo data always says something"
    assert not ranking.is_error, ranking.content
    rows = ranking.structured_content["stores"]
    assert [r["store"] for r in rows if r["rank"] == 1]
    assert {r["store"] for r in rows} == {NAMES[s] for s in user.store_ids}
    assert [r["revenue"] for r in rows] == sorted((r["revenue"] for r in rows), reverse=True)


async def test_a_store_outside_the_scope_is_an_authorization_error(client_for) -> None:
    async with client_for(SEATTLE_MANAGER) as client:
        tacoma = await client.call_tool("get_store_performance",
                                        {"store": "tacoma", "time_period": "last_30_days"})
        trend = await client.call_tool("get_sales_trend", {"store": "Zava Retail Bellevue"})
        own = await client.call_tool("get_store_performance", {"store": "SEATTLE"})
    assert tacoma.is_error
    text = tacoma.content[0].text
    assert "AUTHORIZATION_ERROR: Zava Retail Tacoma is not one of your stores" in text
    assert "$" not in text
    assert trend.is_error
    assert "AUTHORIZATION_ERROR" in trend.content[0].text
    assert not own.is_error
    async with client_for(REGIONAL) as client:
        spokane = await client.call_tool("get_top_products", {"store": "spokane"})
        tacoma = await client.call_tool("get_top_products", {"store": "tacoma"})
    assert spokane.is_error
    assert "AUTHORIZATION_ERROR" in spokane.content[0].text
    assert not tacoma.is_error


async def test_a_bad_period_is_a_validation_error_listing_the_accepted_forms(client_for) -> None:
    async with client_for(HEAD_OFFICE) as client:
        result = await client.call_tool("get_store_performance",
                                        {"store": "seattle", "time_period": "last_week"})
        future = await client.call_tool("get_sales_trend", {"time_period": "2027"})
        unknown = await client.call_tool("get_inventory_alerts", {"store": "gotham"})
    assert result.is_error
    text = result.content[0].text
    assert "VALIDATION_ERROR: time_period 'last_week' is not recognised" in text
    assert all(form in text for form in ACCEPTED_FORMS)
    assert future.is_error
    assert "starts after today (2026-06-30" in future.content[0].text
    assert unknown.is_error
    assert "VALIDATION_ERROR: no store matches 'gotham'" in unknown.content[0].text


async def test_sales_trend_adds_up(client_for, raw) -> None:
    async with client_for(REGIONAL) as client:
        result = await client.call_tool(
            "get_sales_trend", {"time_period": "last_quarter", "granularity": "month"})
    assert not result.is_error, result.content
    content = result.structured_content
    assert [p["first_day"] for p in content["points"]] == ["2026-01-01", "2026-02-01",
                                                           "2026-03-01"]
    orders, revenue = raw(REGIONAL.store_ids, "2026-01-01", "2026-03-31")
    assert content["total_orders"] == orders == sum(p["orders"] for p in content["points"])
    assert Decimal(str(content["total_revenue"])) == revenue


async def test_top_products_and_inventory_alerts(client_for, database: DatabaseEndpoints
                                                 ) -> None:
    async with client_for(SEATTLE_MANAGER) as client:
        top = await client.call_tool("get_top_products",
                                     {"time_period": "2026-Q1", "by": "units", "max_rows": 5})
        alerts = await client.call_tool("get_inventory_alerts", {"max_rows": 200})
    assert not top.is_error, top.content
    products = top.structured_content["products"]
    assert [p["rank"] for p in products] == [1, 2, 3, 4, 5]
    assert [p["units"] for p in products] == sorted((p["units"] for p in products), reverse=True)
    assert not alerts.is_error, alerts.content
    content = alerts.structured_content
    with psycopg.connect(database.admin_url) as conn:
        low = conn.execute(
            "SELECT count(*) FROM retail.inventory WHERE store_id = %s"
            " AND stock_level <= reorder_point", (SEATTLE_MANAGER.store_ids[0],)).fetchone()
    assert low is not None
    assert content["total_alerts"] == low[0] == len(content["alerts"])
    assert {a["store"] for a in content["alerts"]} == {"Zava Retail Seattle"}
    sold = [a["units_sold_last_30_days"] for a in content["alerts"]]
    assert sold == sorted(sold, reverse=True)


@THREE_USERS
async def test_stores_resource_and_prompt(client_for, user) -> None:
    async with client_for(user) as client:
        stores = await client.read_resource("zava://stores")
        prompt = await client.get_prompt("analyze_store_performance",
                                         {"store": "Seattle", "time_period": "last_quarter"})
    text = stores.contents[0].text
    assert text.count('"store_id"') == len(user.store_ids)
    assert all(NAMES[s] in text for s in user.store_ids)
    message = prompt.messages[0].content.text
    assert 'get_store_performance with store="Seattle" and time_period="last_quarter"' in message


async def test_the_in_memory_server_serves_the_same_tools(tmp_path: Path) -> None:
    container = in_memory_container(Settings(data_dir=tmp_path))
    container.clock.override(providers.Object(FixedClock(NOW)))
    server = build_server(container, caller=lambda: UserId(SEATTLE_MANAGER.user_id))
    async with Client(server) as client:
        result = await client.call_tool("get_store_performance", {"time_period": "2026-05"})
        tacoma = await client.call_tool("compare_stores", {"time_period": "2026-05"})
    assert not result.is_error, result.content
    assert result.structured_content["stores"] == ["Zava Retail Seattle"]
    assert result.structured_content["current"]["orders"] > 0
    assert [r["store"] for r in tacoma.structured_content["stores"]] == ["Zava Retail Seattle"]
    assert date.fromisoformat(result.structured_content["period"]["last_day"]).month == 5
