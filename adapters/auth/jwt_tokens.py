"""JWT bearer tokens: verify them for the HTTP transport, and mint local ones for `zava-mcp token`.

Two key sources, never mixed in one verifier:
- a shared secret (HS256), for local use: `zava-mcp token` mints tokens with it;
- a JWKS URL (RS256/ES256), for an identity provider: keys are fetched with `jwt.PyJWKClient`,
  which caches the key set (5 min) and refreshes it at most once per cooldown for an unknown
  `kid`, so a flood of forged `kid`s cannot hammer the provider.

Every verification fixes the accepted algorithm from the key source, never from the token:
`alg: none` and the HS/RS confusion attack (an HMAC "signed" with the provider's public key) are
rejected before a signature is even looked at. `exp`, `sub`, `iss` and `aud` are required.

Failures raise `InvalidTokenError` (an `AuthorizationError`): its message is deliberately
generic, the detailed `reason` is for the server log only.

Local defaults (used when ZAVA_JWT_ISSUER / ZAVA_JWT_AUDIENCE are unset): issuer "zava-mcp",
audience "zava-retail", scope "zava:read".
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt

from domain.errors import AuthorizationError, ConfigurationError

DEFAULT_LOCAL_ISSUER = "zava-mcp"
DEFAULT_LOCAL_AUDIENCE = "zava-retail"
DEFAULT_SCOPE = "zava:read"
LOCAL_ALGORITHM = "HS256"
JWKS_ALGORITHMS = ("RS256", "ES256")
REQUIRED_CLAIMS = ("exp", "sub", "iss", "aud")
DEFAULT_LEEWAY_S = 30.0
MIN_SECRET_BYTES = 32
# Real access tokens are a few KB at most; refusing huge ones bounds the work an anonymous
# caller can make us do before any signature check.
MAX_TOKEN_CHARS = 16_384


class InvalidTokenError(AuthorizationError):
    """The bearer token is not acceptable. `reason` says why (for the log), `description` says
    it to the client: what is wrong and what is accepted (expired, the audience or issuer this
    server expects), never key material or the token itself."""

    def __init__(self, reason: str, description: str | None = None) -> None:
        super().__init__(description or "invalid bearer token")
        self.reason = reason
        self.description = description or "the bearer token is not valid"


class JwtVerifier:
    """Verifies bearer JWTs against one key source and returns their claims.

    Build it with `JwtVerifier.with_secret(...)` or `JwtVerifier.with_jwks(...)`.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        secret: str | None = None,
        jwks_client: jwt.PyJWKClient | None = None,
        leeway_s: float = DEFAULT_LEEWAY_S,
    ) -> None:
        if (secret is None) == (jwks_client is None):
            raise ConfigurationError("a JWT verifier needs exactly one of a secret or a JWKS URL")
        if secret is not None:
            check_secret_strength(secret)
        self._issuer = issuer
        self._audience = audience
        self._secret = secret
        self._jwks = jwks_client
        self._leeway_s = leeway_s
        self._algorithms = (LOCAL_ALGORITHM,) if secret is not None else JWKS_ALGORITHMS

    @classmethod
    def with_secret(
        cls, secret: str, *, issuer: str = DEFAULT_LOCAL_ISSUER,
        audience: str = DEFAULT_LOCAL_AUDIENCE, leeway_s: float = DEFAULT_LEEWAY_S,
    ) -> JwtVerifier:
        return cls(issuer=issuer, audience=audience, secret=secret, leeway_s=leeway_s)

    @classmethod
    def with_jwks(
        cls, jwks_url: str, *, issuer: str, audience: str,
        leeway_s: float = DEFAULT_LEEWAY_S, timeout_s: float = 5.0,
    ) -> JwtVerifier:
        try:
            client = jwt.PyJWKClient(
                jwks_url, cache_jwk_set=True, lifespan=300, timeout=timeout_s,
                cooldown_duration=30,
            )
        except jwt.PyJWKClientError as e:
            raise ConfigurationError(f"ZAVA_JWT_JWKS_URL: {e}") from None
        return cls(issuer=issuer, audience=audience, jwks_client=client, leeway_s=leeway_s)

    @property
    def algorithms(self) -> tuple[str, ...]:
        return self._algorithms

    @property
    def may_block(self) -> bool:
        """True when verifying can wait on the network (a JWKS fetch): run it off the loop."""
        return self._jwks is not None

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims if it is well-formed, correctly signed, current and meant for us."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidTokenError(
                "empty or oversized token",
                f"the bearer token is empty or longer than {MAX_TOKEN_CHARS} characters",
            )
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise InvalidTokenError(f"malformed token: {e}",
                                    "the bearer token is not a well-formed JWT") from None
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self._algorithms:
            accepted = ", ".join(self._algorithms)
            raise InvalidTokenError(
                f"algorithm {algorithm!r} not accepted (accepted: {accepted})",
                f"the bearer token's algorithm is not accepted (accepted: {accepted})",
            )
        key = self._key_for(token, algorithm)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway_s,
                options={"require": list(REQUIRED_CLAIMS), "verify_sub": True},
            )
        except jwt.PyJWTError as e:  # every pyjwt failure, key errors included
            raise InvalidTokenError(f"{type(e).__name__}: {e}", self._describe(e, token)) from None
        if not isinstance(claims.get("sub"), str) or not claims["sub"].strip():
            raise InvalidTokenError("empty subject", "the bearer token's `sub` claim is empty")
        return claims

    def _describe(self, error: jwt.PyJWTError, token: str) -> str:
        """What the client may be told. PyJWT checks the signature before any claim, so the
        claims quoted for an expired, foreign-audience or foreign-issuer token are signed ones."""
        if isinstance(error, jwt.ExpiredSignatureError):
            return f"the bearer token expired{_at(_claim(token, 'exp'))}; get a new token"
        if isinstance(error, jwt.InvalidAudienceError):
            return (f"the bearer token is for audience {_claim(token, 'aud')!r}; this server"
                    f" accepts audience {self._audience!r} (ZAVA_JWT_AUDIENCE)")
        if isinstance(error, jwt.InvalidIssuerError):
            return (f"the bearer token was issued by {_claim(token, 'iss')!r}; this server"
                    f" accepts issuer {self._issuer!r} (ZAVA_JWT_ISSUER)")
        if isinstance(error, jwt.MissingRequiredClaimError):
            return (f"the bearer token has no {error.claim!r} claim (required:"
                    f" {', '.join(REQUIRED_CLAIMS)})")
        if isinstance(error, jwt.ImmatureSignatureError):
            return "the bearer token is not valid yet (its nbf or iat is in the future)"
        if isinstance(error, jwt.InvalidSignatureError):
            return "the bearer token's signature does not verify with this server's keys"
        return "the bearer token is not valid"

    def _key_for(self, token: str, algorithm: str) -> Any:
        if self._secret is not None:
            return self._secret
        assert self._jwks is not None
        try:
            signing_key = self._jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as e:
            raise InvalidTokenError(
                f"JWKS unreachable: {e}",
                "the identity provider's signing keys could not be fetched; retry later",
            ) from None
        except jwt.PyJWTError as e:
            raise InvalidTokenError(
                f"no usable signing key: {e}",
                "the bearer token's signing key is not among the identity provider's keys",
            ) from None
        # The key's own algorithm (explicit `alg`, or implied by its type and curve) must be the
        # one the token claims: an EC key never verifies an RS256 token and vice versa.
        if signing_key.algorithm_name != algorithm:
            raise InvalidTokenError(
                f"token algorithm {algorithm} does not match key algorithm"
                f" {signing_key.algorithm_name}",
                "the bearer token's algorithm does not match its signing key's",
            )
        return signing_key.key


