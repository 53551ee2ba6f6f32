"""The streamable HTTP transport with bearer-token auth, end to end.

A real uvicorn server (in a thread, one per module) over the session's embedded PostgreSQL;
raw HTTP for the status codes and headers a client relies on, and the SDK's streamable HTTP
client for the tools. Plus the `zava-mcp token` and `zava-mcp serve --transport http` commands
as subprocesses.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import jwt
import psycopg
import pytest
from dependency_injector import providers
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from adapters.auth.jwt_tokens import JwtVerifier, mint_token
from adapters.demodata.reference import SEATTLE as SEATTLE_STORE
from entrypoints.container import Container
from entrypoints.http_app import build_http_app
from entrypoints.settings import Settings
from ports.database_server import DatabaseEndpoints
from tests.support.http_server import (
    RunningServer,
    free_port,
    serve_in_thread,
    start_serve_http,
    wait_healthy,
)

pytestmark = pytest.mark.e2e

SEATTLE = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
REGIONAL = "19fadba2-0ce0-477c-8044-861caf516f15"
HEAD_OFFICE = "5ba86bc5-6c7d-4d93-9337-3175bdc44ad8"
NIL_USER = "00000000-0000-0000-0000-000000000000"
SECRET = "e2e-test-secret-that-is-long-enough-for-hs256"
ISSUER, AUDIENCE = "zava-mcp", "zava-retail"
STORES_SQL = "SELECT DISTINCT store_id FROM retail.orders"
REPO_ROOT = Path(__file__).resolve().parents[2]
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


@pytest.fixture(scope="module")
def server(database: DatabaseEndpoints, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[RunningServer]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("http-data"), pool_min=1, pool_max=4,
        jwt_secret=SECRET, jwt_jwks_url=None, jwt_issuer=None, jwt_audience=None,
        public_url=None, allowed_hosts=[],
    )
    container = Container(settings=settings)
    container.database_endpoints.override(providers.Object(database))
    with serve_in_thread(lambda port: build_http_app(container, settings, "127.0.0.1", port)
                         ) as running:
        yield running


def _token(user: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": user, "iat": now, "exp": now + 300,
              "scope": "zava:read"}
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, SECRET,
                      algorithm="HS256")


def _post_mcp(server: RunningServer, authorization: str | None, **headers: str
              ) -> httpx2.Response:
    all_headers = {**MCP_HEADERS, **headers}
    if authorization is not None:
        all_headers["Authorization"] = authorization
    return httpx2.post(server.mcp_url, json=LIST_TOOLS, headers=all_headers, timeout=10)


# --- raw HTTP: what every OAuth-aware client relies on ----------------------------------------


def test_health_is_outside_auth_and_checks_the_database(server: RunningServer) -> None:
    response = httpx2.get(server.base_url + "/health", timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok", body
    assert body["database"] == "ok"
    assert body["cache"] == "ok"
    assert body["embeddings"].startswith("ok (")


def test_no_token_is_401_pointing_at_the_resource_metadata(server: RunningServer) -> None:
    response = _post_mcp(server, None)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    metadata_url = f"{server.base_url}/.well-known/oauth-protected-resource/mcp"
    assert challenge.startswith("Bearer ")
    assert f'resource_metadata="{metadata_url}"' in challenge

    metadata = httpx2.get(metadata_url, timeout=5)
    assert metadata.status_code == 200
    body = metadata.json()
    assert body["resource"] == server.mcp_url
    assert body["scopes_supported"] == ["zava:read"]
    assert body["authorization_servers"]
    assert body["bearer_methods_supported"] == ["header"]


# Tokens are built when the test runs, not at collection: a long session must not expire them.
INVALID_AUTHORIZATIONS: dict[str, Callable[[], str]] = {
    "bad signature": lambda: "Bearer " + mint_token("another-secret-" + "y" * 40, SEATTLE, 300),
    "expired": lambda: "Bearer " + _token(SEATTLE, iat=int(time.time()) - 7200,
                                          exp=int(time.time()) - 3600),
    "wrong audience": lambda: "Bearer " + _token(SEATTLE, aud="someone-else"),
    "wrong issuer": lambda: "Bearer " + _token(SEATTLE, iss="https://evil.example.com"),
    "no exp": lambda: "Bearer " + _token(SEATTLE, exp=None),
    "alg none": lambda: "Bearer " + jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": SEATTLE, "exp": int(time.time()) + 300},
        None, algorithm="none"),
    "garbage": lambda: "Bearer not-a-jwt",
    "basic scheme": lambda: "Basic dXNlcjpwYXNz",
}


# what each refusal says to the client: what is wrong and what is accepted
INVALID_DESCRIPTIONS = {
    "bad signature": "signature does not verify",
    "expired": "the bearer token expired at ",
    "wrong audience": "is for audience 'someone-else'; this server accepts audience"
                      " 'zava-retail' (ZAVA_JWT_AUDIENCE)",
    "wrong issuer": "was issued by 'https://evil.example.com'; this server accepts issuer"
                    " 'zava-mcp' (ZAVA_JWT_ISSUER)",
    "no exp": "has no 'exp' claim",
    "alg none": "algorithm is not accepted (accepted: HS256)",
    "garbage": "not a well-formed JWT",
    "basic scheme": "Authentication required: send Authorization: Bearer <token>",
}


@pytest.mark.parametrize("case", list(INVALID_AUTHORIZATIONS))
def test_invalid_tokens_are_401_saying_why_and_logged_without_the_token(
    server: RunningServer, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    authorization = INVALID_AUTHORIZATIONS[case]()
    with caplog.at_level("INFO", logger="zava.auth"):
        response = _post_mcp(server, authorization)
    assert response.status_code == 401, case
    challenge = response.headers["www-authenticate"]
    assert 'error="invalid_token"' in challenge
    assert "resource_metadata=" in challenge
    assert response.json()["error"] == "invalid_token"
    assert INVALID_DESCRIPTIONS[case] in response.json()["error_description"]
    assert INVALID_DESCRIPTIONS[case].replace('"', "?") in challenge
    refusals = [r for r in caplog.records if getattr(r, "event", None) == "auth_refused"]
    assert len(refusals) == 1, case
    token = authorization.split(" ", 1)[1]
    assert token not in refusals[0].getMessage()
    signature = token.split(".")[-1]
    assert not signature or signature not in refusals[0].getMessage()  # not even that part


FORBIDDEN_TOKENS: dict[str, tuple[Callable[[], str], str]] = {
    "unknown user (nil UUID)": (lambda: _token(NIL_USER), f"user '{NIL_USER}' is not registered"
                                " on this server; an operator registers them with `zava-mcp"
                                f" users add --id {NIL_USER} --name NAME --role"),
    "unknown non-UUID user": (lambda: _token("alice@example.com"),
                              "user 'alice@example.com' is not registered"),
    "known user without the scope": (lambda: _token(SEATTLE, scope="profile email"),
                                     "lacks the scope 'zava:read'"),
}


@pytest.mark.parametrize("case", list(FORBIDDEN_TOKENS))
def test_valid_token_without_access_is_403_saying_why(
    server: RunningServer, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    make_token, description = FORBIDDEN_TOKENS[case]
    with caplog.at_level("INFO", logger="zava.auth"):
        response = _post_mcp(server, f"Bearer {make_token()}")
    assert response.status_code == 403, case
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert description in response.json()["error_description"]
    assert [r.reason for r in caplog.records  # type: ignore[attr-defined]
            if getattr(r, "event", None) == "auth_refused"]


def test_valid_token_lists_tools_in_stateless_json_mode(server: RunningServer) -> None:
    response = _post_mcp(server, f"Bearer {_token(SEATTLE)}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "mcp-session-id" not in response.headers
    names = {t["name"] for t in response.json()["result"]["tools"]}
    assert {"whoami", "execute_sales_query"} <= names


def test_dns_rebinding_protection_refuses_foreign_hosts(server: RunningServer) -> None:
    response = _post_mcp(server, f"Bearer {_token(SEATTLE)}", Host="evil.example.com")
    assert response.status_code == 421


def test_oversized_requests_are_refused(server: RunningServer) -> None:
    big = {**LIST_TOOLS, "params": {"padding": "x" * (2 * 1_048_576)}}
    response = httpx2.post(server.mcp_url, json=big, timeout=10, headers={
        **MCP_HEADERS, "Authorization": f"Bearer {_token(SEATTLE)}"})
    assert response.status_code == 413


# --- through the SDK's streamable HTTP client ---------------------------------------------------


async def call_tool_with_token(server: RunningServer, token: str, tool: str,
                               arguments: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http, \
            Client(streamable_http_client(server.mcp_url, http_client=http)) as client:
        result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def _visible_store_ids(server: RunningServer, token: str) -> set[str]:
    content = await call_tool_with_token(server, token, "execute_sales_query",
                                         {"postgresql_query": STORES_SQL})
    return {row[0] for row in content["rows"]}


@pytest.mark.anyio
async def test_whoami_is_the_token_subject(server: RunningServer) -> None:
    seattle = await call_tool_with_token(server, _token(SEATTLE), "whoami", {})
    assert seattle["user_id"] == SEATTLE
    assert [s["store"] for s in seattle["stores"]] == ["Zava Retail Seattle"]
    head_office = await call_tool_with_token(server, _token(HEAD_OFFICE), "whoami", {})
    assert head_office["role"] == "head_office"
    assert len(head_office["stores"]) == 8


@pytest.mark.anyio
async def test_sales_query_rows_are_limited_to_the_token_user(server: RunningServer) -> None:
    assert await _visible_store_ids(server, _token(SEATTLE)) == {str(SEATTLE_STORE.store_id)}
    assert len(await _visible_store_ids(server, _token(HEAD_OFFICE))) == 8


@pytest.mark.anyio
async def test_concurrent_users_never_see_each_others_rows(server: RunningServer) -> None:
    seattle_only = {str(SEATTLE_STORE.store_id)}
    tokens = {user: _token(user) for user in (SEATTLE, REGIONAL, HEAD_OFFICE)}
    expected_counts = {SEATTLE: 1, REGIONAL: 6, HEAD_OFFICE: 8}
    seen: list[tuple[str, set[str]]] = []

    async def ask(user: str) -> None:
        seen.append((user, await _visible_store_ids(server, tokens[user])))

    async with anyio.create_task_group() as tg:
        for _ in range(6):
            for user in tokens:
                tg.start_soon(ask, user)

    assert len(seen) == 18
    for user, stores in seen:
        assert len(stores) == expected_counts[user], user
        if user == SEATTLE:
            assert stores == seattle_only
        else:
            assert seattle_only <= stores


# --- the CLI ----------------------------------------------------------------------------------


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAVA_")}
    return {**env, "ZAVA_LOG_LEVEL": "WARNING", **extra}


def test_token_command_prints_one_verifiable_line(database: DatabaseEndpoints,
                                                 data_dir: Path) -> None:
    done = _cli("token", "--user", SEATTLE, "--ttl", "120",
                env=_clean_env(ZAVA_JWT_SECRET=SECRET, ZAVA_DATA_DIR=str(data_dir)))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    claims = JwtVerifier.with_secret(SECRET).verify(lines[0])
    assert claims["sub"] == SEATTLE
    assert 100 <= claims["exp"] - time.time() <= 120


def test_token_command_refuses_an_unregistered_user_as_the_server_does(
    database: DatabaseEndpoints, data_dir: Path
) -> None:
    done = _cli("token", "--user", "auth0|stranger",
                env=_clean_env(ZAVA_JWT_SECRET=SECRET, ZAVA_DATA_DIR=str(data_dir)))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "zava-mcp: error: user 'auth0|stranger' is not registered on this server; an operator"
        " registers them with `zava-mcp users add --id 'auth0|stranger' --name NAME"
        " --role store_manager|regional_manager|head_office [--stores LIST]`\n")


def test_token_command_uses_the_local_secret_file(database: DatabaseEndpoints,
                                                  data_dir: Path) -> None:
    env = _clean_env(ZAVA_DATA_DIR=str(data_dir))
    secret_file = data_dir / "jwt-secret"
    secret_file.unlink(missing_ok=True)  # no server of this session signs with it right now
    done = _cli("token", "--user", HEAD_OFFICE, env=env)
    assert done.returncode == 0, done.stderr
    assert secret_file.stat().st_mode & 0o777 == 0o600
    claims = JwtVerifier.with_secret(secret_file.read_text().strip()).verify(done.stdout.strip())
    assert claims["sub"] == HEAD_OFFICE
    # creating the secret is said on stderr (a server elsewhere would refuse the token) ...
    assert f"created a new signing secret {secret_file}" in done.stderr
    assert "ZAVA_DATA_DIR" in done.stderr
    # ... once: the next token is signed with the same secret, silently
    again = _cli("token", "--user", HEAD_OFFICE, env=env)
    assert again.returncode == 0
    assert again.stderr == ""
    assert JwtVerifier.with_secret(secret_file.read_text().strip()).verify(again.stdout.strip())


@pytest.mark.parametrize("argv", [["--user", ""], ["--user", "x" * 256],
                                  ["--user", SEATTLE, "--ttl", "0"],
                                  ["--user", SEATTLE, "--ttl", str(31 * 24 * 3600)]])
def test_token_command_rejects_bad_arguments_in_one_line(tmp_path: Path, argv: list[str]) -> None:
    done = _cli("token", *argv, env=_clean_env(ZAVA_JWT_SECRET=SECRET,
                                               ZAVA_DATA_DIR=str(tmp_path)))
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "zava-mcp token: error:" in done.stderr


def test_serve_http_refuses_a_generated_secret_off_loopback(tmp_path: Path) -> None:
    done = _cli("serve", "--transport", "http", "--host", "0.0.0.0",
                env=_clean_env(ZAVA_DATA_DIR=str(tmp_path)))
    assert done.returncode == 2
    assert "ZAVA_JWT_SECRET" in done.stderr
    assert not (tmp_path / "jwt-secret").exists()


@pytest.mark.anyio
async def test_serve_http_quick_start(database: DatabaseEndpoints, data_dir: Path,
                                      tmp_path: Path) -> None:
    """`zava-mcp serve --transport http` with no secret: it prints how to connect, and a token
    from `zava-mcp token` (same data dir) works against it."""
    port = free_port()
    env = _clean_env(ZAVA_DATA_DIR=str(data_dir), ZAVA_POOL_MIN="1", ZAVA_POOL_MAX="2")
    stderr_path = tmp_path / "serve.stderr"
    process = start_serve_http(port, env, stderr_path)
    base_url = f"http://127.0.0.1:{port}"
    try:
        await anyio.to_thread.run_sync(wait_healthy, base_url)
        banner = stderr_path.read_text()
        assert f"{base_url}/mcp" in banner
        assert '"Authorization": "Bearer ey' in banner
        minted = _cli("token", "--user", REGIONAL, env=env)
        assert minted.returncode == 0, minted.stderr
        me = await call_tool_with_token(RunningServer(base_url), minted.stdout.strip(),
                                        "whoami", {})
        assert me["user_id"] == REGIONAL
        assert len(me["stores"]) == 6
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert out == b"", "the HTTP server must not write to stdout"
    assert process.returncode in (0, 128 + signal.SIGTERM)


@pytest.mark.anyio
async def test_make_serve_accepts_a_bare_token_command(database: DatabaseEndpoints,
                                                       data_dir: Path, tmp_path: Path) -> None:
    """The README's quick start: `make serve` in one shell, `.venv/bin/zava-mcp token` in
    another, ZAVA_DATA_DIR in neither. Both must use the per-user data directory (here
    XDG_DATA_HOME/zava-mcp, pointed at the session's database), or the token is signed with
    another secret and refused (the Makefile once set its own data directory)."""
    xdg = tmp_path / "xdg"
    xdg.mkdir()
    (xdg / "zava-mcp").symlink_to(data_dir)
    secret_file = data_dir / "jwt-secret"
    secret_file.unlink(missing_ok=True)  # the server creates it, the token command reuses it
    port = free_port()
    env = {k: v for k, v in _clean_env(XDG_DATA_HOME=str(xdg)).items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(ZAVA_POOL_MIN="1", ZAVA_POOL_MAX="2")
    with (tmp_path / "serve.stderr").open("w") as stderr:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "serve", f"SERVE_PORT={port}"], cwd=REPO_ROOT,
            env=env, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        await anyio.to_thread.run_sync(wait_healthy, base_url)
        banner = (tmp_path / "serve.stderr").read_text()
        assert "(`zava-mcp token --user ID [--ttl S]` mints more)" in banner
        minted = _cli("token", "--user", REGIONAL, env=env)
        assert minted.returncode == 0, minted.stderr
        assert minted.stderr == "", "the token command must find the server's secret"
        me = await call_tool_with_token(RunningServer(base_url), minted.stdout.strip(),
                                        "whoami", {})
        assert me["user_id"] == REGIONAL
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=30)


@pytest.mark.anyio
async def test_a_user_at_their_query_limit_still_passes_the_token_check(
    database: DatabaseEndpoints, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    """ZAVA_USER_MAX_IN_FLIGHT=1 and nothing remembered: while the user's one query runs,
    their next request's token check looks them up again. It is let through without a word in
    the log, and whoami (which needs only that lookup) answers. Before, the lookup waited for
    the user's slot, was refused RATE_LIMITED (a WARNING with a traceback), and so was whoami.
    The user's query is held by a lock on the table it reads (no CPU spent), the lookup reads
    other tables."""
    settings = Settings(
        data_dir=tmp_path, pool_min=1, pool_max=4, jwt_secret=SECRET, jwt_jwks_url=None,
        jwt_issuer=None, jwt_audience=None, public_url=None, allowed_hosts=[],
        user_max_in_flight=1, user_queue_s=0.2, access_cache_ttl_s=0,
    )
    container = Container(settings=settings)
    container.database_endpoints.override(providers.Object(database))
    headers = {"Authorization": f"Bearer {mint_token(SECRET, SEATTLE, 300)}"}
    with psycopg.connect(database.admin_url) as lock, \
            serve_in_thread(lambda port: build_http_app(container, settings, "127.0.0.1", port)
                            ) as running:
        lock.execute("LOCK TABLE retail.inventory IN ACCESS EXCLUSIVE MODE")
        async with httpx2.AsyncClient(headers=headers, timeout=30) as http, \
                Client(streamable_http_client(running.mcp_url, http_client=http)) as client, \
                anyio.create_task_group() as calls:
            calls.start_soon(client.call_tool, "execute_sales_query",
                             {"postgresql_query": "SELECT count(*) FROM inventory"})
            await _until_waiting_for_a_lock(database, "FROM inventory")
            whoami = await client.call_tool("whoami", {})
            lock.rollback()  # the user's query goes on
    assert not whoami.is_error, whoami.content
    assert whoami.structured_content is not None
    assert whoami.structured_content["user_id"] == SEATTLE
    assert "could not check user" not in caplog.text


async def _until_waiting_for_a_lock(database: DatabaseEndpoints, fragment: str) -> None:
    """Until a statement containing `fragment` waits for a lock in the database."""
    with anyio.fail_after(60):
        while True:
            with psycopg.connect(database.admin_url) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE %s", (f"%{fragment}%",)).fetchone()
            if row is not None and row[0] > 0:
                return
            await anyio.sleep(0.05)
