"""`zava-mcp serve --transport http --insecure-fixed-user ID`: streamable HTTP WITHOUT bearer
tokens, every request served as one user. For clients that cannot send credentials on this
machine only: the MCP conformance suite in the e2e tests (tests/e2e/test_conformance.py) and
local debugging.

It can never face a network:
- only a CLI flag turns it on (no environment variable or setting can, so a deployment cannot
  inherit it by accident);
- it is refused (ConfigurationError naming the flag and what is accepted) unless the server
  binds a loopback address (127.0.0.1, ::1, localhost), with one worker, and with neither
  ZAVA_PUBLIC_URL nor ZAVA_ALLOWED_HOSTS naming a non-loopback host (those invite traffic
  through a proxy);
- by construction, nothing that does not read this start's banner can reach it: MCP is served
  only under an unguessable path drawn afresh at every start (`/mcp-<128 random bits>`, printed
  on stderr); `/mcp` and every other path are 404. A reverse proxy, a browser page or another
  user's process cannot name it, and a leaked URL dies with the process;
- every request must come from a loopback peer and carry no forwarding header of any kind
  (FORWARDING_HEADER: Via, Forwarded, any X-Forwarded-*, any *-IP client address header such
  as X-Real-IP, True-Client-IP, CF-Connecting-IP, X-Client-IP, and the CDN and proxy families
  that add them); anything else gets 403 (defence in depth: a local proxy relays the network);
- the server logs a WARNING and its banner says INSECURE on every start.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlparse

from mcp.server.mcpserver import MCPServer
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from domain.errors import ConfigurationError
from domain.model import UserId
from entrypoints.container import Container
from entrypoints.http_auth import is_loopback_host
from entrypoints.settings import Settings

log = logging.getLogger("zava.http")

FLAG = "--insecure-fixed-user"
# A header a proxy, load balancer or CDN adds on the way: by the shape of its name, not a list
# of known ones (Via, Forwarded, X-Forwarded-Host, X-Original-URL, True-Client-IP,
# CF-Connecting-IP, X-Client-IP, X-Cluster-Client-IP, Fastly-Client-IP, X-ProxyUser-Ip, ...).
FORWARDING_HEADER = re.compile(
    rb"^(via|forwarded|x-host|x-rewrite-url"  # the standard ones and the host rewriters
    rb"|.*forward.*|.*proxy.*"  # X-Forwarded-*, X-Original-Forwarded-For, Proxy-Client-IP
    rb"|(.*-)?ips?|.*-ip-.*|.*-addr(ess)?"  # a client address: X-Real-IP, CF-Connecting-IP
    rb"|x-(real|original|remote|client|cluster)-.*"  # X-Original-URL, X-Remote-User
    rb"|(cf|cdn|fastly|akamai|x-akamai|x-amzn|x-azure|x-arr|x-appengine|x-envoy|x-vercel|fly)"
    rb"-.*)$"
)
PATH_BITS = 128


@dataclass(frozen=True)
class FixedUser:
    """Who every request is served as, and the path this start serves MCP under."""

    user_id: UserId
    path: str

    @classmethod
    def new(cls, user_id: UserId) -> FixedUser:
        """A fresh unguessable path for this start (URL-safe base64 of 128 random bits)."""
        return cls(user_id, "/mcp-" + secrets.token_urlsafe(PATH_BITS // 8))


def is_forwarding_header(name: bytes) -> bool:
    return FORWARDING_HEADER.match(name.lower()) is not None


def _host_of(host_and_port: str) -> str:
    """`mcp.example.com:8000` -> `mcp.example.com`, `[::1]:8000` -> `::1`."""
    if host_and_port.startswith("["):
        return host_and_port[1:].split("]", 1)[0]
    if host_and_port.count(":") == 1:
        return host_and_port.split(":", 1)[0]
    return host_and_port


def check_fixed_user_allowed(host: str, settings: Settings, workers: int = 1) -> None:
    """ConfigurationError unless `--insecure-fixed-user` keeps to this machine."""
    problems = []
    if not is_loopback_host(host):
        problems.append(f"--host {host or '(empty)'}")
    if workers != 1:
        problems.append(f"--workers {workers}")
    if settings.public_url and not is_loopback_host(urlparse(settings.public_url).hostname or ""):
        problems.append(f"ZAVA_PUBLIC_URL={settings.public_url}")
    foreign = [h for h in settings.allowed_hosts if not is_loopback_host(_host_of(h))]
    if foreign:
        problems.append(f"ZAVA_ALLOWED_HOSTS={','.join(foreign)}")
    if problems:
        raise ConfigurationError(
            f"{FLAG} serves every request without a token, so it is accepted only on a loopback"
            " address (--host 127.0.0.1, ::1 or localhost), with one worker and no"
            " ZAVA_PUBLIC_URL or ZAVA_ALLOWED_HOSTS naming another host; refused because of "
            + ", ".join(problems)
        )


def insecure_warning(mcp_url: str, user_id: UserId) -> str:
    return (f"INSECURE ({FLAG}): every request to {mcp_url} is served as user {user_id}"
            " WITHOUT a bearer token; for local tests only, never expose this server")


class LoopbackOnly:
    """ASGI middleware: 403 for HTTP requests from a non-loopback peer or through a proxy."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            peer = scope.get("client")
            proxied = [name.decode("latin-1") for name, _ in scope.get("headers", ())
                       if is_forwarding_header(name)]
            if peer is None or not is_loopback_host(peer[0]) or proxied:
                log.warning("%s: refused a request from %s%s", FLAG,
                            peer[0] if peer else "an unknown peer",
                            f" with proxy headers {', '.join(proxied)}" if proxied else "")
                response = PlainTextResponse(
                    f"{FLAG} serves loopback clients only, not through a proxy", status_code=403
                )
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)


def fixed_user_server(container: Container, settings: Settings, host: str, mcp_url: str,
                      fixed: FixedUser) -> MCPServer:
    """The MCP server of `--insecure-fixed-user`: no auth, every request is `user_id`. Checked
    here too, so no caller of build_http_app can skip the refusal."""
    from entrypoints.mcp.server import build_server

    check_fixed_user_allowed(host, settings)
    log.warning("%s", insecure_warning(mcp_url, fixed.user_id))
    user_id = fixed.user_id
    return build_server(container, caller=lambda: user_id)
