"""MCP POSTs with a valid bearer token go straight to the MCP transport.

The SDK's app serves `/mcp` behind its authentication middleware, its auth-context middleware,
our refusal reporter (entrypoints/http_auth.AuthRefusals), Starlette's exception middleware, the
router and the route's scope check (RequireAuthMiddleware): eight ASGI layers on every call,
most of them only there for the request that is refused. This middleware, outermost in the
app, authenticates a POST to the MCP path with the SDK's own backend (the same token verifier,
expiry and resource checks) and, when the token is accepted with every required scope, hands
the request to what the route would have reached: the SDK's body-size limit and transport
(Host/Origin, content type and Accept checks, the protocol itself), with the same `user`,
`auth` and auth context. Anything else (another path or method, no token, a refused token, a
missing scope) goes through the whole app unchanged, which answers and logs the refusal as it
always has. (tests/e2e/test_authenticated_post.py)
"""

from __future__ import annotations

from collections.abc import Sequence

from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, BearerAuthBackend
from starlette.applications import Starlette
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send


class AuthenticatedPost:
    def __init__(self, app: ASGIApp, *, backend: BearerAuthBackend, path: str,
                 required_scopes: Sequence[str], transport: ASGIApp) -> None:
        self.app = app
        self._backend = backend
        self._path = path
        self._required = tuple(required_scopes)
        self._transport = transport

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self._path:
            await self.app(scope, receive, send)
            return
        accepted = await self._backend.authenticate(HTTPConnection(scope))
        if accepted is None or not all(s in accepted[0].scopes for s in self._required):
            await self.app(scope, receive, send)  # the app refuses it, and says why
            return
        credentials, user = accepted
        assert isinstance(user, AuthenticatedUser)
        scope["auth"], scope["user"] = credentials, user
        token = auth_context_var.set(user)
        try:
            await self._transport(scope, receive, send)
        finally:
            auth_context_var.reset(token)


def add_authenticated_post(app: Starlette, *, path: str, required_scopes: Sequence[str],
                           transport: ASGIApp) -> None:
    """Put AuthenticatedPost outermost in `app` (the SDK's bearer-token app, whose
    authentication backend it reuses). Call after every other add_middleware."""
    backend = next(m.kwargs["backend"] for m in app.user_middleware
                   if m.cls is AuthenticationMiddleware)  # type: ignore[comparison-overlap]
    if not isinstance(backend, BearerAuthBackend):
        raise TypeError(f"the app authenticates with {type(backend).__name__}, not bearer tokens")
    app.add_middleware(AuthenticatedPost, backend=backend, path=path,
                       required_scopes=required_scopes, transport=transport)
