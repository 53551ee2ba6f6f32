"""The MCP tools for a model's own SQL: `execute_sales_query` and the table descriptions it
needs first, `get_multiple_table_schemas`.

No `from __future__ import annotations` here: the SDK reads the tool signatures at runtime.
"""

from typing import Annotated, Any

from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from domain.model import QueryResult, TableSchema
from entrypoints.container import Container
from entrypoints.mcp.edge import CallerResolver, Rows, ToolShelf, known
from entrypoints.mcp.tool_calls import ToolCallRunner


class SalesQueryResult(Rows):
    ROWS = "rows"
    NARROW = ("Ask for fewer rows (max_rows or LIMIT) or fewer columns, or aggregate in SQL"
              " (GROUP BY) instead of listing rows.")

    TAIL = ("truncated_reason", "note")

    columns: list[str]
    rows: list[list[Any]]
    row_count: int = Field(description="rows in this answer")
    truncated: bool = Field(description="true if max_rows, the database's size limit or the"
                            " answer's byte budget cut the result")
    truncated_reason: str | None = Field(
        None, description="present when max_rows or the result-size limit cut the result: which"
        " limit, its value, and how to narrow the query")
    elapsed_ms: float


class ColumnInfo(BaseModel):
    name: str
    type: str
    nullable: bool
    description: str = ""


class ForeignKeyInfo(BaseModel):
    columns: list[str]
    references: str = Field(description="table(columns) referenced")


class TableInfo(BaseModel):
    table: str
    description: str
    row_level_security: bool = Field(description="rows are limited to the caller's stores")
    columns: list[ColumnInfo]
    primary_key: list[str]
    foreign_keys: list[ForeignKeyInfo]
    valid_values: dict[str, list[str]] = Field(
        description="values of categorical columns that the caller may see"
    )


class TableSchemas(Rows):
    ROWS = "tables"
    NARROW = "Ask for fewer tables at a time."

    tables: list[TableInfo]


def to_sales_query_result(result: QueryResult) -> SalesQueryResult:
    return SalesQueryResult(
        columns=list(result.columns),
        rows=[list(r) for r in result.rows],
        row_count=result.row_count,
        truncated=result.truncated,
        truncated_reason=result.truncated_reason,
        elapsed_ms=result.elapsed_ms,
    )


def to_table_info(schema: TableSchema) -> TableInfo:
    return TableInfo(
        table=schema.name,
        description=schema.description,
        row_level_security=schema.row_level_security,
        columns=[ColumnInfo(name=c.name, type=c.data_type, nullable=c.nullable,
                            description=c.description) for c in schema.columns],
        primary_key=list(schema.primary_key),
        foreign_keys=[
            ForeignKeyInfo(columns=list(fk.columns),
                           references=f"{fk.references_table}({', '.join(fk.references_columns)})")
            for fk in schema.foreign_keys
        ],
        valid_values={k: list(v) for k, v in schema.valid_values.items()},
    )


def add_query_tools(
    tools: ToolShelf, container: Container, caller: CallerResolver, runner: ToolCallRunner
) -> None:
    settings = container.settings()

    @tools.add
    async def execute_sales_query(
        postgresql_query: Annotated[str, Field(
            description="One PostgreSQL SELECT over the retail tables (CTEs, joins, window "
            "functions and aggregates are fine). Tables are in schema retail; unqualified names "
            "work. No writes, no system catalogs, no server functions.")],
        max_rows: Annotated[int, Field(
            description=f"Maximum rows to return (1..{settings.max_rows}); the result says "
            "truncated=true if there were more.")] = 100,
    ) -> Annotated[CallToolResult, SalesQueryResult]:
        """Run a read-only SQL query against the Zava retail database and return the rows.

        The database limits every row to the stores the signed-in user may see (row-level
        security), so you do not need to filter by store for access. Read the table
        definitions first with get_multiple_table_schemas. Money columns are USD; order_date
        is a UTC timestamp; count revenue from orders with status = 'completed'."""
        user_id = caller()
        arguments = {"postgresql_query": postgresql_query, "max_rows": max_rows}
        service = container.sales_query_service()
        return await runner.answer(
            "execute_sales_query", user_id, arguments,
            lambda: service.execute(known(user_id), postgresql_query, max_rows),
            to_sales_query_result,
        )

    @tools.add
    async def get_multiple_table_schemas(
        table_names: Annotated[list[str], Field(
            description="Tables to describe, e.g. [\"orders\", \"order_items\", \"products\"]; "
            "available: regions, stores, categories, product_types, products, "
            "product_description_embeddings, customers, orders, order_items, inventory.")],
    ) -> Annotated[CallToolResult, TableSchemas]:
        """Describe retail tables for writing SQL: columns and types, primary and foreign
        keys, descriptions, and the valid values of categorical columns (store names, category
        names, order statuses) limited to what the signed-in user may see."""
        user_id = caller()
        service = container.schema_service()
        return await runner.answer(
            "get_multiple_table_schemas", user_id, {"table_names": table_names},
            lambda: service.describe(known(user_id), table_names),
            lambda schemas: TableSchemas(tables=[to_table_info(s) for s in schemas]),
        )
