"""Stateless POSTs of either protocol era answered in the request's own task.

Claude Desktop, VS Code and the Inspector speak the handshake era. In stateless mode the SDK
serves each of their POSTs by building a transport, memory streams, a JSON-RPC dispatcher and a
server task, then passing the one message through them: ~20 % of a call's server CPU
(bench/results/). This hands a handshake-era *request* (not `initialize`, not a notification)
to the SDK's single-exchange driver `serve_one`, with the connection state the SDK's stateless
path gives it (born ready, the header's protocol version).

The 2026-07-28 era (the SDK's own `Client`) the SDK already serves through `serve_one`, but
its modern entry wraps each call in more than the call needs: a Starlette request and
response, the stdlib's JSON both ways, a validated `JSONRPCResponse` around the result, and a
walk of the called tool's input schema for `Mcp-Param-*` headers on every tools/call
(~0.2 ms of a call's server CPU in all, against the handshake era's). Here such a request
takes the same ladder with the SDK's own public checks (`mcp.shared.inbound`: the routing
headers, the envelope in `params._meta`), the schema read once per tool, and the same
driver; a request with `Mcp-Param-*` headers, or to a tool whose schema mirrors arguments into
headers, goes to the SDK's entry, which checks them.

Either way the SDK still validates, dispatches, runs the middleware and handlers and shapes
the result, and the answer is what its own entry sends in JSON mode: the JSON-RPC reply,
`application/json`, HTTP 200 (an error of the 2026-07-28 era with the status the SDK maps its
code to). tests/e2e/test_single_exchange.py compares status, content type and JSON body with
the SDK's, request by request, in both eras.

Anything else, or anything this does not recognise as a well-formed request (wrong method,
headers, Host/Origin, body, envelope), goes to the SDK's transport unchanged, which also
answers every rejection. A server-to-client request or notification has no wire on this path,
as on the SDK's stateless JSON path (`NoBackChannelError`; notifications and progress are
dropped).
"""

from __future__ import annotations

import json
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
from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    MCP_PARAM_HEADER_PREFIX,
    X_MCP_HEADER_KEY,
    InboundLadderRejection,
    classify_inbound_request,
    find_duplicated_routing_header,
)
from mcp.shared.message import MessageMetadata, ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp_types import (
    DEFAULT_NEGOTIATED_VERSION,
    JSONRPCError,
    JSONRPCRequest,
    RequestId,
)
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROTOCOL_VERSION_HEADER = "mcp-protocol-version"
JSON = "application/json"
MCP_PARAM_PREFIX = MCP_PARAM_HEADER_PREFIX.lower()


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


