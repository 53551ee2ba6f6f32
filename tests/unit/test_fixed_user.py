"""`--insecure-fixed-user` (entrypoints/fixed_user.py): HTTP without tokens is refused anywhere but
on a loopback address, by the CLI before anything starts and by build_http_app itself; a
request from a non-loopback peer or through a proxy gets 403."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest

from domain.errors import ConfigurationError
from domain.model import UserId
from entrypoints.cli import main
from entrypoints.container import in_memory_container
from entrypoints.fixed_user import (
    FixedUser,
    LoopbackOnly,
    check_fixed_user_allowed,
    is_forwarding_header,
)
from entrypoints.http_app import build_http_app
from entrypoints.settings import Settings
from tests.support.http_server import serve_in_thread

SEATTLE = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
ACCEPTED = "accepted only on a loopback address (--host 127.0.0.1, ::1 or localhost)"


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(data_dir=tmp_path, public_url=None, allowed_hosts=[])
    return Settings(**{**values, **overrides})


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_hosts_are_accepted(tmp_path: Path, host: str) -> None:
    check_fixed_user_allowed(host, _settings(tmp_path))


@pytest.mark.parametrize(
    ("host", "workers", "overrides", "named"),
    [
        ("0.0.0.0", 1, {}, "--host 0.0.0.0"),
        ("::", 1, {}, "--host ::"),
        ("", 1, {}, "--host (empty)"),
        ("10.0.0.5", 1, {}, "--host 10.0.0.5"),
        ("mcp.example.com", 1, {}, "--host mcp.example.com"),
        ("127.0.0.1", 2, {}, "--workers 2"),
        ("127.0.0.1", 1, {"public_url": "https://mcp.example.com"},
         "ZAVA_PUBLIC_URL=https://mcp.example.com"),
        ("127.0.0.1", 1, {"allowed_hosts": ["localhost:8000", "mcp.example.com:443"]},
         "ZAVA_ALLOWED_HOSTS=mcp.example.com:443"),
    ],
)
def test_anything_that_can_face_a_network_is_refused(
    tmp_path: Path, host: str, workers: int, overrides: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        check_fixed_user_allowed(host, _settings(tmp_path, **overrides), workers)
    message = refused.value.message
    assert message.startswith("--insecure-fixed-user serves every request without a token")
    assert ACCEPTED in message
    assert message.endswith(f"refused because of {named}")


def test_loopback_forms_of_public_url_and_allowed_hosts_are_fine(tmp_path: Path) -> None:
    check_fixed_user_allowed("127.0.0.1", _settings(
        tmp_path, public_url="http://127.0.0.1:8000", allowed_hosts=["[::1]:8000", "localhost"]))


def test_build_http_app_refuses_it_too(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with pytest.raises(ConfigurationError, match=r"refused because of --host 0\.0\.0\.0"):
        build_http_app(in_memory_container(settings), settings, "0.0.0.0", 8000,
                       fixed_user=FixedUser.new(UserId(SEATTLE)))


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--transport", "http", "--host", "0.0.0.0"],
         f"{ACCEPTED}, with one worker and no ZAVA_PUBLIC_URL or ZAVA_ALLOWED_HOSTS naming"
         " another host; refused because of --host 0.0.0.0"),
        (["--transport", "http", "--workers", "2"], "refused because of --workers 2"),
        (["--transport", "stdio"], "--insecure-fixed-user is for --transport http"),
    ],
)
def test_the_cli_refuses_before_starting_anything(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    argv: list[str], fragment: str,
) -> None:
    for name in ("ZAVA_PUBLIC_URL", "ZAVA_ALLOWED_HOSTS", "ZAVA_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZAVA_DATA_DIR", str(tmp_path / "untouched"))
    assert main(["serve", *argv, "--insecure-fixed-user", SEATTLE]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zava-mcp: error: ")
    assert fragment in err
    assert err.count("\n") == 1, err
    assert not (tmp_path / "untouched").exists()  # no database was started


class _Recorder:
    def __init__(self) -> None:
        self.called = False
        self.sent: list[dict[str, Any]] = []

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.called = True

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("client", "headers", "allowed"),
    [
        (("127.0.0.1", 50000), [], True),
        (("::1", 50000), [(b"host", b"localhost:8000")], True),
        (("192.168.1.20", 50000), [], False),
        (None, [], False),
        (("127.0.0.1", 50000), [(b"x-forwarded-for", b"203.0.113.7")], False),
        (("127.0.0.1", 50000), [(b"Forwarded", b"for=203.0.113.7")], False),
        (("127.0.0.1", 50000), [(b"x-real-ip", b"203.0.113.7")], False),
        (("127.0.0.1", 50000), [(b"Via", b"1.1 proxy")], False),
        (("127.0.0.1", 50000), [(b"True-Client-IP", b"203.0.113.7")], False),
    ],
)
async def test_only_direct_loopback_requests_pass(
    client: tuple[str, int] | None, headers: list[tuple[bytes, bytes]], allowed: bool
) -> None:
    recorder = _Recorder()
    scope = {"type": "http", "method": "POST", "path": "/mcp", "headers": headers,
             "client": client, "query_string": b""}
    await LoopbackOnly(recorder.app)(scope, _receive, recorder.send)
    assert recorder.called is allowed
    if not allowed:
        assert recorder.sent[0]["status"] == 403


# What proxies, load balancers and CDNs add (nginx, HAProxy, Envoy, Apache, Cloudflare, Akamai,
# Fastly, AWS, Azure, GCP, Vercel, Fly, WebLogic, IIS ARR), none of which the old three-name
# denylist (Forwarded, X-Forwarded-For, X-Real-IP) caught but the first and last two.
FORWARDING = [
    "Via", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
    "X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Server", "X-Original-Forwarded-For",
    "X-Real-IP", "True-Client-IP", "CF-Connecting-IP", "CF-Ray", "CF-IPCountry", "X-Client-IP",
    "X-Cluster-Client-IP", "Fastly-Client-IP", "Akamai-Origin-Hop", "X-Akamai-Edgescape",
    "X-Amzn-Trace-Id", "X-Azure-ClientIP", "X-ARR-ClientIP", "X-AppEngine-User-IP",
    "X-Envoy-External-Address", "X-Vercel-Forwarded-For", "Fly-Client-IP", "Proxy-Client-IP",
    "WL-Proxy-Client-IP", "X-ProxyUser-Ip", "X-Original-URL", "X-Original-Host",
    "X-Rewrite-URL", "X-Host", "X-Remote-Addr", "X-Remote-IP", "Client-IP", "X-Real-Port",
    "CDN-Loop", "Proxy-Authorization",
]
# What MCP clients send directly (the Inspector, the conformance suite, the SDKs, browsers).
DIRECT = [
    "Host", "Accept", "Accept-Encoding", "Accept-Language", "Content-Type", "Content-Length",
    "Connection", "User-Agent", "Authorization", "Mcp-Protocol-Version", "Mcp-Session-Id",
    "Last-Event-ID", "Origin", "Referer", "Cache-Control", "Pragma", "Sec-Fetch-Mode",
    "Sec-Fetch-Site", "Sec-Fetch-Dest", "Sec-Ch-Ua", "Sec-Ch-Ua-Platform", "Traceparent",
    "Tracestate", "Baggage", "Keep-Alive", "Te", "Priority", "Upgrade-Insecure-Requests",
]


@pytest.mark.parametrize("name", FORWARDING)
def test_every_forwarding_header_is_recognised(name: str) -> None:
    assert is_forwarding_header(name.encode()), name


@pytest.mark.parametrize("name", DIRECT)
def test_what_direct_clients_send_is_not(name: str) -> None:
    assert not is_forwarding_header(name.encode()), name


def test_every_start_draws_its_own_unguessable_path() -> None:
    paths = {FixedUser.new(UserId(SEATTLE)).path for _ in range(1000)}
    assert len(paths) == 1000
    for path in paths:
        assert path.startswith("/mcp-")
        assert len(path.removeprefix("/mcp-")) >= 22  # 128 bits in URL-safe base64
        assert path.removeprefix("/mcp-").replace("-", "").replace("_", "").isalnum()


def test_mcp_is_served_only_under_the_per_start_path(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    fixed = FixedUser.new(UserId(SEATTLE))
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    headers = {"Accept": "application/json, text/event-stream"}
    with serve_in_thread(lambda port: build_http_app(
            in_memory_container(settings), settings, "127.0.0.1", port, fixed_user=fixed)
    ) as running:
        for guess in ("/mcp", "/mcp/", "/mcp-", fixed.path[:-1], fixed.path + "x", "/"):
            response = httpx2.post(running.base_url + guess, json=ping, headers=headers)
            assert response.status_code == 404, guess
        served = httpx2.post(running.base_url + fixed.path, json=ping, headers=headers)
        assert served.status_code == 200, served.text
        assert served.json()["result"] == {}
