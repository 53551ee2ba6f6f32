"""The matching behind completion/complete (entrypoints/mcp/completions.py) and the level and data
of the tool-outcome log notification (entrypoints/mcp/client_logging.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from mcp.types import CallToolResult, TextContent

from adapters.postgres.schema_catalog import EXPOSED_TABLES
from domain.time_period import NAMED_FORMS, TimePeriod
from entrypoints.mcp.client_logging import LEVELS, outcome_of_result, severity, tool_outcome
from entrypoints.mcp.completions import (
    MAX_VALUES,
    complete_period,
    complete_store,
    complete_table,
    completion_of,
)
from entrypoints.mcp.edge import Outcome

STORES = [("Zava Retail Seattle", "Seattle"), ("Zava Retail Bellevue", "Bellevue"),
          ("Zava Retail Online", "Online"), ("Zava Retail Redmond", "Redmond"),
          ("Zava Retail Spokane", "Spokane")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ord", ["order_items", "orders"]),
        ("ORDERS", ["orders"]),
        ("retail.prod", ["product_description_embeddings", "product_types", "products"]),
        ('"inv', ["inventory"]),
        ("nope", []),
    ],
)
def test_tables_complete_by_prefix(value: str, expected: list[str]) -> None:
    assert complete_table(value, EXPOSED_TABLES) == expected


def test_an_empty_table_value_lists_every_table() -> None:
    assert complete_table("", EXPOSED_TABLES) == sorted(EXPOSED_TABLES)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", list(NAMED_FORMS)),
        ("last_", ["last_7_days", "last_30_days", "last_90_days", "last_month", "last_quarter",
                   "last_year"]),
        ("THIS", ["this_month", "this_quarter", "this_year"]),
        ("2025-q", ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]),
        ("2025-1", ["2025-10", "2025-11", "2025-12"]),
        ("2025-01..", []),
        ("someday", []),
    ],
)
def test_periods_complete_by_prefix(value: str, expected: list[str]) -> None:
    assert complete_period(value) == expected


def test_every_period_suggestion_is_a_period_the_tools_accept() -> None:
    now = datetime(2026, 6, 30, 12, tzinfo=UTC)
    for value in complete_period("") + complete_period("2025"):
        assert TimePeriod.parse(value, now).first_day <= now.date(), value


def test_a_year_suggests_its_quarters_and_months() -> None:
    suggested = complete_period("2024")
    assert suggested[:5] == ["2024", "2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
    assert suggested[5:] == [f"2024-{m:02d}" for m in range(1, 13)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", sorted(name for name, _ in STORES)),
        ("s", ["Zava Retail Seattle", "Zava Retail Spokane"]),
        ("Zava Retail Se", ["Zava Retail Seattle"]),
        ("  bell", ["Zava Retail Bellevue"]),
        ("online", ["Zava Retail Online"]),
        ("tacoma", []),
    ],
)
def test_stores_complete_by_name_or_city(value: str, expected: list[str]) -> None:
    assert complete_store(value, STORES) == expected


def test_completions_are_capped_at_the_protocols_hundred() -> None:
    values = [f"v{i:03d}" for i in range(150)]
    completion = completion_of(values)
    assert completion.values == values[:MAX_VALUES]
    assert (completion.total, completion.has_more) == (150, True)
    assert completion_of(["a"]).has_more is False


def test_levels_are_ordered_by_severity() -> None:
    assert LEVELS[0] == "debug"
    assert LEVELS[-1] == "emergency"
    assert severity("info") < severity("notice") < severity("warning") < severity("error")


@pytest.mark.parametrize(
    ("outcome", "level", "expected"),
    [
        (Outcome("ok"), "info", {"outcome": "ok"}),
        (Outcome("ok", truncated=True), "notice", {"outcome": "ok", "truncated": True}),
        (Outcome("rejected", "VALIDATION_ERROR", "DROP statements are not allowed"), "warning",
         {"outcome": "rejected", "error_code": "VALIDATION_ERROR",
          "message": "VALIDATION_ERROR: DROP statements are not allowed"}),
        (Outcome("rejected", "AUTHORIZATION_ERROR", "not your store"), "warning",
         {"outcome": "rejected", "error_code": "AUTHORIZATION_ERROR"}),
        (Outcome("error", "MCP_ERROR", "internal error (incident 1a2b)"), "error",
         {"outcome": "error", "error_code": "MCP_ERROR"}),
        (Outcome("error", "DATABASE_ERROR", "statement timeout"), "error",
         {"error_code": "DATABASE_ERROR"}),
    ],
)
def test_tool_outcome_level_and_data(outcome: Outcome, level: str,
                                     expected: dict[str, Any]) -> None:
    got_level, data = tool_outcome(outcome, 12.345)
    assert got_level == level
    assert data["duration_ms"] == 12.3
    assert expected.items() <= data.items()


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (CallToolResult(content=[], structured_content={"rows": [[1]]}), Outcome("ok")),
        ({"content": [], "isError": False}, Outcome("ok")),
        (CallToolResult(content=[TextContent(type="text", text="Unknown tool: nope")],
                        is_error=True), Outcome("error", "MCP_ERROR", "Unknown tool: nope")),
    ],
)
def test_an_answer_nobody_accounted_for(result: Any, expected: Outcome) -> None:
    assert outcome_of_result(result) == expected