class SingleExchange:
    """ASGI app in front of the SDK's session manager (inside its body-size limit and, over
    HTTP with tokens, inside its auth): requests of either era through `serve_one`, everything
    else to `fallback`."""

    def __init__(self, fallback: ASGIApp, server: Server[Any],
                 security: TransportSecuritySettings | None, lifespan_state: object) -> None:
        self._fallback = fallback
        self._server = server
        self._security = TransportSecurityMiddleware(security)
        self._lifespan_state = lifespan_state
        self._transport = TransportContext(kind="streamable-http", can_send_request=False)
        self._declares_header_params: dict[str, bool] = {}  # by tool name (see _plain_call)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self._fallback(scope, receive, send)
            return
        headers = Headers(scope=scope)
        version = headers.get(PROTOCOL_VERSION_HEADER)
        era_known = version is None or version in HANDSHAKE_PROTOCOL_VERSIONS or \
            version in MODERN_PROTOCOL_VERSIONS
        if not era_known or headers.get("content-type", "").split(";")[0].strip() != JSON:
            await self._fallback(scope, receive, send)
            return
        body, replay = await _read_body(receive)
        request = Request(scope, replay)
        if not check_accept_headers(request)[0] or \
                await self._security.validate_request(request, is_post=True) is not None:
            await self._fallback(scope, replay, send)  # it answers (or rejects) as it always has
            return
        if version is None or version in HANDSHAKE_PROTOCOL_VERSIONS:
            message = _plain_request(body)
            connection = None if message is None else \
                Connection.from_envelope(version or DEFAULT_NEGOTIATED_VERSION, None, None)
            transport = self._transport
        else:
            message, connection = self._modern_request(body, request)
            transport = TransportContext(kind="streamable-http", can_send_request=False,
                                         headers=request.headers)
        if message is None or connection is None:
            await self._fallback(scope, replay, send)
            return
        await self._answer(message, connection, transport, request, send)

    def _modern_request(self, body: bytes, request: Request
                        ) -> tuple[JSONRPCRequest | None, Connection | None]:
        """A 2026-07-28 request the SDK's modern entry would dispatch, with the connection it
        would build from the request's envelope; (None, None) for anything its ladder answers
        otherwise (a notification, a malformed envelope, a header the body contradicts,
        `Mcp-Param-*` headers to check, a listen stream), which the fallback then does."""
        try:
            decoded = pydantic_core.from_json(body)
            message = JSONRPCRequest.model_validate(decoded, by_name=False)
        except (ValueError, ValidationError):
            return None, None
        if not isinstance(decoded, dict) or message.method == "subscriptions/listen" or \
                find_duplicated_routing_header(request.headers.items()) is not None or \
                not self._plain_call(message, request.headers):
            return None, None
        verdict = classify_inbound_request(decoded, headers=dict(request.headers))
        if isinstance(verdict, InboundLadderRejection):
            return None, None
        return message, Connection.from_envelope(
            verdict.protocol_version, verdict.client_info, verdict.client_capabilities)

    def _plain_call(self, message: JSONRPCRequest, headers: Headers) -> bool:
        """No `Mcp-Param-*` header check can fail: not a tools/call, or one without such
        headers whose tool's schema mirrors no argument into a header (the SDK's check would
        walk the schema on every call to find out; here it is read once per tool)."""
        if message.method != "tools/call":
            return True
        if any(name.startswith(MCP_PARAM_PREFIX) for name in headers):
            return False
        name = (message.params or {}).get("name")
        if not isinstance(name, str):
            return True  # the dispatch refuses it
        declares = self._declares_header_params.get(name)
        if declares is None:
            lookup = self._server.get_tool_input_schema
            schema = None if lookup is None else lookup(name)
            declares = X_MCP_HEADER_KEY in json.dumps(schema)
            if schema is not None:  # an unknown tool may be registered later
                self._declares_header_params[name] = declares
        return not declares

    async def _answer(self, message: JSONRPCRequest, connection: Connection,
                      transport: TransportContext, request: Request, send: Send) -> None:
        context = _OneRequest(
            transport=transport, request_id=message.id,
            message_metadata=ServerMessageMetadata(request_context=request,
                                                   can_send_request=False),
        )
        status = 200
        try:
            result = await serve_one(self._server, context, message.method, message.params,
                                     connection=connection, lifespan_state=self._lifespan_state)
            # the JSON JSONRPCResponse(...).model_dump_json gives, without building and
            # validating the model around a result the SDK has just shaped (a dict of JSON values)
            body = pydantic_core.to_json({"jsonrpc": "2.0", "id": message.id, "result": result},
                                         inf_nan_mode="null")
        except Exception as e:  # the SDK's mapping; anything unmapped is logged, not shown
            reply = JSONRPCError(jsonrpc="2.0", id=message.id, error=modern_error_data(e))
            if connection.protocol_version in MODERN_PROTOCOL_VERSIONS:  # as its modern entry
                status = ERROR_CODE_HTTP_STATUS.get(reply.error.code, 200)
                body = reply.model_dump_json(by_alias=True, exclude_none=True).encode()
            else:  # as its handshake-era transport
                body = reply.model_dump_json(by_alias=True, exclude_unset=True).encode()
        await send({"type": "http.response.start", "status": status,
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
