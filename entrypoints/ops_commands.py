"""`zava-mcp health` and `zava-mcp demo`: operator commands that run the real server in process.

`health` opens the serving pool and reports database, embeddings and cache separately (exit 0
only if all are ok). Unlike `/health`, it waits for the embedding provider's answer (after
loading a local model), so its `embeddings` is `ok (…)`, `failed (…)` or `not configured`,
never `checking`. `demo` is a scripted tour through a real MCP client (the SDK's in-process
Client over the same server `serve` runs): three users ask the same questions and get
different answers, because the database limits each to their own stores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from dataclasses import dataclass
from typing import Any

import anyio
from rich.console import Console
from rich.table import Table

from adapters.demodata.reference import USERS
from adapters.postgres import provisioning
from domain.errors import ConfigurationError
from domain.model import UserId
from entrypoints.container import Container
from entrypoints.health import Health, HealthChecker, embedding_provider_of
from entrypoints.settings import Settings

POOL_OPEN_TIMEOUT_S = 10.0
EMBEDDINGS_LOAD_TIMEOUT_S = 120.0


def health(args: argparse.Namespace, settings: Settings) -> int:
    report = anyio.run(_check_health, settings)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        for part, state in report.as_dict().items():
            print(f"{part:<11} {state}")
    return 0 if report.status == "ok" else 1


async def _check_health(settings: Settings) -> Health:
    container = Container(settings=settings)
    try:
        container.database_endpoints()
        pool = container.query_pool()
        await pool.open(wait=True, timeout=POOL_OPEN_TIMEOUT_S)  # the health check's only pool
    except Exception as e:
        return Health(database=f"failed ({type(e).__name__})", embeddings="not checked",
                      cache="not checked")
    checker = HealthChecker(container)
    embeddings = embedding_provider_of(container)
    try:
        if embeddings is not None:
            with anyio.move_on_after(EMBEDDINGS_LOAD_TIMEOUT_S), contextlib.suppress(Exception):
                await embeddings.warm_up()  # a local model loads in seconds
        return await checker.check(wait_for_embeddings=True)  # one shot: no "checking"
    finally:
        if embeddings is not None:
            await embeddings.aclose()
        await container.cache_store().close()
        await pool.close()


@dataclass(frozen=True)
class Question:
    title: str
    sql: str


DEMO_USERS = (USERS[0], USERS[8], USERS[9])  # a store manager, a regional manager, head office
QUESTIONS = (
    Question("Completed revenue per store",
             "SELECT s.name AS store, count(*) AS orders, round(sum(o.total_amount)) AS revenue"
             " FROM orders o JOIN stores s USING (store_id) WHERE o.status = 'completed'"
             " GROUP BY s.name ORDER BY revenue DESC"),
    Question("Top 3 product categories by units sold",
             "SELECT c.name AS category, sum(oi.quantity) AS units FROM order_items oi"
             " JOIN products p USING (product_id) JOIN categories c USING (category_id)"
             " GROUP BY c.name ORDER BY units DESC LIMIT 3"),
    Question("Customers on file", "SELECT count(*) AS customers FROM customers"),
)


def demo(args: argparse.Namespace, settings: Settings) -> int:
    container = Container(settings=settings)
    endpoints = container.database_endpoints()
    if endpoints.admin_url and not provisioning.status(endpoints).initialised:
        raise ConfigurationError("the database is not initialised: run `zava-mcp db init`"
                                 " (or `zava-mcp serve` once) first")
    console = Console()
    anyio.run(tour, container, console)
    return 0


async def tour(container: Container, console: Console) -> None:
    from mcp import Client

    from entrypoints.mcp.server import build_server

    current: list[UserId] = [UserId(DEMO_USERS[0].user_id)]
    console.print("[bold]Zava Retail MCP demo[/]: three users, the same questions, through a"
                  " real MCP client. Row-level security in PostgreSQL decides what each sees.\n")
    async with Client(build_server(container, caller=lambda: current[0])) as client:
        tools = (await client.list_tools()).tools
        console.print(f"tools: {', '.join(sorted(t.name for t in tools))}\n")
        for user in DEMO_USERS:
            current[0] = UserId(user.user_id)
            me = await _call(client, "whoami", {})
            stores = ", ".join(s["store"].removeprefix("Zava Retail ") for s in me["stores"])
            console.print(f"[bold cyan]{me['display_name']}[/] ({me['role']}) sees: {stores}")
        for question in QUESTIONS:
            console.rule(f"[bold]{question.title}")
            console.print(f"[dim]{question.sql}[/]")
            for user in DEMO_USERS:
                current[0] = UserId(user.user_id)
                result = await _call(client, "execute_sales_query",
                                     {"postgresql_query": question.sql})
                console.print(_table(user.display_name, result))


async def _call(client: Any, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        raise RuntimeError(f"{tool} failed: {result.content[0].text}")
    content: dict[str, Any] = result.structured_content
    return content


def _table(title: str, result: dict[str, Any]) -> Table:
    table = Table(title=f"{title} — {result['row_count']} rows, {result['elapsed_ms']:.1f} ms",
                  title_justify="left")
    for column in result["columns"]:
        table.add_column(column)
    for row in result["rows"]:
        table.add_row(*(_cell(v) for v in row))
    return table


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
