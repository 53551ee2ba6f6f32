"""The MCP resources: `zava://me`, `zava://schema/{table}`, `zava://stores` and, for head office,
`zava://performance`. Each answers as the caller, like the tools, and reports a refusal the same
way (`edge.read_resource`).

No `from __future__ import annotations` here: the SDK reads the signatures at runtime.
"""

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from entrypoints.container import Container
from entrypoints.mcp.edge import CallerResolver, StoreInfo, known, read_resource
from entrypoints.mcp.identity_tools import to_who_am_i
from entrypoints.mcp.query_tools import to_table_info


class OperationSummary(BaseModel):
    operation: str
    count: int
    errors: int
    avg_ms: float
    min_ms: float
    max_ms: float
    slow: int = Field(description="queries slower than slow_query_threshold_s")


class PerformanceSummary(BaseModel):
    slow_query_threshold_s: float
    operations: list[OperationSummary] = Field(
        description="database queries of this server process since it started, per operation"
    )


def register_resources(server: MCPServer, container: Container, caller: CallerResolver) -> None:
    identity = container.identity_service()
    settings = container.settings()
    performance = container.performance_service()

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

    @server.resource("zava://stores", mime_type="application/json",
                     description="The stores the signed-in user may see")
    async def stores() -> str:
        service = container.sales_analytics_service()
        visible = await read_resource(lambda: service.visible_stores(known(caller())))
        return "[" + ",".join(
            StoreInfo(store_id=str(s.store_id), store=s.name, city=s.city, is_online=s.is_online,
                      region=s.region).model_dump_json()
            for s in visible
        ) + "]"

    @server.resource("zava://performance", mime_type="application/json",
                     description="Query performance per operation (count, avg, min, max, slow);"
                     " head office only")
    async def performance_summary() -> str:
        stats = await read_resource(lambda: performance.summary(known(caller())))
        return PerformanceSummary(
            slow_query_threshold_s=settings.slow_query_s,
            operations=[OperationSummary(**vars(s)) for s in stats],
        ).model_dump_json()
