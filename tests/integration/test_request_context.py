"""The RLS context cannot be forged from SQL: only a value signed with the server's key, for
this backend, issued moments ago, is honoured. Anything else means "nobody".

The same tests run on a Citus cluster (tests/integration/citus/), where "this backend" is the
Citus global pid and the context is propagated to the workers: hence `backend(conn)` and
`stores_seen` propagating where the database asks for it."""

from __future__ import annotations

import hashlib
import hmac
import time

import psycopg
import pytest

from adapters.demodata.reference import USERS
from adapters.postgres.request_context import (
    PROPAGATE_CONTEXT,
    ContextSigner,
    backend_binding,
    read_context_key,
)
from ports.database_server import DatabaseEndpoints

pytestmark = pytest.mark.integration

SEATTLE = USERS[0]
HEAD_OFFICE = USERS[-1]
COUNT_STORES = "SELECT count(DISTINCT store_id) FROM retail.orders"


def backend(conn: psycopg.Connection) -> int:
    """The backend id a context for this connection is bound to (pid, or Citus global pid)."""
    return backend_binding(conn)[0]


def set_context(conn: psycopg.Connection, context: str) -> None:
    """As the server does: set_config, then (on Citus) propagate to the workers."""
    conn.execute("SELECT set_config('zava.context', %s, true)", (context,))
    if backend_binding(conn)[1]:
        conn.execute(PROPAGATE_CONTEXT)


def stores_seen(conn: psycopg.Connection, context: str | None) -> int:
    with conn.transaction(force_rollback=True):
        if context is not None:
            set_context(conn, context)
        row = conn.execute(COUNT_STORES).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def conn(database: DatabaseEndpoints):
    with psycopg.connect(database.query_url, autocommit=True) as conn:
        yield conn


def test_a_signed_context_is_honoured(conn: psycopg.Connection, signer: ContextSigner) -> None:
    pid = backend(conn)
    assert stores_seen(conn, signer.sign("query", str(SEATTLE.user_id), pid)) == 1
    assert stores_seen(conn, signer.sign("query", str(HEAD_OFFICE.user_id), pid)) == 8


def test_every_signature_from_one_signer_is_honoured(
    conn: psycopg.Connection, signer: ContextSigner,
) -> None:
    """The signer copies one keyed HMAC state per signature: signing must not change it."""
    pid = backend(conn)
    contexts = [signer.sign("query", str(user.user_id), pid)
                for user in (SEATTLE, HEAD_OFFICE, SEATTLE, HEAD_OFFICE)]
    assert len(set(contexts)) == 4  # each with its own nonce
    assert [stores_seen(conn, c) for c in contexts] == [1, 8, 1, 8]


def test_no_context_sees_nothing(conn: psycopg.Connection) -> None:
    assert stores_seen(conn, None) == 0


def test_the_seed_style_plain_user_id_is_ignored(conn: psycopg.Connection) -> None:
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT set_config('zava.user_id', %s, true)", (str(HEAD_OFFICE.user_id),))
        conn.execute("SELECT set_config('app.current_rls_user_id', %s, true)",
                     (str(HEAD_OFFICE.user_id),))
        assert conn.execute(COUNT_STORES).fetchone() == (0,)


def test_changing_the_subject_breaks_the_signature(
    conn: psycopg.Connection, signer: ContextSigner
) -> None:
    valid = signer.sign("query", str(SEATTLE.user_id), backend(conn))
    forged = valid.replace(SEATTLE.user_id.encode().hex(), HEAD_OFFICE.user_id.encode().hex())
    assert forged != valid
    assert stores_seen(conn, forged) == 0


def test_the_old_plain_subject_format_is_not_honoured(
    conn: psycopg.Connection, database: DatabaseEndpoints
) -> None:
    """A v1 context (subject as plain text), even correctly signed, means nobody now (sql/020):
    only the hex-encoded v2 form is parsed."""
    key = read_context_key(database.admin_url)
    message = (f"v1|query|{HEAD_OFFICE.user_id}|{backend(conn)}"
               f"|{time.time_ns() // 1_000_000}|{'0' * 32}")
    signature = hmac.new(key, message.encode(), hashlib.sha256).hexdigest()
    assert stores_seen(conn, f"{message}|{signature}") == 0


