"""What every tool, resource and prompt of the MCP edge shares: who the caller is, the read-only
annotations, and the way a resource reports a domain error.

No `from __future__ import annotations` here: the SDK reads the signatures at runtime.
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel

from domain.errors import ZavaError
from domain.model import UserId

T = TypeVar("T")

CallerResolver = Callable[[], UserId | None]

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


class StoreInfo(BaseModel):
    store_id: str
    name: str
    city: str
    is_online: bool
    region: str


def known(user_id: UserId | None) -> UserId:
    if user_id is None:
        raise ToolError("AUTHORIZATION_ERROR: no authenticated user")
    return user_id


async def read_resource(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except ZavaError as e:
        raise ResourceError(f"{e.code}: {e.message}") from e
