"""Operator-facing MCP resources, registered by build_server (entrypoints/mcp/server.py):
`zava://performance`, the query performance summary, for head office only.

No `from __future__ import annotations` here: the SDK reads the signatures at runtime.
"""

from collections.abc import Callable

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from pydantic import BaseModel, Field

from domain.errors import ZavaError
from domain.model import UserId
from entrypoints.container import Container


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


def register_operations_resources(
    server: MCPServer, container: Container, caller: Callable[[], UserId | None]
) -> None:
    settings = container.settings()
    performance = container.performance_service()

    @server.resource("zava://performance", mime_type="application/json",
                     description="Query performance per operation (count, avg, min, max, slow);"
                     " head office only")
    async def performance_summary() -> str:
        user_id = caller()
        try:
            if user_id is None:
                raise ResourceError("AUTHORIZATION_ERROR: no authenticated user")
            stats = await performance.summary(user_id)
        except ZavaError as e:
            raise ResourceError(f"{e.code}: {e.message}") from e
        return PerformanceSummary(
            slow_query_threshold_s=settings.slow_query_s,
            operations=[OperationSummary(**vars(s)) for s in stats],
        ).model_dump_json()
