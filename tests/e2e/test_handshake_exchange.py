"""Handshake-era stateless POSTs answered without a per-request transport
(entrypoints/handshake_exchange.py) get the answers the SDK's own transport gives: the same
HTTP status, content type and JSON body, request by request, from two real servers over the
same database (one with the exchange, one without). And the exchange really is the path taken:
a tools/call builds no SDK transport."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import jwt
import pytest
from mcp.server import streamable_http

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
                           app={"handshake_exchange": exchange}) as running:
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
