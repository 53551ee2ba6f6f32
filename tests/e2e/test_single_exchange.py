"""Stateless POSTs of either protocol era answered in the request's own task
(entrypoints/single_exchange.py) get the answers the SDK's own entries give: the same HTTP
status, content type and JSON body, request by request, from two real servers over the same
database (one with the exchange, one without). And the exchange really is the path taken: a
handshake-era tools/call builds no SDK transport, a 2026-07-28 one does not reach the SDK's
modern entry."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import jwt
import pytest
from mcp.server import streamable_http, streamable_http_manager

from ports.database_server import DatabaseEndpoints
from tests.support.http_server import RunningServer, serve_with_secret

pytestmark = pytest.mark.e2e

SEATTLE = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
SECRET = "handshake-exchange-secret-that-is-long-enough-for-hs256"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def _servers(database: DatabaseEndpoints, tmp_path_factory: pytest.TempPathFactory,
             exchange: bool) -> Iterator[RunningServer]:
    with serve_with_secret(database, tmp_path_factory.mktemp("exchange"), SECRET, pool_max=2,
                           settings={"cache_ttl_s": 0},
                           app={"single_exchange": exchange}) as running:
        yield running


@pytest.fixture(scope="module")
def with_exchange(database: DatabaseEndpoints, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[RunningServer]:
    yield from _servers(database, tmp_path_factory, exchange=True)


@pytest.fixture(scope="module")
def sdk_only(database: DatabaseEndpoints, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[RunningServer]:
    yield from _servers(database, tmp_path_factory, exchange=False)


def _token() -> str:
    now = int(time.time())
    return jwt.encode({"iss": "zava-mcp", "aud": "zava-retail", "sub": SEATTLE, "iat": now,
                       "exp": now + 300, "scope": "zava:read"}, SECRET, algorithm="HS256")


def _call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"method": "tools/call", "params": {"name": name, "arguments": arguments}}


REQUESTS: dict[str, dict[str, Any]] = {
    "tools/list": {"method": "tools/list", "params": {}},
    "whoami": _call("whoami", {}),
    "a query": _call("execute_sales_query", {"postgresql_query": "SELECT 1 AS one"}),
    "a query the guard refuses": _call("execute_sales_query",
                                       {"postgresql_query": "DELETE FROM retail.orders"}),
    "a misspelt argument": _call("execute_sales_query",
                                 {"postgresql_query": "SELECT 1", "maxrows": 1}),
    "an unknown tool": _call("no_such_tool", {}),
    "a call without a name": {"method": "tools/call", "params": {"arguments": {}}},
    "resources/list": {"method": "resources/list", "params": {}},
    "resources/read": {"method": "resources/read", "params": {"uri": "zava://stores"}},
    "an unknown resource": {"method": "resources/read", "params": {"uri": "zava://nope"}},
    "prompts/list": {"method": "prompts/list"},
    "ping": {"method": "ping"},
    "an unknown method": {"method": "no/such/method", "params": {}},
    # not requests the exchange answers: the SDK's transport does, through it
    "initialize": {"method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}},
}


@pytest.mark.parametrize("version", [None, "2025-11-25", "2025-06-18"])
@pytest.mark.parametrize("name", list(REQUESTS))
def test_the_answer_is_the_sdk_transports(with_exchange: RunningServer,
                                          sdk_only: RunningServer, name: str,
                                          version: str | None) -> None:
    headers = {**HEADERS, "Authorization": f"Bearer {_token()}"}
    if version is not None:
        headers["MCP-Protocol-Version"] = version
    body = {"jsonrpc": "2.0", "id": 7, **REQUESTS[name]}
    ours, theirs = (httpx2.post(server.mcp_url, json=body, headers=headers, timeout=30)
                    for server in (with_exchange, sdk_only))
    assert ours.status_code == theirs.status_code
    assert ours.headers["content-type"] == theirs.headers["content-type"]
    assert timeless(ours) == timeless(theirs)


def timeless(response: httpx2.Response) -> Any:
    """The JSON body with the query's own timing (which no two calls share) blanked."""
    return json.loads(re.sub(r'(elapsed_ms\\*"\s*:\s*)[0-9.]+', r"\g<1>0", response.text))


@pytest.mark.parametrize(("case", "body", "headers"), [
    ("a notification", b'{"jsonrpc":"2.0","method":"notifications/initialized"}', {}),
    ("not JSON", b"{nope", {}),
    ("a batch", b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]', {}),
    ("a foreign Host", b'{"jsonrpc":"2.0","id":1,"method":"ping"}', {"Host": "evil.example"}),
    ("no JSON in Accept", b'{"jsonrpc":"2.0","id":1,"method":"ping"}',
     {"Accept": "text/event-stream"}),
    ("not JSON content", b'{"jsonrpc":"2.0","id":1,"method":"ping"}',
     {"Content-Type": "text/plain"}),
])
def test_what_it_does_not_answer_the_sdk_still_does(
    with_exchange: RunningServer, sdk_only: RunningServer, case: str, body: bytes,
    headers: dict[str, str],
) -> None:
    all_headers = {**HEADERS, "Authorization": f"Bearer {_token()}", **headers}
    ours, theirs = (httpx2.post(server.mcp_url, content=body, headers=all_headers, timeout=30)
                    for server in (with_exchange, sdk_only))
    assert (ours.status_code, ours.content) == (theirs.status_code, theirs.content), case


