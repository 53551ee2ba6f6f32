"""Streamable HTTP: `/mcp` behind bearer-token auth, `/health` and `/metrics` outside.

Stateless JSON mode (every POST is one self-contained exchange), so any number of replicas can
serve behind a load balancer with no sticky sessions. DNS-rebinding protection is always on:
only the Host headers of loopback, the bound address, ZAVA_PUBLIC_URL and ZAVA_ALLOWED_HOSTS are
served (anything else gets 421).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import uvicorn
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from adapters.metrics.prometheus import MULTIPROCESS_DIR_ENV
from entrypoints import http_workers
from entrypoints.authenticated_post import add_authenticated_post
from entrypoints.container import Container
from entrypoints.fixed_user import FixedUser, LoopbackOnly, fixed_user_server
from entrypoints.health import HealthChecker
from entrypoints.http_auth import (
    AuthRefusals,
    BearerTokenVerifier,
    JwtConfig,
    bearer_caller,
    is_loopback_host,
    resolve_jwt_config,
)
from entrypoints.mcp.server import build_server
from entrypoints.settings import Settings, load_settings
from entrypoints.single_exchange import SingleExchange

log = logging.getLogger("zava.http")

MCP_PATH = "/mcp"
WORKER_ADDRESS_ENV = "_ZAVA_HTTP_WORKER_ADDRESS"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # noqa: S104 - names, not a bind


def base_url_for(settings: Settings, host: str, port: int) -> str:
    """The URL clients use to reach this server: ZAVA_PUBLIC_URL, else the bound address."""
    if settings.public_url:
        return settings.public_url
    if host in WILDCARD_HOSTS:
        log.warning("bound to all interfaces without ZAVA_PUBLIC_URL: the protected-resource"
                    " metadata will name http://127.0.0.1:%d", port)
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def transport_security_for(settings: Settings, host: str, port: int) -> TransportSecuritySettings:
    """DNS-rebinding protection: the Host (and, from browsers, Origin) headers we answer to."""
    hosts = [pattern for h in LOOPBACK_HOSTS for pattern in (h, f"{h}:*")]
    if host not in WILDCARD_HOSTS and not is_loopback_host(host):
        bound = f"[{host}]" if ":" in host else host
        hosts += [bound, f"{bound}:{port}"]
    if settings.public_url:
        hosts.append(urlparse(settings.public_url).netloc)
    hosts += settings.allowed_hosts
    hosts = list(dict.fromkeys(hosts))
    origins = [f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def auth_settings_for(config: JwtConfig, resource_url: str, base_url: str) -> AuthSettings:
    """Resource-server metadata. The authorization server advertised is the token issuer when it
    is a URL (an identity provider); local HS256 tokens have no AS, so this server's own URL."""
    issuer = config.issuer if urlparse(config.issuer).scheme in ("http", "https") else base_url
    return AuthSettings(
        issuer_url=issuer,  # type: ignore[arg-type]  # pydantic validates the str
        resource_server_url=resource_url,  # type: ignore[arg-type]
        required_scopes=[config.required_scope],
        validate_token_resource=True,
    )


