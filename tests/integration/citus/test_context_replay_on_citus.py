"""A live request's context cannot be replayed through the coordinator (issue 16: "a value
that travels to the workers in statement text must not be replayable").

The attacker here has the application's credentials (so opens coordinator sessions as the query
role, with the guard out of the way) and, somehow, the values of a live request: the server's
context and the value that travelled to the workers. Citus lets any session claim the request's
global pid (`application_name`, at login or later) and the coordinator checks the context only
while planning; what stops the replay is that the workers honour only a value bound to the
request's distributed transaction, which no other session can join
(adapters/postgres/citus_context.py)."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from adapters.demodata.reference import USERS
from adapters.postgres import citus
from adapters.postgres.request_context import ContextSigner
from ports.database_server import DatabaseEndpoints
from tests.integration.citus.conftest import LiveRequest
from tests.integration.test_request_context import set_context

HEAD_OFFICE = USERS[-1]
ORDERS = "SELECT count(*) FROM retail.orders"


def _claiming(database: DatabaseEndpoints, gpid: int, at_login: bool) -> psycopg.Connection:
    claim = f"citus_internal gpid={gpid}"
    if at_login:
        return psycopg.connect(database.query_url, application_name=claim, autocommit=True)
    conn = psycopg.connect(database.query_url, autocommit=True)
    conn.execute(f"SET application_name = '{claim}'")
    return conn


def test_the_workers_get_a_value_bound_to_the_requests_distributed_transaction(
    live_request: LiveRequest,
) -> None:
    assert live_request.worker_context.startswith("v3|")
    assert live_request.worker_context != live_request.server_context
    assert live_request.worker_context.split("|")[6] == str(live_request.transaction_number)


@pytest.mark.parametrize("at_login", [True, False], ids=["at login", "with SET"])
def test_a_session_claiming_the_requests_global_pid_gets_no_context(
    database: DatabaseEndpoints, live_request: LiveRequest, at_login: bool
) -> None:
    """Set and propagated as the server does, the claimed context is refused outright (a failed
    check alone would not do: the coordinator lets the workers decide)."""
    with _claiming(database, live_request.global_pid, at_login) as attacker:
        assert attacker.execute("SELECT citus_backend_gpid()").fetchone() == (
            live_request.global_pid,)
        with attacker.transaction(force_rollback=True), pytest.raises(
                psycopg.errors.InsufficientPrivilege,
                match="claims the global pid of another backend"):
            set_context(attacker, live_request.server_context)
        for statement in (ORDERS, "SELECT count(*) FROM retail.customers"
                                  " WHERE store_id IS NOT NULL"):
            with attacker.transaction(force_rollback=True):
                attacker.execute("SELECT set_config('zava.context', %s, true)",
                                 (live_request.server_context,))
                with pytest.raises(psycopg.errors.InsufficientPrivilege,
                                   match="claims the global pid of another backend"):
                    attacker.execute(statement)


@pytest.mark.parametrize("value", ["server_context", "worker_context"])
@pytest.mark.parametrize("at_login", [True, False], ids=["at login", "with SET"])
def test_a_context_sent_to_the_workers_but_cleared_on_the_coordinator_shows_nothing(
    database: DatabaseEndpoints, live_request: LiveRequest, at_login: bool, value: str
) -> None:
    """SET LOCAL travels to the workers; set_config() afterwards changes the coordinator's
    value only, so the coordinator's check (and its claim refusal) never sees the context."""
    with _claiming(database, live_request.global_pid, at_login) as attacker, \
            attacker.transaction(force_rollback=True):
        attacker.execute(f"SET LOCAL zava.context = '{getattr(live_request, value)}'")
        attacker.execute("SELECT set_config('zava.context', '', true)")
        assert attacker.execute(ORDERS).fetchone() == (0,)


@pytest.mark.parametrize("value", ["server_context", "worker_context"])
def test_a_cursor_declared_before_claiming_the_global_pid_shows_nothing(
    database: DatabaseEndpoints, live_request: LiveRequest, value: str
) -> None:
    """Planned under the session's own global pid (the check fails without raising), fetched
    after claiming the request's: the workers see the claimed global pid."""
    with psycopg.connect(database.query_url, autocommit=True) as attacker, \
            attacker.transaction(force_rollback=True):
        if value == "server_context":
            set_context(attacker, live_request.server_context)
        else:
            attacker.execute(f"SET LOCAL zava.context = '{live_request.worker_context}'")
        attacker.execute(f"DECLARE c CURSOR FOR {ORDERS}")
        attacker.execute(f"SET application_name = 'citus_internal gpid={live_request.global_pid}'")
        assert attacker.execute("FETCH ALL c").fetchall() == [(0,)]


