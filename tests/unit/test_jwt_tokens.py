"""Bearer-token verification: the JWT verifier (HS256 and JWKS), the local secret, the settings
policy, and the SDK TokenVerifier that turns a token into a known user (or into 401/403)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from adapters.auth.jwt_tokens import (
    InvalidTokenError,
    JwtVerifier,
    load_or_create_secret,
    mint_token,
    token_scopes,
)
from adapters.memory.access import InMemoryAccessDirectory
from adapters.memory.clock import FixedClock
from domain.errors import AuthorizationError, ConfigurationError, ServiceUnavailableError
from domain.model import UserId
from domain.services.access_scope import CachedAccessDirectory
from domain.services.identity import IdentityService
from entrypoints.http_auth import (
    BearerTokenVerifier,
    VerifiedTokenCache,
    bearer_caller,
    is_loopback_host,
    resolve_jwt_config,
)
from entrypoints.settings import Settings

SEATTLE = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
NIL_USER = "00000000-0000-0000-0000-000000000000"
SECRET = "unit-test-secret-which-is-at-least-32-bytes"
IDP_ISSUER = "https://idp.example.com/"
IDP_AUDIENCE = "api://zava-retail"
RESOURCE = "http://127.0.0.1:8000/mcp"


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {"iss": "zava-mcp", "aud": "zava-retail", "sub": SEATTLE,
                              "iat": now, "exp": now + 300, "scope": "zava:read"}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _hs(**overrides: Any) -> str:
    return jwt.encode(_claims(**overrides), SECRET, algorithm="HS256")


@pytest.fixture
def hs_verifier() -> JwtVerifier:
    return JwtVerifier.with_secret(SECRET)


def _refusal(verifier: JwtVerifier, token: str) -> InvalidTokenError:
    with pytest.raises(InvalidTokenError) as info:
        verifier.verify(token)
    # the client's description says what is wrong, never key or token material
    assert info.value.message == info.value.description
    assert SECRET not in info.value.description
    assert not token or token not in info.value.description
    return info.value


def _reason(verifier: JwtVerifier, token: str) -> str:
    return _refusal(verifier, token).reason


# --- HS256 (local tokens) ---------------------------------------------------------------------


def test_minted_token_verifies_with_the_local_defaults(hs_verifier: JwtVerifier) -> None:
    claims = hs_verifier.verify(mint_token(SECRET, SEATTLE, 600))
    assert claims["sub"] == SEATTLE
    assert (claims["iss"], claims["aud"]) == ("zava-mcp", "zava-retail")
    assert token_scopes(claims) == ["zava:read"]
    assert 590 <= claims["exp"] - time.time() <= 600


def test_invalid_token_error_is_an_authorization_error() -> None:
    assert issubclass(InvalidTokenError, AuthorizationError)


# Built when the test runs, not at collection, so a long session cannot expire them.
BAD_TOKENS: list[tuple[Callable[[], str], str, str]] = [
    (lambda: _hs(exp=None), "exp", "has no 'exp' claim"),
    (lambda: _hs(sub=None), "sub", "has no 'sub' claim"),
    (lambda: _hs(sub="   "), "empty subject", "`sub` claim is empty"),
    (lambda: _hs(sub=42), "Subject must be a string", "not valid"),
    (lambda: _hs(iss="https://evil.example.com"), "InvalidIssuerError",
     "issued by 'https://evil.example.com'; this server accepts issuer 'zava-mcp'"),
    (lambda: _hs(iss=None), "iss", "has no 'iss' claim"),
    (lambda: _hs(aud="someone-else"), "InvalidAudienceError",
     "for audience 'someone-else'; this server accepts audience 'zava-retail'"),
    (lambda: _hs(aud=None), "aud", "has no 'aud' claim"),
    (lambda: _hs(exp=int(time.time()) - 120), "ExpiredSignatureError", "expired at 20"),
    (lambda: _hs(nbf=int(time.time()) + 600), "ImmatureSignatureError", "not valid yet"),
    (lambda: jwt.encode(_claims(), "another-secret-that-is-also-32-bytes-long",
                        algorithm="HS256"), "InvalidSignatureError",
     "signature does not verify"),
    (lambda: "not.a.jwt", "malformed", "not a well-formed JWT"),
    (lambda: "", "empty", "empty or longer than"),
    (lambda: "a" * 20_000, "oversized", "empty or longer than"),
]


@pytest.mark.parametrize(("make_token", "fragment", "description"), BAD_TOKENS,
                         ids=[fragment for _, fragment, _ in BAD_TOKENS])
def test_bad_tokens_are_refused_with_a_reason_and_a_description(
    hs_verifier: JwtVerifier, make_token: Callable[[], str], fragment: str, description: str
) -> None:
    refusal = _refusal(hs_verifier, make_token())
    assert fragment in refusal.reason
    assert description in refusal.description


def test_small_clock_skew_is_tolerated(hs_verifier: JwtVerifier) -> None:
    assert hs_verifier.verify(_hs(exp=int(time.time()) - 5))["sub"] == SEATTLE


def test_audience_list_containing_ours_is_accepted(hs_verifier: JwtVerifier) -> None:
    assert hs_verifier.verify(_hs(aud=["other", "zava-retail"]))["sub"] == SEATTLE


def test_alg_none_is_rejected(hs_verifier: JwtVerifier) -> None:
    unsigned = jwt.encode(_claims(), None, algorithm="none")
    assert "'none' not accepted" in _reason(hs_verifier, unsigned)


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_only_hs256_is_accepted_with_a_secret(hs_verifier: JwtVerifier, algorithm: str) -> None:
    token = jwt.encode(_claims(), SECRET * 2, algorithm=algorithm)  # long enough for HS512
    assert f"'{algorithm}' not accepted" in _reason(hs_verifier, token)


def test_secret_verifier_rejects_rs256(hs_verifier: JwtVerifier) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(), key, algorithm="RS256")
    assert "'RS256' not accepted" in _reason(hs_verifier, token)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        JwtVerifier.with_secret("short")
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        mint_token("short", SEATTLE, 60)


def test_mint_refuses_a_non_positive_lifetime() -> None:
    with pytest.raises(ConfigurationError):
        mint_token(SECRET, SEATTLE, 0)


@pytest.mark.parametrize(
    ("claims", "scopes"),
    [
        ({"scope": "zava:read other"}, ["zava:read", "other"]),
        ({"scp": "zava:read"}, ["zava:read"]),
        ({"scp": ["a", "b", 3]}, ["a", "b"]),
        ({"scope": "a", "scp": ["a", "b"]}, ["a", "b"]),
        ({}, []),
    ],
)
def test_token_scopes(claims: dict[str, Any], scopes: list[str]) -> None:
    assert token_scopes(claims) == scopes


# --- RS256 / ES256 through a JWKS served on loopback -------------------------------------------


@dataclass
class Jwks:
    url: str
    rsa_key: rsa.RSAPrivateKey
    ec_key: ec.EllipticCurvePrivateKey
    fetches: list[str]

    def sign(self, algorithm: str = "RS256", kid: str = "rsa-1", **overrides: Any) -> str:
        key = self.rsa_key if algorithm.startswith("RS") else self.ec_key
        claims = _claims(**{"iss": IDP_ISSUER, "aud": IDP_AUDIENCE, **overrides})
        return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})

    def verifier(self) -> JwtVerifier:
        return JwtVerifier.with_jwks(self.url, issuer=IDP_ISSUER, audience=IDP_AUDIENCE)


@pytest.fixture(scope="module")
def jwks() -> Iterator[Jwks]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    keys = [
        {**RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True), "kid": "rsa-1",
         "use": "sig", "alg": "RS256"},
        {**ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True), "kid": "ec-1", "use": "sig"},
    ]
    body = json.dumps({"keys": keys}).encode()
    fetches: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetches.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Jwks(f"http://127.0.0.1:{server.server_port}/jwks.json", rsa_key, ec_key, fetches)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_rs256_and_es256_tokens_verify_against_the_jwks(jwks: Jwks) -> None:
    verifier = jwks.verifier()
    assert verifier.may_block
    assert verifier.verify(jwks.sign("RS256", "rsa-1"))["sub"] == SEATTLE
    assert verifier.verify(jwks.sign("ES256", "ec-1"))["sub"] == SEATTLE


def test_jwks_is_fetched_once_and_cached(jwks: Jwks) -> None:
    verifier = jwks.verifier()
    before = len(jwks.fetches)
    for _ in range(5):
        verifier.verify(jwks.sign())
    assert len(jwks.fetches) - before == 1


def test_hs256_signed_with_the_public_key_is_rejected(jwks: Jwks) -> None:
    """Algorithm confusion: an attacker 'signs' with HMAC using the provider's public key."""
    public_pem = jwks.rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forged = _hmac_token(public_pem, {"kid": "rsa-1"})
    assert "'HS256' not accepted" in _reason(jwks.verifier(), forged)


