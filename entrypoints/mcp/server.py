"""The MCP adapter: tools, resources and prompts over the domain services.

Tools are thin: resolve the caller, call a service through the ToolCallRunner (audit + error
translation), map the result. Identity never comes from tool arguments; the CallerResolver
decides it (the configured user on stdio, the verified bearer token over HTTP).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

from mcp.server._otel import OpenTelemetryMiddleware
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from opentelemetry import trace
from pydantic import BaseModel, Field

from domain.model import AccessScope, QueryResult, TableSchema
from entrypoints.container import Container
from entrypoints.mcp.analytics_tools import register_sales_analytics
from entrypoints.mcp.argument_errors import ArgumentErrors
from entrypoints.mcp.client_logging import register_client_logging
from entrypoints.mcp.completions import register_completions
from entrypoints.mcp.edge import READ_ONLY, CallerResolver, StoreInfo, known, read_resource
from entrypoints.mcp.operations_resources import register_operations_resources
from entrypoints.mcp.search_tools import EmbeddingLifetime, register_product_search
from entrypoints.mcp.tool_calls import ToolCallRunner

INSTRUCTIONS = (
    "Zava Retail analytics over PostgreSQL. Every answer is limited by the database to the "
    "stores the signed-in user may see; call whoami to learn which. Before writing SQL for "
    "execute_sales_query, read the tables with get_multiple_table_schemas. Dates are UTC; use "
    "get_current_utc_date to anchor relative periods."
)


class WhoAmI(BaseModel):
    user_id: str
    display_name: str
    email: str
    role: str = Field(description="store_manager, regional_manager or head_office")
    stores: list[StoreInfo] = Field(description="the stores every answer is limited to")


class CurrentUtcDate(BaseModel):
    utc_now: str = Field(description="current time, ISO 8601, UTC")
    date: str = Field(description="current date, YYYY-MM-DD, UTC")


class SalesQueryResult(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool = Field(description="true if max_rows or the size limit cut the result")
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


class TableSchemas(BaseModel):
    tables: list[TableInfo]


def _server_version() -> str:
    try:
        return version("zava-retail-mcp")
    except PackageNotFoundError:
        return "0.0.0"


def to_who_am_i(scope: AccessScope) -> WhoAmI:
    return WhoAmI(
        user_id=str(scope.user_id),
        display_name=scope.display_name,
        email=scope.email,
        role=scope.role.value,
        stores=[
            StoreInfo(store_id=str(s.store_id), name=s.name, city=s.city,
                      is_online=s.is_online, region=s.region)
            for s in scope.stores
        ],
    )


def to_sales_query_result(result: QueryResult) -> SalesQueryResult:
    return SalesQueryResult(
        columns=list(result.columns),
        rows=[list(r) for r in result.rows],
        row_count=result.row_count,
        truncated=result.truncated,
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


def build_server(
    container: Container,
    caller: CallerResolver,
    *,
    auth: AuthSettings | None = None,
    token_verifier: TokenVerifier | None = None,
) -> MCPServer:
    settings = container.settings()

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[Container]:
        pool = container.query_pool()
        if pool is not None:
            await pool.open(wait=True, timeout=30)
        container.metrics().start()
        embeddings = EmbeddingLifetime(container.embedding_provider())
        try:
            yield container
        finally:
            await embeddings.close()
            await container.audit_log().flush()
            await container.cache_store().close()
            if pool is not None:
                await container.rls_database().drain()
                await pool.close()
            await container.metrics().close()

    server = MCPServer(
        "zava-retail", version=_server_version(), instructions=INSTRUCTIONS, lifespan=lifespan,
        auth=auth, token_verifier=token_verifier,
    )
    identity = container.identity_service()
    runner = ToolCallRunner(container.audit_log(), container.metrics())

    @server.tool(annotations=READ_ONLY)
    async def whoami() -> WhoAmI:
        """Who is asking: the signed-in user's name, role and the stores they may see.
        Every other tool's answer is limited to these stores."""
        user_id = caller()
        scope = await runner.run("whoami", user_id, {}, lambda: identity.whoami(known(user_id)))
        return to_who_am_i(scope)

    @server.tool(annotations=READ_ONLY)
    async def get_current_utc_date() -> CurrentUtcDate:
        """The current date and time in UTC. Use it to turn "last month" or "this year" into
        concrete dates before writing SQL."""
        now = identity.current_utc_time().astimezone(UTC)
        return CurrentUtcDate(utc_now=now.isoformat(), date=now.date().isoformat())

    @server.tool(annotations=READ_ONLY)
    async def execute_sales_query(
        postgresql_query: Annotated[str, Field(
            description="One PostgreSQL SELECT over the retail tables (CTEs, joins, window "
            "functions and aggregates are fine). Tables are in schema retail; unqualified names "
            "work. No writes, no system catalogs, no server functions.")],
        max_rows: Annotated[int, Field(
            description=f"Maximum rows to return (1..{settings.max_rows}); the result says "
            "truncated=true if there were more.")] = 100,
    ) -> SalesQueryResult:
        """Run a read-only SQL query against the Zava retail database and return the rows.

        The database limits every row to the stores the signed-in user may see (row-level
        security), so you do not need to filter by store for access. Read the table
        definitions first with get_multiple_table_schemas. Money columns are USD; order_date
        is a UTC timestamp; count revenue from orders with status = 'completed'."""
        user_id = caller()
        arguments = {"postgresql_query": postgresql_query, "max_rows": max_rows}
        service = container.sales_query_service()
        result = await runner.run(
            "execute_sales_query", user_id, arguments,
            lambda: service.execute(known(user_id), postgresql_query, max_rows),
        )
        return to_sales_query_result(result)

    @server.tool(annotations=READ_ONLY)
    async def get_multiple_table_schemas(
        table_names: Annotated[list[str], Field(
            description="Tables to describe, e.g. [\"orders\", \"order_items\", \"products\"]; "
            "available: regions, stores, categories, product_types, products, "
            "product_description_embeddings, customers, orders, order_items, inventory.")],
    ) -> TableSchemas:
        """Describe retail tables for writing SQL: columns and types, primary and foreign
        keys, descriptions, and the valid values of categorical columns (store names, category
        names, order statuses) limited to what the signed-in user may see."""
        user_id = caller()
        service = container.schema_service()
        schemas = await runner.run(
            "get_multiple_table_schemas", user_id, {"table_names": table_names},
            lambda: service.describe(known(user_id), table_names),
        )
        return TableSchemas(tables=[to_table_info(s) for s in schemas])

    @server.resource("zava://me", mime_type="application/json",
                     description="The signed-in user and the stores they may see")
    async def me() -> str:
        scope = await read_resource(lambda: identity.whoami(known(caller())))
        return to_who_am_i(scope).model_dump_json()

    @server.resource("zava://schema/{table}", mime_type="application/json",
                     description="Columns, keys and valid values of one retail table")
    async def table_schema(table: str) -> str:
        service = container.schema_service()
        schemas = await read_resource(lambda: service.describe(known(caller()), [table]))
        return to_table_info(schemas[0]).model_dump_json()

    register_sales_analytics(server, container, caller, runner)
    register_operations_resources(server, container, caller)
    register_product_search(server, container, caller, runner)
    register_completions(server, container, caller)
    register_client_logging(server)
    # inside the outcome log (the last middleware added runs innermost), so it reports the
    # clear message
    server.middleware.append(ArgumentErrors(server))
    _drop_inert_tracing(server)
    return server


def _drop_inert_tracing(server: MCPServer) -> None:
    """The SDK wraps every request in an OpenTelemetry span (its first middleware). With no
    tracer provider configured when the server is built (only opentelemetry-api is installed,
    no SDK, no exporter), each span records nothing yet costs ~20-40 us of the request: a
    trace-context extraction, attribute dicts, context attach and detach. The SDK documents
    dropping the middleware as the way to opt out. A provider set before the server is built
    (`opentelemetry-instrument zava-mcp serve ...`) keeps the spans."""
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        server.middleware[:] = [
            m for m in server.middleware if not isinstance(m, OpenTelemetryMiddleware)
        ]

