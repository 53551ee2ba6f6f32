"""Handshake-era (2025-11-25 and older) stateless POSTs answered in the request's own task.

Claude Desktop, VS Code and the Inspector speak the handshake era. In stateless mode the SDK
serves each of their POSTs by building a transport, memory streams, a JSON-RPC dispatcher and a
server task, then passing the one message through them: ~20 % of a call's server CPU
(bench/results/). The 2026-07-28 era is already served without any of that, by the SDK's
single-exchange driver `serve_one`. This hands a handshake-era *request* (not `initialize`, not
a notification) to that same driver, with the connection state the SDK's stateless path gives
it (born ready, the header's protocol version); the SDK still validates, dispatches, runs the
middleware and handlers and shapes the result. The answer is what the SDK's transport sends in
JSON mode: the JSON-RPC reply, HTTP 200, `application/json`
(tests/e2e/test_handshake_exchange.py compares status, content type and JSON body).

Anything else, or anything this does not recognise as a well-formed request (wrong method,
headers, Host/Origin, body), goes to the SDK's transport unchanged, which also answers every
rejection. A server-to-client request or notification has no wire on this path, as on the
SDK's stateless JSON path (`NoBackChannelError`; notifications are dropped).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import pydantic_core
from mcp.server.connection import Connection
from mcp.server.lowlevel.server import Server
from mcp.server.runner import modern_error_data, serve_one
from mcp.server.streamable_http import check_accept_headers
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.shared.dispatcher import CallOptions
from mcp.shared.exceptions import NoBackChannelError
from mcp.shared.message import MessageMetadata, ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp_types import (
    DEFAULT_NEGOTIATED_VERSION,
    JSONRPCError,
    JSONRPCRequest,
    RequestId,
)
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROTOCOL_VERSION_HEADER = "mcp-protocol-version"
JSON = "application/json"


@dataclass
class _OneRequest:
    """The `DispatchContext` of one stateless POST: no back-channel (as the SDK's stateless
    JSON path), notifications and progress have nowhere to go."""

    transport: TransportContext
    request_id: RequestId
    message_metadata: MessageMetadata
    cancel_requested: anyio.Event = field(default_factory=anyio.Event)
    can_send_request: bool = field(default=False, init=False)

    async def send_raw_request(self, method: str, params: Mapping[str, Any] | None,
                               opts: CallOptions | None = None) -> dict[str, Any]:
        raise NoBackChannelError(method)

    async def notify(self, method: str, params: Mapping[str, Any] | None,
                     opts: CallOptions | None = None) -> None:
        return None

    async def progress(self, progress: float, total: float | None = None,
                       message: str | None = None) -> None:
        return None


class HandshakeEraExchange:
    """ASGI app in front of the SDK's session manager (inside its body-size limit and, over
    HTTP with tokens, inside its auth): handshake-era requests through `serve_one`, everything
    else to `fallback`."""

    def __init__(self, fallback: ASGIApp, server: Server[Any],
                 security: TransportSecuritySettings | None, lifespan_state: object) -> None:
        self._fallback = fallback
        self._server = server
        self._security = TransportSecurityMiddleware(security)
        self._lifespan_state = lifespan_state
        self._transport = TransportContext(kind="streamable-http", can_send_request=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self._fallback(scope, receive, send)
            return
        headers = Headers(scope=scope)
        version = headers.get(PROTOCOL_VERSION_HEADER)
        if (version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS) or \
                headers.get("content-type", "").split(";")[0].strip() != JSON:
            await self._fallback(scope, receive, send)
            return
        body, replay = await _read_body(receive)
        request = Request(scope, replay)
        message = _plain_request(body)
        if message is None or not check_accept_headers(request)[0] or \
                await self._security.validate_request(request, is_post=True) is not None:
            await self._fallback(scope, replay, send)  # it answers (or rejects) as it always has
            return
        await self._answer(message, version or DEFAULT_NEGOTIATED_VERSION, request, send)

    async def _answer(self, message: JSONRPCRequest, version: str, request: Request,
                      send: Send) -> None:
        context = _OneRequest(
            transport=self._transport, request_id=message.id,
            message_metadata=ServerMessageMetadata(request_context=request,
                                                   can_send_request=False),
        )
        try:
            result = await serve_one(self._server, context, message.method, message.params,
                                     connection=Connection.from_envelope(version, None, None),
                                     lifespan_state=self._lifespan_state)
            # the JSON JSONRPCResponse(...).model_dump_json gives, without building and
            # validating the model around a result the SDK has just shaped (a dict of JSON values)
            body = pydantic_core.to_json({"jsonrpc": "2.0", "id": message.id, "result": result},
                                         inf_nan_mode="null")
        except Exception as e:  # the SDK's mapping; anything unmapped is logged, not shown
            body = JSONRPCError(jsonrpc="2.0", id=message.id, error=modern_error_data(e)
                                ).model_dump_json(by_alias=True, exclude_unset=True).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode()),
                                (b"content-type", JSON.encode())]})
        await send({"type": "http.response.body", "body": body})


def _plain_request(body: bytes) -> JSONRPCRequest | None:
    """The body as one JSON-RPC request other than `initialize`, else None."""
    try:
        message = JSONRPCRequest.model_validate(pydantic_core.from_json(body), by_name=False)
    except (ValueError, ValidationError):
        return None
    return None if message.method == "initialize" else message


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a `receive` that gives it again (for the fallback), then whatever
    the client sends next (a disconnect)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