def test_a_tool_call_builds_no_transport(with_exchange: RunningServer, sdk_only: RunningServer,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    built = []
    original = streamable_http.StreamableHTTPServerTransport.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(streamable_http.StreamableHTTPServerTransport, "__init__", counting)
    headers = {**HEADERS, "Authorization": f"Bearer {_token()}",
               "MCP-Protocol-Version": "2025-11-25"}
    body = {"jsonrpc": "2.0", "id": 1, **REQUESTS["whoami"]}
    assert httpx2.post(with_exchange.mcp_url, json=body, headers=headers,
                       timeout=30).status_code == 200
    assert built == []
    assert httpx2.post(sdk_only.mcp_url, json=body, headers=headers,
                       timeout=30).status_code == 200
    assert len(built) == 1  # the counter works: the SDK's path builds one per POST


MODERN = "2026-07-28"
ENVELOPE = {"io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"}}
NAME_PARAMS = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}


def modern(request: dict[str, Any], *, envelope: dict[str, Any] | None = ENVELOPE,
           routing: bool = True) -> tuple[dict[str, Any], dict[str, str]]:
    """A 2026-07-28 body (its params carrying the envelope in `_meta`) and its routing
    headers, as the SDK's client sends them."""
    params = dict(request.get("params") or {})
    if envelope is not None:
        params["_meta"] = envelope
    headers = {"MCP-Protocol-Version": MODERN}
    if routing:
        headers["Mcp-Method"] = request["method"]
        name = params.get(NAME_PARAMS.get(request["method"], ""))
        if isinstance(name, str):
            headers["Mcp-Name"] = name
    return {"jsonrpc": "2.0", "id": 7, "method": request["method"], "params": params}, headers


def _both(with_exchange: RunningServer, sdk_only: RunningServer, body: Any,
          headers: dict[str, str]) -> tuple[httpx2.Response, httpx2.Response]:
    all_headers = {**HEADERS, "Authorization": f"Bearer {_token()}", **headers}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    ours, theirs = (httpx2.post(server.mcp_url, content=content, headers=all_headers, timeout=30)
                    for server in (with_exchange, sdk_only))
    return ours, theirs


@pytest.mark.parametrize("name", [n for n in REQUESTS if n != "initialize"])
def test_a_2026_07_28_answer_is_the_sdks(with_exchange: RunningServer, sdk_only: RunningServer,
                                         name: str) -> None:
    ours, theirs = _both(with_exchange, sdk_only, *modern(REQUESTS[name]))
    assert ours.status_code == theirs.status_code
    assert ours.headers["content-type"] == theirs.headers["content-type"]
    assert timeless(ours) == timeless(theirs)


def _modern_cases() -> dict[str, tuple[Any, dict[str, str]]]:
    call = _call("execute_sales_query", {"postgresql_query": "SELECT 1 AS one"})
    body, headers = modern(call)
    other_version = {**ENVELOPE, "io.modelcontextprotocol/protocolVersion": "2025-11-25"}
    return {
        "no envelope": modern(call, envelope=None),
        "an envelope without capabilities": modern(call, envelope={
            "io.modelcontextprotocol/protocolVersion": MODERN}),
        "no routing headers": modern(call, routing=False),
        "a method header the body contradicts": (body, {**headers, "Mcp-Method": "tools/list"}),
        "a name header the body contradicts": (body, {**headers, "Mcp-Name": "whoami"}),
        "an envelope of another version": modern(call, envelope=other_version),
        "an Mcp-Param header": (body, {**headers, "Mcp-Param-Max-Rows": "1"}),
        "a notification": ({"jsonrpc": "2.0", "method": "notifications/initialized",
                            "params": {"_meta": ENVELOPE}}, {"MCP-Protocol-Version": MODERN}),
        "a batch": ([body], headers),
        "not JSON": (b"{nope", headers),
        "a listen stream": modern({"method": "subscriptions/listen", "params": {}}),
        "an unknown version": (body, {**headers, "MCP-Protocol-Version": "2099-01-01"}),
    }


@pytest.mark.parametrize("case", list(_modern_cases()))
def test_what_the_sdks_modern_ladder_refuses_it_still_answers(
    with_exchange: RunningServer, sdk_only: RunningServer, case: str,
) -> None:
    ours, theirs = _both(with_exchange, sdk_only, *_modern_cases()[case])
    assert (ours.status_code, ours.headers.get("content-type")) == \
        (theirs.status_code, theirs.headers.get("content-type")), case
    if ours.content and ours.headers.get("content-type") == "application/json":
        assert timeless(ours) == timeless(theirs), case
    else:
        assert ours.content == theirs.content, case


def test_a_2026_07_28_tool_call_skips_the_sdks_modern_entry(
    with_exchange: RunningServer, sdk_only: RunningServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    entered = []
    original = streamable_http_manager.handle_modern_request

    async def counting(*args: Any, **kwargs: Any) -> None:
        entered.append(args)
        await original(*args, **kwargs)

    monkeypatch.setattr(streamable_http_manager, "handle_modern_request", counting)
    ours, theirs = _both(with_exchange, sdk_only, *modern(REQUESTS["whoami"]))
    assert ours.status_code == theirs.status_code == 200
    assert '"isError":false' in ours.text
    assert len(entered) == 1  # the SDK-only server's: the counter works