def _hmac_token(key: bytes, headers: dict[str, str]) -> str:
    """pyjwt refuses to HMAC with a PEM key; an attacker's tool would not, so sign by hand."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", **headers}).encode())
    payload = b64(json.dumps(_claims(iss=IDP_ISSUER, aud=IDP_AUDIENCE)).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def test_token_algorithm_must_match_the_key(jwks: Jwks) -> None:
    # an RS256 token pointing at the EC key's kid
    token = jwt.encode(_claims(iss=IDP_ISSUER, aud=IDP_AUDIENCE), jwks.rsa_key,
                       algorithm="RS256", headers={"kid": "ec-1"})
    assert "does not match key algorithm ES256" in _reason(jwks.verifier(), token)


def test_jwks_verifier_rejects_alg_none_and_unknown_kid(jwks: Jwks) -> None:
    verifier = jwks.verifier()
    unsigned = jwt.encode(_claims(iss=IDP_ISSUER, aud=IDP_AUDIENCE), None, algorithm="none")
    assert "'none' not accepted" in _reason(verifier, unsigned)
    assert "no usable signing key" in _reason(verifier, jwks.sign(kid="rotated-away"))


def test_jwks_verifier_checks_issuer_audience_and_required_claims(jwks: Jwks) -> None:
    verifier = jwks.verifier()
    assert "InvalidIssuerError" in _reason(verifier, jwks.sign(iss="https://other-idp/"))
    assert "InvalidAudienceError" in _reason(verifier, jwks.sign(aud="api://another-app"))
    assert "exp" in _reason(verifier, jwks.sign(exp=None))
    assert "sub" in _reason(verifier, jwks.sign(sub=None))
    wrong_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(_claims(iss=IDP_ISSUER, aud=IDP_AUDIENCE), wrong_key,
                        algorithm="RS256", headers={"kid": "rsa-1"})
    assert "InvalidSignatureError" in _reason(verifier, forged)


def test_unreachable_jwks_is_a_rejection_not_a_crash() -> None:
    verifier = JwtVerifier.with_jwks("http://127.0.0.1:9/jwks.json", issuer=IDP_ISSUER,
                                     audience=IDP_AUDIENCE, timeout_s=1)
    token = jwt.encode(_claims(), rsa.generate_private_key(public_exponent=65537, key_size=2048),
                       algorithm="RS256", headers={"kid": "k"})
    assert "JWKS unreachable" in _reason(verifier, token)


# --- the local secret and the settings policy ---------------------------------------------------


def test_local_secret_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "jwt-secret"
    first = load_or_create_secret(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_secret(path) == first
    assert len(first) >= 32
    assert [p.name for p in path.parent.iterdir()] == ["jwt-secret"]


def test_local_secret_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "jwt-secret"
    load_or_create_secret(path)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_or_create_secret(path)


def _settings(tmp_path: Path, **values: Any) -> Settings:
    base: dict[str, Any] = {"data_dir": tmp_path, "database_url": None, "jwt_secret": None,
                            "jwt_jwks_url": None, "jwt_issuer": None, "jwt_audience": None}
    return Settings(**{**base, **values})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "example.com", ""])
def test_non_loopback_hosts(host: str) -> None:
    assert not is_loopback_host(host)


def test_quick_start_generates_a_secret_on_loopback_only(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="only on a loopback host"):
        resolve_jwt_config(_settings(tmp_path), serving_host="0.0.0.0")
    assert not (tmp_path / "jwt-secret").exists()
    config = resolve_jwt_config(_settings(tmp_path), serving_host="127.0.0.1")
    assert config.secret == (tmp_path / "jwt-secret").read_text().strip()
    assert (config.issuer, config.audience, config.required_scope) == (
        "zava-mcp", "zava-retail", "zava:read")
    assert config.verifier().verify(config.mint(UserId(SEATTLE), 60))["sub"] == SEATTLE


def test_external_database_needs_configured_keys(tmp_path: Path) -> None:
    settings = _settings(tmp_path, database_url="postgresql://zava_query@db/zava")
    with pytest.raises(ConfigurationError, match=r"ZAVA_JWT_SECRET .* or ZAVA_JWT_JWKS_URL"):
        resolve_jwt_config(settings, serving_host="127.0.0.1")


def test_configured_secret_wins_and_is_checked(tmp_path: Path) -> None:
    config = resolve_jwt_config(_settings(tmp_path, jwt_secret=SECRET, jwt_issuer="me"),
                                serving_host="0.0.0.0")
    assert (config.secret, config.issuer, config.source) == (SECRET, "me", "ZAVA_JWT_SECRET")
    assert not (tmp_path / "jwt-secret").exists()
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        resolve_jwt_config(_settings(tmp_path, jwt_secret="short"))


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"jwt_secret": SECRET, "jwt_jwks_url": "https://idp/jwks"}, "not both"),
        ({"jwt_jwks_url": "https://idp/jwks", "jwt_issuer": IDP_ISSUER},
         "needs ZAVA_JWT_AUDIENCE"),
        ({"jwt_jwks_url": "https://idp/jwks"}, "needs ZAVA_JWT_ISSUER and ZAVA_JWT_AUDIENCE"),
        ({"jwt_jwks_url": "http://idp.example.com/jwks", "jwt_issuer": IDP_ISSUER,
          "jwt_audience": IDP_AUDIENCE}, "must be an https:// URL"),
    ],
)
def test_bad_jwt_settings_fail_fast(tmp_path: Path, values: dict[str, Any], fragment: str
                                    ) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        resolve_jwt_config(_settings(tmp_path, **values), serving_host="127.0.0.1")


def test_jwks_config_cannot_mint(tmp_path: Path) -> None:
    config = resolve_jwt_config(_settings(
        tmp_path, jwt_jwks_url="https://idp.example.com/jwks", jwt_issuer=IDP_ISSUER,
        jwt_audience=IDP_AUDIENCE))
    assert not config.can_mint
    with pytest.raises(ConfigurationError, match="identity provider"):
        config.mint(UserId(SEATTLE), 60)


# --- the SDK TokenVerifier ------------------------------------------------------------------------


class CountingDirectory(InMemoryAccessDirectory):
    def __init__(self) -> None:
        demo = InMemoryAccessDirectory.from_demo_data()
        super().__init__(demo._scopes.values())
        self.lookups = 0
        self.broken = False
        self.failure: Exception | None = None
        self.delay_s = 0.0

    async def scope_for(self, user_id: UserId) -> Any:
        self.lookups += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.broken:
            raise OSError("database unreachable")
        if self.failure is not None:
            raise self.failure
        return await super().scope_for(user_id)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class VerifierRig:
    verifier: BearerTokenVerifier
    directory: CountingDirectory
    clock: FakeMonotonic


@pytest.fixture
def rig() -> VerifierRig:
    directory = CountingDirectory()
    clock = FakeMonotonic()
    # the server's one access-scope port, as the container wires it (here: a minute for all)
    scopes = CachedAccessDirectory(directory, ttl_s=60, unknown_ttl_s=60, clock=clock)
    identity = IdentityService(scopes, FixedClock(datetime(2026, 6, 30, tzinfo=UTC)))
    verifier = BearerTokenVerifier(
        JwtVerifier.with_secret(SECRET), identity, resource=RESOURCE, required_scope="zava:read",
    )
    return VerifierRig(verifier, directory, clock)


@pytest.mark.anyio
async def test_known_user_gets_the_scope_and_the_subject(rig: VerifierRig) -> None:
    access = await rig.verifier.verify_token(_hs())
    assert access is not None
    assert access.subject == SEATTLE
    assert access.scopes == ["zava:read"]
    assert access.resource == RESOURCE
    assert access.expires_at is not None
    assert access.expires_at > time.time()


@pytest.mark.anyio
@pytest.mark.parametrize("subject", [NIL_USER, "alice@example.com"])
async def test_unknown_user_keeps_no_required_scope(rig: VerifierRig, subject: str) -> None:
    access = await rig.verifier.verify_token(_hs(sub=subject, scope="zava:read profile"))
    assert access is not None
    assert access.scopes == ["profile"]


@pytest.mark.anyio
async def test_invalid_token_is_no_access(rig: VerifierRig) -> None:
    assert await rig.verifier.verify_token(_hs(aud="elsewhere")) is None
    assert rig.directory.lookups == 0


@pytest.mark.anyio
async def test_user_answers_are_cached_for_a_minute(rig: VerifierRig) -> None:
    for _ in range(3):
        await rig.verifier.verify_token(_hs())
        await rig.verifier.verify_token(_hs(sub=NIL_USER))
    assert rig.directory.lookups == 2
    rig.clock.now += 61
    await rig.verifier.verify_token(_hs())
    assert rig.directory.lookups == 3


@pytest.mark.anyio
async def test_requests_in_flight_share_one_lookup_when_the_answer_expires(
    rig: VerifierRig,
) -> None:
    rig.directory.delay_s = 0.01
    token = _hs()
    await rig.verifier.verify_token(token)
    rig.clock.now += 61
    answers = await asyncio.gather(*(rig.verifier.verify_token(token) for _ in range(64)))
    assert all(a is not None and a.scopes == ["zava:read"] for a in answers)
    assert rig.directory.lookups == 2


@pytest.mark.anyio
async def test_directory_failure_defers_to_the_database_uncached(rig: VerifierRig) -> None:
    rig.directory.broken = True
    first = await rig.verifier.verify_token(_hs())
    assert first is not None
    assert first.scopes == ["zava:read"]
    rig.directory.broken = False
    await rig.verifier.verify_token(_hs())
    assert rig.directory.lookups == 2


@pytest.mark.anyio
async def test_a_busy_or_unreachable_directory_is_one_line_in_the_log(
    rig: VerifierRig, caplog: pytest.LogCaptureFixture,
) -> None:
    rig.directory.failure = ServiceUnavailableError("the database is unreachable",
                                                    retry_after_s=2)
    with caplog.at_level(logging.WARNING, logger="zava.auth"):
        access = await rig.verifier.verify_token(_hs())
    assert access is not None
    assert access.scopes == ["zava:read"]  # deferred to the database, as before
    [entry] = caplog.records
    assert entry.getMessage() == (
        f"could not check user {SEATTLE} (SERVICE_UNAVAILABLE: the database is unreachable;"
        " this is temporary: retry in 2 s); deferring to the database")
    assert entry.exc_info is None  # an expected condition: no traceback


class CountingJwtVerifier(JwtVerifier):
    def __init__(self) -> None:
        super().__init__(issuer="zava-mcp", audience="zava-retail", secret=SECRET)
        self.checks = 0

    def verify(self, token: str) -> dict[str, Any]:
        self.checks += 1
        return super().verify(token)


@dataclass
class TokenCacheRig:
    wall: FakeMonotonic  # stands for time.time here
    jwt: CountingJwtVerifier
    verifier: BearerTokenVerifier


def _token_cache_rig() -> TokenCacheRig:
    wall = FakeMonotonic()
    wall.now = time.time()
    counting = CountingJwtVerifier()
    identity = IdentityService(CountingDirectory(),
                               FixedClock(datetime(2026, 6, 30, tzinfo=UTC)))
    verifier = BearerTokenVerifier(
        counting, identity, resource=RESOURCE, required_scope="zava:read",
        verified=VerifiedTokenCache(ttl_s=60, clock=wall),
    )
    return TokenCacheRig(wall, counting, verifier)


@pytest.mark.anyio
async def test_a_verified_token_is_checked_once_a_minute_not_per_request() -> None:
    rig = _token_cache_rig()
    token = _hs(exp=int(rig.wall.now) + 3600)
    for _ in range(5):
        access = await rig.verifier.verify_token(token)
        assert access is not None
        assert access.subject == SEATTLE
    assert rig.jwt.checks == 1
    rig.wall.now += 61
    assert await rig.verifier.verify_token(token) is not None
    assert rig.jwt.checks == 2


@pytest.mark.anyio
async def test_a_cached_token_still_ends_at_its_expiry() -> None:
    rig = _token_cache_rig()
    token = _hs(exp=int(rig.wall.now) + 10)
    assert await rig.verifier.verify_token(token) is not None
    rig.wall.now += 11  # past exp, within the minute: the cache no longer vouches for it
    await rig.verifier.verify_token(token)
    assert rig.jwt.checks == 2


@pytest.mark.anyio
async def test_rejected_tokens_are_never_cached() -> None:
    rig = _token_cache_rig()
    for _ in range(3):
        assert await rig.verifier.verify_token(_hs(aud="elsewhere")) is None
    assert rig.jwt.checks == 3


def test_verified_token_cache_is_bounded() -> None:
    cache = VerifiedTokenCache(ttl_s=60, max_size=2)
    exp = time.time() + 300
    for token in ("a", "b", "c"):
        cache.put(token, {"exp": exp, "sub": token})
    assert cache.get("a") is None
    assert cache.get("c") == {"exp": exp, "sub": "c"}


def test_caller_outside_an_authenticated_request_is_nobody() -> None:
    assert bearer_caller() is None


@pytest.mark.anyio
async def test_the_user_claim_names_the_user(rig: VerifierRig) -> None:
    """ZAVA_JWT_USER_CLAIM=oid (Entra ID): the user is `oid`, whatever `sub` says."""
    verifier = BearerTokenVerifier(
        JwtVerifier.with_secret(SECRET), IdentityService(rig.directory, FixedClock(
            datetime(2026, 6, 30, tzinfo=UTC))),
        resource=RESOURCE, required_scope="zava:read", user_claim="oid",
    )
    access = await verifier.verify_token(_hs(sub="pairwise-subject-of-no-use", oid=SEATTLE))
    assert access is not None
    assert (access.subject, access.scopes) == (SEATTLE, ["zava:read"])
    assert await verifier.verify_token(_hs()) is None  # no oid claim: refused