def build_http_app(
    container: Container,
    settings: Settings,
    host: str,
    port: int,
    *,
    jwt_config: JwtConfig | None = None,
    fixed_user: FixedUser | None = None,
    single_exchange: bool = True,
    authenticated_post: bool = True,
) -> Starlette:
    """The ASGI app: `/mcp` (auth required), `/.well-known/oauth-protected-resource/mcp`,
    `/health` and `/metrics`. Its lifespan runs the MCP session manager, which opens the
    database pool.

    The SDK's own Starlette app, with /health and /metrics as its custom routes (outside auth,
    as the SDK documents them) rather than beside it under a second Starlette: every request
    would pay for a second router and middleware stack (7 % of a cached tool call).

    With `fixed_user` (`--insecure-fixed-user`, loopback only: entrypoints/fixed_user.py) there
    is no auth: every request is served as that user, and MCP only under its per-start path.

    `single_exchange` (off only in tests comparing with the SDK's own path): stateless requests
    of either protocol era answered by the SDK's single-exchange driver in the request's own
    task, without the SDK's per-request transport or envelope models
    (entrypoints/single_exchange.py). `authenticated_post` (likewise): a POST whose token
    is accepted skips the layers only a refused request needs
    (entrypoints/authenticated_post.py)."""
    base_url = base_url_for(settings, host, port)
    mcp_path = MCP_PATH if fixed_user is None else fixed_user.path
    if fixed_user is None:
        server = _bearer_token_server(container, settings, host, base_url, jwt_config)
    else:
        server = fixed_user_server(container, settings, host, base_url + mcp_path, fixed_user)
    checker = HealthChecker(container)

    async def health(_: Request) -> JSONResponse:
        report = await checker.check()
        return JSONResponse(report.as_dict(), status_code=200 if report.ready else 503)

    server.custom_route("/health", methods=["GET"], include_in_schema=False)(health)
    server.custom_route("/metrics", methods=["GET"], include_in_schema=False)(
        metrics_endpoint(container))
    app = server.streamable_http_app(
        streamable_http_path=mcp_path,
        stateless_http=True,
        json_response=True,
        max_request_body_size=settings.http_max_body_bytes,
        transport_security=transport_security_for(settings, host, port),
    )
    if single_exchange:
        _serve_requests_in_their_own_task(server, container)
    if fixed_user is not None:
        app.add_middleware(LoopbackOnly)  # outermost: before anything else runs
    else:
        app.add_middleware(AuthRefusals)  # says why a token was refused, and logs it
    if fixed_user is None and authenticated_post:
        auth = server.settings.auth
        add_authenticated_post(  # outermost: an accepted call skips the layers above
            app, path=mcp_path, transport=server.session_manager.asgi_app,
            required_scopes=(auth.required_scopes or []) if auth is not None else [])
    return app


def _serve_requests_in_their_own_task(server: MCPServer, container: Container) -> None:
    """Put SingleExchange between the SDK's body-size limit and its session manager (so
    auth, the Host/Origin checks and the limit still come first). The lifespan state the SDK
    gives handlers is what our lifespan yields: the container (entrypoints/mcp/server.py)."""
    manager = server.session_manager
    limit = manager.asgi_app
    limit.app = SingleExchange(limit.app, manager.app, manager.security_settings,
                               lifespan_state=container)


def _bearer_token_server(container: Container, settings: Settings, host: str, base_url: str,
                         jwt_config: JwtConfig | None) -> MCPServer:
    config = jwt_config or resolve_jwt_config(settings, serving_host=host)
    resource_url = base_url + MCP_PATH
    verifier = BearerTokenVerifier(
        config.verifier(), container.identity_service(),
        resource=resource_url, required_scope=config.required_scope,
        user_claim=settings.jwt_user_claim,
    )
    return build_server(
        container, caller=bearer_caller,
        auth=auth_settings_for(config, resource_url, base_url), token_verifier=verifier,
    )


def metrics_endpoint(container: Container) -> Callable[[Request], Awaitable[Response]]:
    """Prometheus exposition, outside auth like /health: counts and latencies, no tenant data
    (labels are tool names, error codes and operations, never users or SQL)."""
    metrics = container.metrics()

    async def scrape(_: Request) -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    return scrape


