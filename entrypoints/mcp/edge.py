"""What every tool, resource and prompt of the MCP edge shares: who the caller is, how a tool is
registered (read-only annotations), and the way a resource reports a domain error.

No `from __future__ import annotations` here: the SDK reads the signatures at runtime.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from mcp.server.mcpserver.exceptions import ResourceError
from mcp.server.mcpserver.tools import Tool
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict

from domain.errors import AuthorizationError, ZavaError
from domain.model import UserId

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

CallerResolver = Callable[[], UserId | None]

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


class StoreInfo(BaseModel):
    store_id: str
    name: str
    city: str
    is_online: bool
    region: str


class ToolShelf:
    """The tools of one server, collected before it is built (`MCPServer(tools=...)`): every
    tool is read-only and strict about its arguments."""

    def __init__(self) -> None:
        self.tools: list[Tool] = []

    def add(self, fn: F) -> F:
        self.tools.append(strict(Tool.from_function(fn, annotations=READ_ONLY)))
        return fn


def strict(tool: Tool) -> Tool:
    """The tool with an input schema that rejects unknown names (`additionalProperties: false`)
    and arguments validated the same way. The SDK's argument model ignores names it does not
    know, so a misspelt optional argument ("timeperiod") used to be dropped silently and the call
    answered for the default; now it fails validation, and ArgumentErrors names the argument
    meant."""
    loose = tool.fn_metadata.arg_model
    forbidding = type(loose.__name__, (loose,), {
        "model_config": ConfigDict(extra="forbid"), "__module__": loose.__module__,
    })
    tool.fn_metadata.arg_model = forbidding
    tool.parameters = forbidding.model_json_schema(by_alias=True)
    return tool


def known(user_id: UserId | None) -> UserId:
    """The caller, or an AuthorizationError (reported like any other refusal) if there is none."""
    if user_id is None:
        raise AuthorizationError("no authenticated user")
    return user_id


async def read_resource(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except ZavaError as e:
        raise ResourceError(f"{e.code}: {e.message}") from e
