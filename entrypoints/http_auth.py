"""HTTP identity: the OAuth 2.1 resource-server side of the streamable HTTP transport.

Per request: the SDK's bearer middleware hands the `Authorization: Bearer` token to
`BearerTokenVerifier`, which verifies the JWT (signature, algorithm, `exp`, `iss`, `aud`, `sub`)
and then asks the identity service whether the user claim (ZAVA_JWT_USER_CLAIM, default `sub`)
names a user of this server:
- bad, expired, foreign token → None → the SDK answers 401 with `WWW-Authenticate` pointing at
  the protected-resource metadata;
- good token of an unknown user (or without the required scope) → an AccessToken WITHOUT the
  required scope → the SDK answers 403 `insufficient_scope`;
- otherwise the user claim becomes the AccessToken subject, and `bearer_caller` reads it back
  (from the SDK's per-request context) on every tool call. Nothing is cached per session.
The SDK's answers say only "Authentication required" / "Required scope"; `AuthRefusals` (the
outermost middleware) replaces their description with the verifier's reason (expired, the
audience or issuer expected, not registered and how to register) and logs every refusal once,
with its reason and never the token.

Key material is resolved by `resolve_jwt_config`: ZAVA_JWT_SECRET (HS256) or ZAVA_JWT_JWKS_URL
(RS256/ES256, with ZAVA_JWT_ISSUER and ZAVA_JWT_AUDIENCE), never both. With neither, only the
local quick start (embedded database, loopback host) gets a generated secret, kept in
ZAVA_DATA_DIR/jwt-secret (0600) so `zava-mcp token` can mint matching tokens.
"""

from __future__ import annotations

import contextvars
import ipaddress
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlparse

import anyio.to_thread
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken, TokenVerifier
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.auth.jwt_tokens import (
    DEFAULT_LOCAL_AUDIENCE,
    DEFAULT_LOCAL_ISSUER,
    InvalidTokenError,
    JwtVerifier,
    check_secret_strength,
    load_or_create_secret,
    mint_token,
    token_scopes,
)
from domain.errors import ConfigurationError, UnknownUserError, ValidationError, ZavaError
from domain.model import UserId
from domain.services.identity import IdentityService, not_registered_message, parse_user_id
from entrypoints.settings import Settings

log = logging.getLogger("zava.auth")

LOCAL_SECRET_FILE = "jwt-secret"  # noqa: S105 - a file name under ZAVA_DATA_DIR
LOCAL_SECRET_SOURCE = "local secret file"  # noqa: S105 - where the keys came from, for humans
VERIFIED_TOKEN_TTL_S = 60.0
VERIFIED_TOKEN_CACHE_SIZE = 4_096

K = TypeVar("K")
V = TypeVar("V")