def run_http_server(app: Starlette, host: str, port: int, listeners: list[socket.socket],
                    settings: Settings, workers: int = 1) -> None:
    """Serve on `listeners` (bound to `host`:`port` by http_workers.bind_listeners before
    anything else ran) until SIGINT/SIGTERM, then
    drain in-flight requests and run the shutdown.

    With `workers` > 1, that many processes each build their own app (worker_app) and share
    nothing with the others but the database, Redis and, so that any worker's /metrics counts
    every worker's calls, a directory of metric files; this process hands them connections in
    turn. `app` (built here for the checks and the banner) then only serves as the template."""
    options: dict[str, Any] = dict(
        log_config=None, log_level=settings.log_level.lower(),
        loop="uvloop", http=NoDelayHttpToolsProtocol, lifespan="on",
        server_header=False, timeout_graceful_shutdown=10,
        access_log=False,  # every tool call logs its own line (entrypoints/mcp/tool_calls.py)
    )
    if workers == 1:
        http_workers.serve(uvicorn.Config(app, **options), listeners, 1)
        return
    os.environ[WORKER_ADDRESS_ENV] = f"{host} {port}"
    # One port, many workers: /metrics must sum them all (adapters/metrics/prometheus.py).
    metrics_dir = tempfile.mkdtemp(prefix="zava-metrics-")
    os.environ[MULTIPROCESS_DIR_ENV] = metrics_dir
    try:
        config = uvicorn.Config("entrypoints.http_app:worker_app", factory=True, **options)
        http_workers.serve(config, listeners, workers)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools (llhttp) HTTP/1.1 protocol with TCP_NODELAY on every connection, and
    one socket write per response.

    TCP_NODELAY: the event loop may set it only on sockets created with proto=IPPROTO_TCP; a
    socket handed over by `--workers`' dispatcher has proto 0, so without this each response
    could wait ~40 ms for a delayed ACK (Nagle).

    One write: uvicorn writes a response's head when the app starts it and its body when the
    app sends it, two `send` syscalls and two segments, and the client wakes for each. The app
    sends both in the same turn of the event loop, so the writes of one turn are joined and
    sent once at its end (WritesPerTurn)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(WritesPerTurn(transport))  # type: ignore[arg-type]


class WritesPerTurn:
    """A transport whose writes within one turn of the event loop go out as one write at its
    end (or before anything that must follow them: close, write_eof). Everything else is the
    wrapped transport's."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def worker_app() -> Starlette:
    """The app of one `--workers` process (uvicorn calls this in each new process): settings
    from the same environment, its own container, pool, cache client and metrics."""
    from entrypoints.logging_config import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format, settings.log_file)
    host, port = os.environ[WORKER_ADDRESS_ENV].rsplit(" ", 1)
    return build_http_app(Container(settings=settings), settings, host, int(port))


@dataclass(frozen=True)
class DemoToken:
    display_name: str
    user_id: str
    token: str


def connection_instructions(
    mcp_url: str, config: JwtConfig, tokens: Sequence[DemoToken], token_ttl_s: int,
    mint_command: str,
) -> str:
    """What `serve --transport http` prints on stderr: where to connect, and with what
    (`mint_command`: how to mint more tokens from another shell, commands.mint_command)."""
    lines = [
        f"Zava Retail MCP: streamable HTTP at {mcp_url}",
        f"  health: {mcp_url.removesuffix(MCP_PATH)}/health",
        f"  auth:   Authorization: Bearer <JWT> (iss {config.issuer}, aud {config.audience},"
        f" scope {config.required_scope}; keys from {config.source})",
    ]
    if not config.can_mint:
        lines.append("Tokens come from your identity provider")
    elif tokens:
        lines.append(f"Tokens, valid {token_ttl_s // 3600} h (`{mint_command}` mints more):")
    else:
        lines.append(f"Mint a token with `{mint_command}`")
    for t in tokens:
        lines += [f"  {t.display_name} ({t.user_id}):", f"    {t.token}"]
    example = next((t for t in tokens if "head office" in t.display_name.lower()), None)
    token = (example or tokens[0]).token if tokens else "<token>"
    lines += [
        "VS Code (.vscode/mcp.json):",
        _indent(json.dumps({"servers": {"zava-retail": {
            "type": "http", "url": mcp_url, "headers": {"Authorization": f"Bearer {token}"},
        }}}, indent=2)),
        "Claude Desktop (claude_desktop_config.json, through mcp-remote):",
        _indent(json.dumps({"mcpServers": {"zava-retail": {
            "command": "npx",
            "args": ["-y", "mcp-remote", mcp_url, "--header", "Authorization:${ZAVA_AUTH}"],
            "env": {"ZAVA_AUTH": f"Bearer {token}"},
        }}}, indent=2)),
    ]
    return "\n".join(lines) + "\n"


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