def _claim(token: str, name: str) -> Any:
    """A claim of a token whose signature already verified (PyJWT checks it first)."""
    try:
        return jwt.decode(token, options={"verify_signature": False}).get(name)
    except jwt.PyJWTError:
        return None


def _at(exp: Any) -> str:
    if not isinstance(exp, int | float):
        return ""
    return " at " + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp))


def token_scopes(claims: Mapping[str, Any]) -> list[str]:
    """Scopes from `scope` (RFC 8693/9068, space-separated) or `scp` (string or list)."""
    scopes: list[str] = []
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            scopes += value.split()
        elif isinstance(value, list):
            scopes += [s for s in value if isinstance(s, str)]
    return list(dict.fromkeys(scopes))


def mint_token(
    secret: str,
    user_id: str | uuid.UUID,
    ttl_s: int,
    issuer: str = DEFAULT_LOCAL_ISSUER,
    audience: str = DEFAULT_LOCAL_AUDIENCE,
    *,
    scope: str = DEFAULT_SCOPE,
    now: float | None = None,
) -> str:
    """An HS256 access token for `user_id`, valid for `ttl_s` seconds (local use)."""
    check_secret_strength(secret)
    if ttl_s <= 0:
        raise ConfigurationError("a token's lifetime must be positive")
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": str(user_id),
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_s,
        "jti": uuid.uuid4().hex,
        "scope": scope,
    }
    return jwt.encode(claims, secret, algorithm=LOCAL_ALGORITHM)


def check_secret_strength(secret: str) -> None:
    """HS256 is only as strong as its key: refuse short secrets (RFC 7518 §3.2)."""
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"ZAVA_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes; generate one with"
            " `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )


def load_or_create_secret(path: Path) -> str:
    """The local signing secret stored at `path` (mode 0600), created on first use.

    Lets the quick start serve HTTP and mint matching tokens without any configuration.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _publish_new_secret(path)
        return _read_secret(path)
    except OSError as e:
        raise ConfigurationError(f"cannot use the local JWT secret {path} ({e.strerror})")


def _publish_new_secret(path: Path) -> None:
    """Write a fresh secret to a private temporary file, then hard-link it into place: the link
    fails if another process won the race, so nobody ever reads a half-written secret."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _read_secret(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"the local JWT secret {path} is readable by other users: `chmod 600 {path}`"
        )
    secret = path.read_text().strip()
    check_secret_strength(secret)
    return secret
