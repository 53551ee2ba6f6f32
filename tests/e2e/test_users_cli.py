"""`zava-mcp users ...` as an operator runs it (subprocesses on the session's database), and what
a change does to a caller over HTTP with the result cache on: a revoke takes effect on their
next call, a removed user is refused with how to register them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import jwt
import psycopg
import pytest

from adapters.demodata.reference import BELLEVUE, SEATTLE, USERS
from adapters.postgres.request_context import ContextSigner
from ports.database_server import DatabaseEndpoints
from tests.e2e.test_cli import zava
from tests.e2e.test_http_auth import call_tool_with_token
from tests.support.db_state import database_state
from tests.support.http_server import RunningServer, serve_with_secret

pytestmark = pytest.mark.e2e

SECRET = "users-cli-test-secret-that-is-long-enough-for-hs256"
HEAD_OFFICE = USERS[9].user_id
STORES_SQL = "SELECT DISTINCT store_id FROM retail.orders ORDER BY 1"


def _token(user: str) -> str:
    now = int(time.time())
    return jwt.encode({"iss": "zava-mcp", "aud": "zava-retail", "sub": user, "iat": now,
                       "exp": now + 300, "scope": "zava:read"}, SECRET, algorithm="HS256")


def _ok(data_dir: Path, *args: str) -> str:
    done = zava(data_dir, "users", *args)
    assert done.returncode == 0, done.stderr
    return done.stderr


def _users(data_dir: Path) -> dict[str, dict[str, Any]]:
    return {u["user_id"]: u for u in json.loads(zava(data_dir, "users", "--json").stdout)}


def _changes(admin_url: str, user_id: str) -> list[tuple[str, dict[str, Any]]]:
    with psycopg.connect(admin_url) as conn:
        return [(r[0], r[1]) for r in conn.execute(
            "SELECT action, details FROM audit.access_changes WHERE user_id = %s"
            " ORDER BY change_id", (user_id,)).fetchall()]


@pytest.fixture
def registered(database: DatabaseEndpoints, data_dir: Path) -> Iterator[list[str]]:
    """Ids a test registers; removed again afterwards (other tests count the demo users)."""
    ids: list[str] = []
    yield ids
    for user_id in ids:
        zava(data_dir, "users", "remove", "--id", user_id)


def test_add_grant_revoke_remove_with_an_audit_record_each(
    database: DatabaseEndpoints, data_dir: Path, registered: list[str]
) -> None:
    user = "auth0|r15-regional"  # an identity provider's id, not a UUID
    registered.append(user)
    said = _ok(data_dir, "add", "--id", user, "--name", "Pat Regional",
               "--role", "regional_manager", "--stores", "sea,Zava Retail Bellevue")
    assert "registered auth0|r15-regional" in said
    assert _users(data_dir)[user]["store_codes"] == ["BEL", "SEA"]
    _ok(data_dir, "grant", "--id", user, "--stores", "Tacoma")
    _ok(data_dir, "revoke", "--id", user, "--stores", "BEL")
    assert _users(data_dir)[user]["stores"] == ["Zava Retail Seattle", "Zava Retail Tacoma"]
    _ok(data_dir, "remove", "--id", user)
    registered.clear()
    assert user not in _users(data_dir)
    assert _changes(database.admin_url, user) == [
        ("add", {"display_name": "Pat Regional", "role": "regional_manager",
                 "stores_added": ["BEL", "SEA"]}),
        ("grant", {"display_name": "Pat Regional", "role": "regional_manager",
                   "stores_added": ["TAC"]}),
        ("revoke", {"display_name": "Pat Regional", "role": "regional_manager",
                    "stores_removed": ["BEL"]}),
        ("remove", {"display_name": "Pat Regional", "role": "regional_manager",
                    "stores_removed": ["SEA", "TAC"]}),
    ]


@pytest.mark.parametrize(("args", "fragment"), [
    (("add", "--id", "r15-x", "--name", "X", "--role", "store_manager", "--stores", "Portland"),
     "unknown store 'Portland'; accepted: store codes, names or cities"),
    (("add", "--id", "r15-x", "--name", "X", "--role", "cashier"),
     "invalid choice: 'cashier' (choose from 'store_manager', 'regional_manager', 'head_office')"),
    (("add", "--id", "r15-x", "--name", "X", "--role", "head_office", "--stores", "SEA"),
     "head office sees every store, including stores added later: leave out --stores"),
    (("remove", "--id", HEAD_OFFICE), "is the last head office user and cannot be removed"),
    (("add", "--id", USERS[0].user_id, "--name", "Again", "--role", "store_manager"),
     "is already registered (Seattle store manager, store_manager)"),
    (("add", "--id", "x" * 256, "--name", "X", "--role", "store_manager"),
     "a user id is 1 to 255 characters"),
    (("grant", "--id", "nobody-r15", "--stores", "SEA"), "unknown user 'nobody-r15'"),
    (("revoke", "--id", HEAD_OFFICE, "--stores", "SEA"), "head office sees every store"),
])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    database: DatabaseEndpoints, data_dir: Path, args: tuple[str, ...], fragment: str
) -> None:
    before = database_state(database.admin_url)
    done = zava(data_dir, "users", *args)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == ""
    assert database_state(database.admin_url) == before


def test_head_office_sees_stores_added_later(
    database: DatabaseEndpoints, data_dir: Path, signer: ContextSigner, registered: list[str]
) -> None:
    registered.append("r15-second-analyst")
    _ok(data_dir, "add", "--id", "r15-second-analyst", "--name", "Second analyst",
        "--role", "head_office")
    assert len(_users(data_dir)["r15-second-analyst"]["stores"]) == 8
    with psycopg.connect(database.admin_url) as conn, conn.transaction(force_rollback=True):
        conn.execute("INSERT INTO retail.stores (code, name, city, region_id)"
                     " SELECT 'NEW', 'Zava Retail Olympia', 'Olympia', region_id"
                     " FROM retail.stores WHERE code = 'SEA'")
        conn.execute("SET LOCAL ROLE zava_query")
        conn.execute("SELECT set_config('zava.context', %s, true)", (
            signer.sign("query", "r15-second-analyst", conn.info.backend_pid),))
        row = conn.execute("SELECT cardinality(access.visible_store_ids())").fetchone()
    assert row == (9,)


@pytest.fixture
def server(database: DatabaseEndpoints, tmp_path: Path) -> Iterator[RunningServer]:
    """The HTTP server with the result cache on (in memory, 300 s)."""
    with serve_with_secret(database, tmp_path, SECRET) as running:
        yield running


async def _call(server: RunningServer, user: str, tool: str,
                arguments: dict[str, Any]) -> dict[str, Any]:
    return await call_tool_with_token(server, _token(user), tool, arguments)


async def _stores(server: RunningServer, user: str) -> set[str]:
    content = await _call(server, user, "execute_sales_query", {"postgresql_query": STORES_SQL})
    return {row[0] for row in content["rows"]}


@pytest.mark.anyio
async def test_a_revoke_takes_effect_on_the_next_call_with_the_cache_on(
    server: RunningServer, data_dir: Path, registered: list[str]
) -> None:
    user = "okta-00u-r15-revoke"
    registered.append(user)
    _ok(data_dir, "add", "--id", user, "--name", "Revoked", "--role", "regional_manager",
        "--stores", "SEA,BEL")
    both = {str(SEATTLE.store_id), str(BELLEVUE.store_id)}
    assert await _stores(server, user) == both
    assert await _stores(server, user) == both  # now a cache hit on a remembered scope
    _ok(data_dir, "revoke", "--id", user, "--stores", "BEL")
    assert await _stores(server, user) == {str(SEATTLE.store_id)}
    me = await _call(server, user, "whoami", {})
    assert [s["store"] for s in me["stores"]] == ["Zava Retail Seattle"]
    _ok(data_dir, "remove", "--id", user)
    registered.clear()
    refused = httpx2.post(server.mcp_url, timeout=10, json={
        "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}, headers={
        "Authorization": f"Bearer {_token(user)}", "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream"})
    assert refused.status_code == 403
    assert "not registered" in refused.json()["error_description"]
