"""MCP logging utility (`logging/setLevel` and tool-outcome log messages), registered by
build_server (entrypoints/mcp/server.py).

`logging/setLevel` records the least severe level the connection wants; from then on every tool
call reports its outcome to that client as one `notifications/message` (logger `zava.tools`) if
its level is at or above the one set:
- `info`: the tool answered (tool, duration);
- `notice`: a sales query's result was cut at max_rows or the size limit;
- `warning`: the call was refused (VALIDATION_ERROR, AUTHORIZATION_ERROR: the caller can fix it);
- `error`: anything else (database errors, internal errors with their incident id).
The level comes from the call's Outcome as the runner (or ArgumentErrors) published it, as data.
A client that never sets a level gets no log notifications (the protocol leaves the default to
the server; silence keeps existing clients' output unchanged). The messages carry what the tool
result already told that same client, never other users' data or SQL.

On 2026-07-28 connections `logging/setLevel` no longer exists: a request opts in through its
`_meta` (`io.modelcontextprotocol/logLevel`), and that level is the threshold for its own call.
Over stateless JSON HTTP a POST gets exactly one response and no notifications: setting a level
is accepted and has no effect. A call nobody asked to hear about costs one lookup.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping
from typing import Any, get_args

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.types import (
    LOG_LEVEL_META_KEY,
    CallToolResult,
    EmptyResult,
    LoggingLevel,
    SetLevelRequestParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from entrypoints.mcp.edge import OK, Outcome, listen_for_outcome

log = logging.getLogger("zava.client_logging")

LEVELS: tuple[LoggingLevel, ...] = get_args(LoggingLevel)  # least to most severe
LEVEL_KEY = "zava.client_log_level"  # in the SDK's per-connection state
LOGGER_NAME = "zava.tools"


def severity(level: LoggingLevel) -> int:
    return LEVELS.index(level)


def _connection_state(ctx: ServerRequestContext[Any, Any]) -> dict[str, Any] | None:
    """The SDK's per-connection scratch state (`Connection.state`: it persists across the
    requests of one connection). The request context reaches it only through the session."""
    connection = getattr(ctx.session, "_connection", None)
    state = getattr(connection, "state", None)
    return state if isinstance(state, dict) else None


def requested_level(ctx: ServerRequestContext[Any, Any]) -> LoggingLevel | None:
    """The least severe level this request's client wants, None for no log messages: on
    2026-07-28 the request's own `_meta` opt-in, before that the connection's setLevel."""
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        level = (ctx.meta or {}).get(LOG_LEVEL_META_KEY)
    else:
        state = _connection_state(ctx)
        level = None if state is None else state.get(LEVEL_KEY)
    return level if level in LEVELS else None


def tool_outcome(outcome: Outcome, duration_ms: float) -> tuple[LoggingLevel, dict[str, Any]]:
    """The level and the data of the notification for one tool call's outcome."""
    data: dict[str, Any] = {"duration_ms": round(duration_ms, 1), "outcome": outcome.status}
    if outcome.status != "ok":
        data.update(error_code=outcome.error_code, message=outcome.text)
        return ("warning" if outcome.status == "rejected" else "error"), data
    if outcome.truncated:
        data["truncated"] = True
        return "notice", data
    return "info", data


def outcome_of_result(result: HandlerResult) -> Outcome:
    """For an answer no part of this server accounted for (an unknown tool, the SDK's own
    failures): an error with the SDK's text, or ok."""
    call = result if isinstance(result, CallToolResult) else CallToolResult.model_validate(
        result if isinstance(result, Mapping) else {"content": []})
    if not call.is_error:
        return OK
    text = next((c.text for c in call.content if c.type == "text"), "")
    return Outcome("error", "MCP_ERROR", text)


async def _notify(ctx: ServerRequestContext[Any, Any], level: LoggingLevel,
                  data: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        # the SDK marks the logging capability deprecated as of 2026-07-28 (SEP-2577); it is
        # what 2025-11-25 clients have
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        sending = ctx.session.send_log_message(
            level=level, data=data, logger=LOGGER_NAME, related_request_id=ctx.request_id
        )
    await sending


class ToolOutcomeLog:
    """Server middleware: after each tools/call, the outcome notification the client wants."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any],
                       call_next: CallNext) -> HandlerResult:
        threshold = requested_level(ctx) if ctx.method == "tools/call" else None
        if threshold is None:
            return await call_next(ctx)  # the common case costs one lookup
        started = time.perf_counter()
        with listen_for_outcome() as heard:
            result = await call_next(ctx)
        try:
            outcome = heard.outcome or outcome_of_result(result)
            level, data = tool_outcome(outcome, (time.perf_counter() - started) * 1000)
            if severity(level) >= severity(threshold):
                data["tool"] = str((ctx.params or {}).get("name", ""))
                await _notify(ctx, level, data)
        except Exception:
            # a client gone, a closed stream: the tool's answer matters more than its log line
            log.debug("could not send the tool outcome notification", exc_info=True)
        return result


def register_client_logging(server: MCPServer) -> None:
    """Serve `logging/setLevel` (which also declares the `logging` capability) and report tool
    outcomes. The SDK's MCPServer has no decorator for it: its docs point re-providers of this
    method at the low-level server's `add_request_handler`."""

    async def set_level(ctx: ServerRequestContext[Any, Any],
                        params: SetLevelRequestParams) -> EmptyResult:
        state = _connection_state(ctx)
        if state is not None:
            state[LEVEL_KEY] = params.level
        return EmptyResult()

    server._lowlevel_server.add_request_handler(  # private: see the docstring
        "logging/setLevel", SetLevelRequestParams, set_level
    )
    server.middleware.append(ToolOutcomeLog())