def test_a_key_guess_is_not_honoured(conn: psycopg.Connection) -> None:
    guess = ContextSigner(bytes(64))
    assert stores_seen(conn, guess.sign("query", str(HEAD_OFFICE.user_id),
                                        backend(conn))) == 0


def test_a_context_from_another_backend_is_not_honoured(
    conn: psycopg.Connection, signer: ContextSigner, database: DatabaseEndpoints
) -> None:
    with psycopg.connect(database.query_url) as other:
        stolen = signer.sign("query", str(HEAD_OFFICE.user_id), backend(other))
    assert stores_seen(conn, stolen) == 0


def test_a_stale_context_is_not_honoured(
    conn: psycopg.Connection, signer: ContextSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    ten_minutes_ago = time.time_ns() - 600 * 10**9
    monkeypatch.setattr(time, "time_ns", lambda: ten_minutes_ago)
    stale = signer.sign("query", str(HEAD_OFFICE.user_id), backend(conn))
    monkeypatch.undo()
    assert stores_seen(conn, stale) == 0


def test_an_audit_context_grants_no_rows(conn: psycopg.Connection, signer: ContextSigner) -> None:
    audit = signer.sign("audit", str(HEAD_OFFICE.user_id), backend(conn))
    assert stores_seen(conn, audit) == 0


@pytest.mark.parametrize(
    "value",
    ["", "garbage", "v1|query|" + "a" * 500, "v1|query|x|1|1|1|1", "v2|query|||||",
     "v2|query|abc|1|1|1|1", "v2|query|" + "ab" * 1100 + "|1|1|1|1",
     # well-formed but for one part's length (a count the pattern does not carry); a number
     # too long for bigint must not make the check fail with an error
     "v2|query|abc|1|1764547200000|" + "a" * 32 + "|" + "a" * 64,
     "v2|query|ab|" + "9" * 25 + "|1764547200000|" + "a" * 32 + "|" + "a" * 64,
     "v2|query|ab|1|" + "9" * 25 + "|" + "a" * 32 + "|" + "a" * 64,
     "v2|query|ab|1|1764547200000|" + "a" * 31 + "|" + "a" * 64,
     "v2|query|ab|1|1764547200000|" + "a" * 32 + "|" + "a" * 65],
)
def test_malformed_contexts_see_nothing(conn: psycopg.Connection, value: str) -> None:
    assert stores_seen(conn, value) == 0


def test_the_key_and_signing_functions_are_out_of_reach(conn: psycopg.Connection) -> None:
    for statement in (
        "SELECT key FROM access.context_key",
        "SELECT access.context_signature('x')",
        "SELECT * FROM access.verified_context()",
        "SELECT access.context_user_id()",
    ):
        with conn.transaction(force_rollback=True), pytest.raises(
            psycopg.errors.InsufficientPrivilege
        ):
            conn.execute(statement)


def test_the_audit_path_refuses_the_query_role(
    conn: psycopg.Connection, signer: ContextSigner
) -> None:
    with conn.transaction(force_rollback=True):
        conn.execute("SET TRANSACTION READ WRITE")
        set_context(conn, signer.sign("query", str(HEAD_OFFICE.user_id), backend(conn)))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="signed audit context"):
            conn.execute("SELECT audit.append_tool_calls('[]'::jsonb)")


@pytest.mark.anyio
async def test_the_signed_context_never_appears_in_statement_text(
    gateway, database: DatabaseEndpoints
) -> None:
    async with gateway.session(SEATTLE.user_id):
        # the backend's last statement is the one that set the context
        with psycopg.connect(database.admin_url) as admin:
            texts = [r[0] for r in admin.execute(
                "SELECT query FROM pg_stat_activity WHERE usename = 'zava_query'")]
    assert texts
    assert not any("|query|" in (t or "") for t in texts)
