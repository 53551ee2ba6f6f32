"""The MCP tools about the caller and the clock: `whoami` and `get_current_utc_date`.

No `from __future__ import annotations` here: the SDK reads the tool signatures at runtime.
"""

from datetime import UTC
from typing import Annotated

from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from domain.model import AccessScope
from entrypoints.container import Container
from entrypoints.mcp.edge import CallerResolver, StoreInfo, ToolShelf, known
from entrypoints.mcp.tool_calls import ToolCallRunner


class WhoAmI(BaseModel):
    user_id: str
    display_name: str
    email: str
    role: str = Field(description="store_manager, regional_manager or head_office")
    stores: list[StoreInfo] = Field(description="the stores every answer is limited to")


class CurrentUtcDate(BaseModel):
    utc_now: str = Field(description="current time, ISO 8601, UTC")
    date: str = Field(description="current date, YYYY-MM-DD, UTC")


def to_who_am_i(scope: AccessScope) -> WhoAmI:
    return WhoAmI(
        user_id=str(scope.user_id),
        display_name=scope.display_name,
        email=scope.email,
        role=scope.role.value,
        stores=[
            StoreInfo(store_id=str(s.store_id), store=s.name, city=s.city,
                      is_online=s.is_online, region=s.region)
            for s in scope.stores
        ],
    )


def add_identity_tools(
    tools: ToolShelf, container: Container, caller: CallerResolver, runner: ToolCallRunner
) -> None:
    identity = container.identity_service()

    @tools.add
    async def whoami() -> Annotated[CallToolResult, WhoAmI]:
        """Who is asking: the signed-in user's name, role and the stores they may see.
        Every other tool's answer is limited to these stores."""
        user_id = caller()
        return await runner.answer("whoami", user_id, {},
                                   lambda: identity.whoami(known(user_id)), to_who_am_i)

    @tools.add
    async def get_current_utc_date() -> Annotated[CallToolResult, CurrentUtcDate]:
        """The current date and time in UTC. Use it to turn "last month" or "this year" into
        concrete dates before writing SQL."""
        user_id = caller()

        async def now() -> CurrentUtcDate:
            at = identity.current_utc_time().astimezone(UTC)
            return CurrentUtcDate(utc_now=at.isoformat(), date=at.date().isoformat())

        # through the runner like every tool: every tool call is audited (README "Security model")
        return await runner.answer("get_current_utc_date", user_id, {}, now, lambda a: a)