def is_loopback_host(host: str) -> bool:
    """Whether binding to `host` keeps the server reachable from this machine only."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class JwtConfig:
    """Where bearer-token keys come from and what the tokens must say."""

    issuer: str
    audience: str
    required_scope: str
    secret: str | None = None
    jwks_url: str | None = None
    source: str = "ZAVA_JWT_SECRET"

    @property
    def can_mint(self) -> bool:
        return self.secret is not None

    def verifier(self) -> JwtVerifier:
        if self.secret is not None:
            return JwtVerifier.with_secret(
                self.secret, issuer=self.issuer, audience=self.audience
            )
        assert self.jwks_url is not None
        return JwtVerifier.with_jwks(self.jwks_url, issuer=self.issuer, audience=self.audience)

    def mint(self, user_id: UserId, ttl_s: int) -> str:
        if self.secret is None:
            raise ConfigurationError(
                "ZAVA_JWT_JWKS_URL is set: tokens come from your identity provider;"
                " `zava-mcp token` mints only HS256 tokens (ZAVA_JWT_SECRET)"
            )
        return mint_token(
            self.secret, str(user_id), ttl_s, self.issuer, self.audience,
            scope=self.required_scope,
        )


def resolve_jwt_config(settings: Settings, *, serving_host: str | None = None) -> JwtConfig:
    """The JWT configuration, or ConfigurationError naming the setting to fix.

    `serving_host` is the address the HTTP server binds to (None when only minting tokens): the
    generated local secret is refused on anything but a loopback address.
    """
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
    if secret is not None and settings.jwt_jwks_url:
        raise ConfigurationError(
            "set ZAVA_JWT_SECRET (local HS256 tokens) or ZAVA_JWT_JWKS_URL (identity provider),"
            " not both"
        )
    if settings.jwt_jwks_url:
        return _jwks_config(settings, settings.jwt_jwks_url)
    if secret is not None:
        check_secret_strength(secret)
        return _local_config(settings, secret, "ZAVA_JWT_SECRET")
    return _local_config(settings, _quick_start_secret(settings, serving_host), LOCAL_SECRET_SOURCE)


def _jwks_config(settings: Settings, url: str) -> JwtConfig:
    issuer, audience = settings.jwt_issuer, settings.jwt_audience
    if not issuer or not audience:
        missing = [name for name, value in (("ZAVA_JWT_ISSUER", issuer),
                                            ("ZAVA_JWT_AUDIENCE", audience)) if not value]
        raise ConfigurationError(
            f"ZAVA_JWT_JWKS_URL needs {' and '.join(missing)}: without them a token your"
            " identity provider issued for another application would be accepted"
        )
    parsed = urlparse(url)
    loopback = parsed.scheme == "http" and is_loopback_host(parsed.hostname or "")
    if parsed.scheme != "https" and not loopback:
        raise ConfigurationError(
            "ZAVA_JWT_JWKS_URL must be an https:// URL (http only on a loopback host)"
        )
    return JwtConfig(
        issuer=issuer, audience=audience,
        required_scope=settings.jwt_required_scope, jwks_url=url, source="ZAVA_JWT_JWKS_URL",
    )


def _local_config(settings: Settings, secret: str, source: str) -> JwtConfig:
    return JwtConfig(
        issuer=settings.jwt_issuer or DEFAULT_LOCAL_ISSUER,
        audience=settings.jwt_audience or DEFAULT_LOCAL_AUDIENCE,
        required_scope=settings.jwt_required_scope,
        secret=secret,
        source=source,
    )


def _quick_start_secret(settings: Settings, serving_host: str | None) -> str:
    needed = (
        "HTTP needs bearer-token keys: set ZAVA_JWT_SECRET (≥ 32 bytes, HS256) or"
        " ZAVA_JWT_JWKS_URL with ZAVA_JWT_ISSUER and ZAVA_JWT_AUDIENCE"
    )
    if not settings.uses_embedded_database:
        raise ConfigurationError(needed)
    if serving_host is not None and not is_loopback_host(serving_host):
        raise ConfigurationError(
            f"{needed}; a generated local secret is used only on a loopback host"
            f" (--host 127.0.0.1), not on {serving_host}"
        )
    return load_or_create_secret(settings.data_dir / LOCAL_SECRET_FILE)


class ExpiringLru(Generic[K, V]):
    """Entries that end at a time of their own; bounded, least recently used first out.
    Single event loop: no lock, nothing awaits."""

    def __init__(self, max_size: int, clock: Callable[[], float]) -> None:
        self._max_size = max_size
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def _put(self, key: K, value: V, until: float) -> None:
        self._entries[key] = (until, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_size:
            self._entries.popitem(last=False)


class VerifiedTokenCache(ExpiringLru[str, dict[str, Any]]):
    """Remembers the claims of tokens that verified, so a client sending the same bearer token
    on every request pays for one signature check a minute, not one per request (it was 7% of
    a cached tool call's CPU). An entry ends at the token's `exp` (the expiry still holds to the
    second) or after `ttl_s`, whichever is first, so a key withdrawn from the JWKS stops working
    within `ttl_s`. Only successes are kept."""

    def __init__(
        self, ttl_s: float = VERIFIED_TOKEN_TTL_S, max_size: int = VERIFIED_TOKEN_CACHE_SIZE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(max_size, clock)
        self._ttl_s = ttl_s

    def put(self, token: str, claims: dict[str, Any]) -> None:
        if self._ttl_s > 0:
            self._put(token, claims, min(float(claims["exp"]), self._clock() + self._ttl_s))


@dataclass(frozen=True)
class Refusal:
    """Why a request's bearer token was refused: `status` 401 (`invalid_token`) or 403
    (`insufficient_scope`), `description` for the client, `reason` for the log."""

    status: int
    description: str
    reason: str


_REFUSAL: contextvars.ContextVar[list[Refusal] | None] = contextvars.ContextVar(
    "zava_auth_refusal", default=None
)


def _refuse(refusal: Refusal) -> None:
    """Tell AuthRefusals (if it wraps this request) why the token was refused."""
    holder = _REFUSAL.get()
    if holder is not None:
        holder.append(refusal)


class BearerTokenVerifier(TokenVerifier):
    """The SDK's TokenVerifier: a verified JWT of a known user, or no access."""

    def __init__(
        self,
        verifier: JwtVerifier,
        identity: IdentityService,
        *,
        resource: str,
        required_scope: str,
        user_claim: str = "sub",
        verified: VerifiedTokenCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._verifier = verifier
        self._identity = identity
        self._resource = resource
        self._required_scope = required_scope
        self._user_claim = user_claim
        self._verified = verified or VerifiedTokenCache()
        self._clock = clock

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims = await self._verified_claims(token)
        except InvalidTokenError as e:
            _refuse(Refusal(401, e.description, e.reason))
            return None
        if int(claims["exp"]) < int(self._clock()):
            # within the verifier's leeway, but the SDK refuses it anyway: say why
            _refuse(Refusal(401, "the bearer token expired; get a new token", "token expired"))
            return None
        user = claims.get(self._user_claim)
        if not isinstance(user, str) or not user.strip():
            _refuse(Refusal(
                401, f"the bearer token has no {self._user_claim!r} claim naming the user"
                " (ZAVA_JWT_USER_CLAIM)", f"no {self._user_claim} claim"))
            return None
        scopes = token_scopes(claims)
        if self._required_scope not in scopes:
            _refuse(Refusal(403, f"the bearer token lacks the scope {self._required_scope!r}",
                            f"user {user[:64]!r} without scope {self._required_scope}"))
        elif not await self._is_known_user(user):
            _refuse(Refusal(403, not_registered_message(user[:255]),
                            f"user {user[:64]!r} is not registered"))
            scopes = [s for s in scopes if s != self._required_scope]
        return AccessToken(
            token=token,
            client_id=_client_id(claims),
            scopes=scopes,
            expires_at=int(claims["exp"]),
            # The audience was checked by the verifier; this is the resource it stands for.
            resource=self._resource,
            subject=user.strip(),
            claims=claims,
        )

    async def _verified_claims(self, token: str) -> dict[str, Any]:
        claims = self._verified.get(token)
        if claims is not None:
            return claims
        if self._verifier.may_block:
            claims = await anyio.to_thread.run_sync(self._verifier.verify, token)
        else:
            claims = self._verifier.verify(token)
        self._verified.put(token, claims)
        return claims

    async def _is_known_user(self, subject: str) -> bool:
        try:
            user_id = parse_user_id(subject)
        except ValidationError:
            return False
        # the server's one access-scope port (remembered there, one lookup for all the requests
        # in flight): the tool this request calls reads the same entry, not the database again
        try:
            await self._identity.whoami(user_id)
        except UnknownUserError:
            return False
        except ZavaError as e:
            # The directory is unreachable or busy: let the request through uncached. The tool
            # runs as this user under row-level security, which shows an unknown user nothing,
            # and reports the database error instead of a misleading 401/403. An expected
            # condition, said in one line (under an outage, one per request).
            log.warning("could not check user %s (%s: %s); deferring to the database",
                        user_id, e.code, e.message)
            return True
        except Exception:
            log.warning("could not check user %s; deferring to the database", user_id,
                        exc_info=True)
            return True
        return True


class AuthRefusals:
    """Outermost middleware of the bearer-token app: for a request the SDK refuses (401/403),
    the answer's description (JSON body and `WWW-Authenticate`) becomes the verifier's reason,
    and the refusal is logged once with that reason, the path and the client address. No token
    material is ever logged or echoed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusals: list[Refusal] = []
        reset = _REFUSAL.set(refusals)
        replaced = False

        async def send_with_reason(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] in (401, 403) \
                    and _is_challenge(message["headers"]):
                refusal = refusals[-1] if refusals else _missing_token(message["status"])
                _log_refusal(scope, refusal)
                replaced = True
                body = json.dumps({"error": _error_code(refusal.status),
                                   "error_description": refusal.description}).encode()
                await send({**message, "headers": _with_reason(message["headers"], refusal,
                                                               len(body))})
                await send({"type": "http.response.body", "body": body})
                return
            if replaced and message["type"] == "http.response.body":
                return  # the SDK's own body, already replaced
            await send(message)

        try:
            await self.app(scope, receive, send_with_reason)
        finally:
            _REFUSAL.reset(reset)


def _is_challenge(headers: list[tuple[bytes, bytes]]) -> bool:
    """An authentication refusal carries WWW-Authenticate; the transport's own 403 (a foreign
    Origin) does not, and is passed on as it is."""
    return any(name.lower() == b"www-authenticate" for name, _ in headers)


def _missing_token(status: int) -> Refusal:
    if status == 401:
        return Refusal(401, "Authentication required: send Authorization: Bearer <token>",
                       "no bearer token")
    return Refusal(status, "the bearer token does not grant access", "refused")


def _error_code(status: int) -> str:
    return "invalid_token" if status == 401 else "insufficient_scope"


def _with_reason(headers: list[tuple[bytes, bytes]], refusal: Refusal,
                 length: int) -> list[tuple[bytes, bytes]]:
    """The SDK's headers with our description in the challenge and the new body length; the
    challenge's other parameters (resource_metadata) stay."""
    kept: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        if name.lower() == b"content-length":
            continue
        if name.lower() == b"www-authenticate":
            metadata = [p for p in value.decode("latin-1").split(", ")
                        if p.startswith("resource_metadata=")]
            parts = [f'error="{_error_code(refusal.status)}"',
                     f'error_description="{_header_safe(refusal.description)}"', *metadata]
            value = ("Bearer " + ", ".join(parts)).encode("latin-1")
        kept.append((name, value))
    return [*kept, (b"content-length", str(length).encode())]


def _header_safe(text: str) -> str:
    """RFC 6750 §3: error_description is printable ASCII without `"` and `\\`."""
    return "".join(c if 0x20 <= ord(c) <= 0x7E and c not in '"\\' else "?" for c in text)


def _log_refusal(scope: Scope, refusal: Refusal) -> None:
    client = scope.get("client")
    log.info("refused %s %s from %s: %d %s", scope.get("method", ""), scope.get("path", ""),
             client[0] if client else "?", refusal.status, refusal.reason,
             extra={"event": "auth_refused", "status": refusal.status, "reason": refusal.reason})


def _client_id(claims: dict[str, Any]) -> str:
    for name in ("client_id", "azp", "appid"):
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return str(claims["sub"])


def bearer_caller() -> UserId | None:
    """The HTTP CallerResolver: the verified token's subject of the request being served.

    Read from the SDK's request-scoped auth context on every call, never stored, so one
    connection or process serving many users cannot mix them up.
    """
    token = get_access_token()
    if token is None or token.subject is None:
        return None
    try:
        return parse_user_id(token.subject)
    except ValidationError:
        return None
