"""A POST whose bearer token is accepted goes straight to the MCP transport
(entrypoints/authenticated_post.py): two real servers over the same database, one with that
path and one without, give the same answers, request by request, for accepted calls in both
protocol eras and for every kind of refusal; an accepted call really skips the app's auth
layers, and a refused one still goes through them (and is answered and logged as before)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx2
import jwt
import pytest
from mcp.server.auth.middleware import bearer_auth

from ports.database_server import DatabaseEndpoints
from tests.e2e.test_single_exchange import REQUESTS, timeless
from tests.support.http_server import RunningServer, serve_with_secret

pytestmark = pytest.mark.e2e

SEATTLE = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
NOBODY = "00000000-0000-0000-0000-000000000000"
SECRET = "authenticated-post-secret-that-is-long-enough-for-hs256"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
BODY_LIMIT = 4096


def _servers(database: DatabaseEndpoints, tmp_path_factory: pytest.TempPathFactory,
             direct: bool) -> Iterator[RunningServer]:
    with serve_with_secret(database, tmp_path_factory.mktemp("post"), SECRET, pool_max=2,
                           settings={"cache_ttl_s": 0, "http_max_body_bytes": BODY_LIMIT},
                           app={"authenticated_post": direct}) as running:
        yield running


@pytest.fixture(scope="module")
def direct(database: DatabaseEndpoints, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[RunningServer]:
    yield from _servers(database, tmp_path_factory, direct=True)


@pytest.fixture(scope="module")
def full_stack(database: DatabaseEndpoints, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[RunningServer]:
    yield from _servers(database, tmp_path_factory, direct=False)


def _token(sub: str = SEATTLE, *, scope: str = "zava:read", expires_in: int = 300,
           secret: str = SECRET) -> str:
    now = int(time.time())
    return jwt.encode({"iss": "zava-mcp", "aud": "zava-retail", "sub": sub, "iat": now,
                       "exp": now + expires_in, "scope": scope}, secret, algorithm="HS256")


def _both(direct: RunningServer, full_stack: RunningServer, method: str = "POST", *,
          path: str = "/mcp", **kwargs: Any) -> tuple[httpx2.Response, httpx2.Response]:
    ours, theirs = (httpx2.request(method, server.base_url + path, timeout=30, **kwargs)
                    for server in (direct, full_stack))
    return ours, theirs


ERAS = {
    "2025-11-25": ({"MCP-Protocol-Version": "2025-11-25"}, {}),
    "2026-07-28": ({"MCP-Protocol-Version": "2026-07-28"}, {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}}}),
}


@pytest.mark.parametrize("era", list(ERAS))
@pytest.mark.parametrize("name", [n for n in REQUESTS if n != "initialize"])
def test_accepted_calls_get_the_same_answer(direct: RunningServer, full_stack: RunningServer,
                                            name: str, era: str) -> None:
    era_headers, meta = ERAS[era]
    request = REQUESTS[name]
    params = {**request.get("params", {}), **meta}
    headers = {**HEADERS, **era_headers, "Authorization": f"Bearer {_token()}"}
    if era == "2026-07-28":
        headers["Mcp-Method"] = request["method"]
        if "name" in params:
            headers["Mcp-Name"] = str(params["name"])
    body = {"jsonrpc": "2.0", "id": 7, "method": request["method"], "params": params}
    ours, theirs = _both(direct, full_stack, json=body, headers=headers)
    assert ours.status_code == theirs.status_code
    assert ours.headers["content-type"] == theirs.headers["content-type"]
    assert timeless(ours) == timeless(theirs)


PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


@pytest.mark.parametrize(("case", "method", "path", "authorization", "extra"), [
    ("no token", "POST", "/mcp", None, {}),
    ("not a bearer token", "POST", "/mcp", "Basic dXNlcjpwYXNz", {}),
    ("a forged token", "POST", "/mcp", f"Bearer {_token(secret='x' * 40)}", {}),
    ("an expired token", "POST", "/mcp", f"Bearer {_token(expires_in=-120)}", {}),
    ("an unknown user", "POST", "/mcp", f"Bearer {_token(NOBODY)}", {}),
    ("a token without the scope", "POST", "/mcp", f"Bearer {_token(scope='other')}", {}),
    ("DELETE with a token", "DELETE", "/mcp", f"Bearer {_token()}", {}),
    ("another path", "POST", "/mcp/", f"Bearer {_token()}", {}),
    ("a foreign Host", "POST", "/mcp", f"Bearer {_token()}", {"Host": "evil.example"}),
])
def test_everything_else_is_answered_as_before(
    direct: RunningServer, full_stack: RunningServer, case: str, method: str, path: str,
    authorization: str | None, extra: dict[str, str],
) -> None:
    headers = {**HEADERS, **extra}
    if authorization is not None:
        headers["Authorization"] = authorization
    ours, theirs = _both(direct, full_stack, method, path=path, json=PING, headers=headers)
    assert (ours.status_code, ours.content) == (theirs.status_code, theirs.content), case
    challenges = (answer.headers.get("www-authenticate", "").replace(server.base_url, "")
                  for answer, server in ((ours, direct), (theirs, full_stack)))
    assert len(set(challenges)) == 1, case


def test_a_body_over_the_limit_is_refused_with_a_valid_token(direct: RunningServer) -> None:
    headers = {**HEADERS, "Authorization": f"Bearer {_token()}"}
    padded = {**PING, "params": {"_meta": {"pad": "x" * BODY_LIMIT}}}
    answer = httpx2.post(direct.mcp_url, json=padded, headers=headers, timeout=30)
    assert answer.status_code == 413


def test_a_foreign_origin_is_refused_and_named(direct: RunningServer,
                                               full_stack: RunningServer) -> None:
    """The transport's own 403 is not an authentication refusal: it keeps its words."""
    headers = {**HEADERS, "Authorization": f"Bearer {_token()}", "Origin": "https://evil.example"}
    for server in (direct, full_stack):
        answer = httpx2.post(server.mcp_url, json=PING, headers=headers, timeout=30)
        assert (answer.status_code, answer.text) == (403, "Invalid Origin header")
        assert "www-authenticate" not in answer.headers


def test_an_accepted_call_skips_the_auth_layers(direct: RunningServer, full_stack: RunningServer,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    checked = []
    original = bearer_auth.RequireAuthMiddleware.__call__

    async def counting(self: Any, scope: Any, receive: Any, send: Any) -> None:
        checked.append(scope["path"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(bearer_auth.RequireAuthMiddleware, "__call__", counting)
    whoami = {"jsonrpc": "2.0", "id": 1, **REQUESTS["whoami"]}
    accepted = {**HEADERS, "Authorization": f"Bearer {_token()}"}
    answer = httpx2.post(direct.mcp_url, json=whoami, headers=accepted, timeout=30)
    assert answer.status_code == 200
    assert SEATTLE in answer.text  # served as the token's user
    assert checked == []
    refused = {**HEADERS, "Authorization": f"Bearer {_token(NOBODY)}"}
    assert httpx2.post(direct.mcp_url, json=whoami, headers=refused,
                       timeout=30).status_code == 403
    assert checked == ["/mcp"]  # the refusal went through the app
    assert httpx2.post(full_stack.mcp_url, json=whoami, headers=accepted,
                       timeout=30).status_code == 200
    assert checked == ["/mcp", "/mcp"]  # the counter works: the full stack checks every call