@pytest.mark.parametrize("stamp", ["guessed", "known"])
def test_joining_the_requests_distributed_transaction_needs_its_secret_stamp(
    database: DatabaseEndpoints, live_request: LiveRequest, stamp: str
) -> None:
    """Citus needs assign_distributed_transaction_id() callable by the query role (it calls it
    over connections to the coordinator itself): a session can take the request's number, but
    the value is signed over the transaction's stamp too, which it does not carry. The known
    stamp is the control: with it, the replay would work."""
    known = live_request.transaction_stamp
    with _claiming(database, live_request.global_pid, at_login=True) as attacker, \
            attacker.transaction(force_rollback=True):
        attacker.execute(
            "SELECT assign_distributed_transaction_id(0, %s, %s)",
            (live_request.transaction_number,
             known if stamp == "known" else known + timedelta(microseconds=1)))
        attacker.execute(f"SET LOCAL zava.context = '{live_request.worker_context}'")
        attacker.execute("SELECT set_config('zava.context', '', true)")  # past the claim check
        (orders,) = attacker.execute(ORDERS).fetchone() or (0,)
    assert (orders > 0) == (stamp == "known")


@pytest.mark.parametrize("function", [
    "get_all_active_transactions()", "get_global_active_transactions()",
    "citus_internal_local_blocked_processes()", "citus_internal_global_blocked_processes()",
    "dump_local_wait_edges()", "dump_global_wait_edges()", "citus_stat_activity",
    "citus_dist_stat_activity", "citus_lock_waits",
])
def test_the_query_role_sees_no_other_backends_transaction_stamp(
    database: DatabaseEndpoints, live_request: LiveRequest, function: str
) -> None:
    with psycopg.connect(database.query_url) as attacker, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):
        attacker.execute(f"SELECT * FROM {function}")


def test_the_context_is_propagated_before_the_transactions_first_distributed_statement(
    database: DatabaseEndpoints, signer: ContextSigner
) -> None:
    """After one, Citus has stamped the transaction with the time (a guessable secret)."""
    with psycopg.connect(database.query_url) as conn:
        (gpid,) = conn.execute("SELECT citus_backend_gpid()").fetchone() or (0,)
        conn.rollback()
        conn.execute(ORDERS)
        conn.execute("SELECT set_config('zava.context', %s, true)",
                     (signer.sign("query", str(HEAD_OFFICE.user_id), int(gpid)),))
        with pytest.raises(psycopg.errors.ActiveSqlTransaction,
                           match="before the transaction's first distributed statement"):
            conn.execute("SELECT access.propagate_context()")


def test_the_worker_value_is_void_in_the_requests_next_transaction(
    database: DatabaseEndpoints, signer: ContextSigner
) -> None:
    """The same backend (so the same global pid), the next transaction: the value that
    travelled to the workers for the previous request shows nothing."""
    with psycopg.connect(database.query_url) as conn:
        (gpid,) = conn.execute("SELECT citus_backend_gpid()").fetchone() or (0,)
        conn.rollback()
        with conn.transaction(force_rollback=True):
            set_context(conn, signer.sign("query", str(HEAD_OFFICE.user_id), int(gpid)))
            (propagated,) = conn.execute(
                "SELECT current_setting('zava.context')").fetchone() or ("",)
            assert conn.execute(ORDERS).fetchone() != (0,)
        with conn.transaction(force_rollback=True):
            conn.execute(f"SET LOCAL zava.context = '{propagated}'")
            assert conn.execute(ORDERS).fetchone() == (0,)


def test_a_check_installed_by_an_earlier_init_is_replaced(database: DatabaseEndpoints) -> None:
    """A cluster set up by an earlier `db init` (before the transaction binding, its check
    honoured the global pid's context on every node) gets the current check from the next."""
    with psycopg.connect(database.admin_url) as conn:
        (definition,) = conn.execute(
            "SELECT pg_get_functiondef('access.verified_context()'::regprocedure)"
        ).fetchone() or ("",)
        conn.execute("SET ROLE zava_owner")
        # the check as an earlier version of `db init` left it: any other body
        conn.execute(definition.replace("RETURN;", "RETURN;  -- earlier", 1))
    changed = citus.distribute(database.admin_url)
    assert any("bound to the request's distributed transaction" in c for c in changed), changed
    with psycopg.connect(database.admin_url) as conn:
        assert conn.execute(
            "SELECT pg_get_functiondef('access.verified_context()'::regprocedure)"
        ).fetchone() == (definition,)
    assert citus.distribute(database.admin_url) == []


@pytest.mark.parametrize("value", [
    "v3|query|ab|1|1764547200000|" + "a" * 32 + "|" + "9" * 25 + "|" + "a" * 64,
    "v3|query|ab|" + "9" * 25 + "|1764547200000|" + "a" * 32 + "|1|" + "a" * 64,
    "v3|query|abc|1|1764547200000|" + "a" * 32 + "|1|" + "a" * 64,
], ids=["number too long", "global pid too long", "odd subject"])
def test_malformed_worker_values_see_nothing(database: DatabaseEndpoints, value: str) -> None:
    with psycopg.connect(database.query_url) as conn, conn.transaction(force_rollback=True):
        conn.execute(f"SET LOCAL zava.context = '{value}'")
        assert conn.execute(ORDERS).fetchone() == (0,)
