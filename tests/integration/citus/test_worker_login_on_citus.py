"""The query role's worker sessions are the coordinator's alone (issue 16: "a value that travels
to the workers in statement text must not be replayable").

The signed context reaches the workers as `SET LOCAL zava.context = '…'` statement text, and
any client that logs in to a worker can claim the request's global pid there. So `db init` gives
zava_query a password of its own on each worker, known only to the coordinator
(pg_dist_authinfo), and the workers ask zava_query for a password (tests/.../cluster.py's
pg_hba.conf, as an operator configures them): the application's credentials open no worker
session, so a value read from a worker's log cannot be presented there."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import psycopg
import pytest

from adapters.demodata.reference import USERS
from adapters.postgres import citus
from adapters.postgres.citus_worker_login import (
    PG_HBA_LINES,
    WORKER_SCRAM_ITERATIONS,
    WorkerLoginError,
    password_matches,
    separate_worker_passwords,
)
from adapters.postgres.gateway import DatabaseGateway
from ports.database_server import DatabaseEndpoints
from tests.integration.citus.cluster import CitusCluster, Node
from tests.integration.citus.conftest import APP_PASSWORD, QUERY_ROLE, LiveRequest

HEAD_OFFICE = USERS[-1]


def verifier(url: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s",
                           (QUERY_ROLE,)).fetchone()
    assert row is not None
    return str(row[0])


def worker_passwords(admin_url: str) -> dict[int, str]:
    with psycopg.connect(admin_url) as conn:
        return {port: authinfo.removeprefix("password=") for port, authinfo in conn.execute(
            "SELECT n.nodeport, a.authinfo FROM pg_dist_authinfo AS a"
            " JOIN pg_dist_node AS n USING (nodeid) WHERE a.rolename = %s", (QUERY_ROLE,))}


def test_the_applications_credentials_open_no_worker_session(
    app_worker_urls: dict[str, str], database: DatabaseEndpoints
) -> None:
    with psycopg.connect(database.query_url) as coordinator:  # the same credentials: accepted
        assert coordinator.execute("SELECT current_user").fetchone() == (QUERY_ROLE,)
    for url in app_worker_urls.values():
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(url)


def test_each_worker_has_a_password_of_its_own_and_the_coordinator_keeps_the_apps(
    database: DatabaseEndpoints, worker_admin_urls: dict[str, str], citus_cluster: CitusCluster
) -> None:
    assert password_matches(APP_PASSWORD, verifier(database.admin_url))
    passwords = worker_passwords(database.admin_url)
    assert sorted(passwords) == sorted(w.port for w in citus_cluster.workers)
    distinct = len(set(passwords.values()))  # (never in an assertion's output: no values)
    assert distinct == len(passwords)
    for worker in citus_cluster.workers:
        on_worker = verifier(worker.url())
        assert not password_matches(APP_PASSWORD, on_worker)
        own_password_works = password_matches(passwords[worker.port], on_worker)
        assert own_password_works, worker.name


@pytest.fixture
def nodes_log_statements(citus_cluster: CitusCluster) -> Iterator[list[Node]]:
    """log_statement = all on the coordinator and worker1 (a careless log setting)."""
    nodes = [citus_cluster.coordinator, citus_cluster.workers[0]]
    for node in nodes:
        _set_log_statement(node, "all")
    try:
        yield nodes
    finally:
        for node in nodes:
            _set_log_statement(node, None)


def _set_log_statement(node: Node, value: str | None) -> None:
    with psycopg.connect(node.url(), autocommit=True) as conn:
        if value is None:
            conn.execute("ALTER SYSTEM RESET log_statement")
        else:
            conn.execute("ALTER SYSTEM SET log_statement = 'all'")
        conn.execute("SELECT pg_reload_conf()")
    expected = value or "none"
    for _ in range(100):  # the postmaster reloads asynchronously
        with psycopg.connect(node.url()) as conn:
            if conn.execute("SHOW log_statement").fetchone() == (expected,):
                return
        time.sleep(0.05)
    raise AssertionError(f"{node.name} did not reload log_statement = {expected}")


def _shard_on(node: Node) -> str:
    with psycopg.connect(node.url()) as conn:
        row = conn.execute(
            "SELECT shard_name FROM citus_shards WHERE table_name = 'retail.orders'::regclass"
            " AND nodeport = %s ORDER BY shardid LIMIT 1", (node.port,)).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.anyio
async def test_the_context_stays_out_of_the_logs_even_with_log_statement_all(
    gateway: DatabaseGateway, nodes_log_statements: list[Node]
) -> None:
    """`db init` turns statement logging off for the query role on every node (superuser-only
    settings the role cannot undo): the propagated SET LOCAL on the workers and the bind
    parameter on the coordinator stay out of the logs that log everyone else's statements."""
    logged_before = {node.name: (node.pgdata / "log").stat().st_size
                     for node in nodes_log_statements}
    async with gateway.session(HEAD_OFFICE.user_id) as conn:  # every shard: both workers
        await (await conn.execute("SELECT count(*) FROM retail.orders")).fetchall()
    for node in nodes_log_statements:
        with psycopg.connect(node.url()) as admin:  # logged: logging is on
            admin.execute("SELECT 'the admin is logged'")
    for node in nodes_log_statements:
        for _ in range(100):
            with (node.pgdata / "log").open(errors="replace") as log:
                log.seek(logged_before[node.name])
                logged = log.read()
            if "the admin is logged" in logged:
                break
            time.sleep(0.05)
        assert "the admin is logged" in logged, node.name
        assert "zava.context" not in logged, node.name
        assert "|query|" not in logged, node.name


def test_a_context_as_it_travels_cannot_be_replayed_on_a_worker(
    live_request: LiveRequest, citus_cluster: CitusCluster, database: DatabaseEndpoints
) -> None:
    """The attacker holds the application's credentials and everything that travels to a
    worker for a live request (the value, its global pid, its distributed transaction's number
    and stamp): no session on the worker. The control: with the worker's own password (which
    only the coordinator holds) the same values would be honoured, which is why that password
    must stay the coordinator's."""
    worker = citus_cluster.workers[0]
    claim = f"?application_name=citus_internal%20gpid%3D{live_request.global_pid}"
    attacker = worker.url(f"{QUERY_ROLE}:{APP_PASSWORD}") + claim
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(attacker)

    worker_password = worker_passwords(database.admin_url)[worker.port]
    with psycopg.connect(worker.url(f"{QUERY_ROLE}:{worker_password}") + claim) as replay:
        replay.execute("SELECT assign_distributed_transaction_id(0, %s, %s)",
                       (live_request.transaction_number, live_request.transaction_stamp))
        replay.execute("SELECT set_config('zava.context', %s, true)",
                       (live_request.worker_context,))
        row = replay.execute(f"SELECT count(*) FROM {_shard_on(worker)}").fetchone()
    assert row is not None
    assert row[0] > 0


def test_a_second_init_keeps_the_worker_passwords(database: DatabaseEndpoints) -> None:
    before = worker_passwords(database.admin_url)
    assert not [c for c in citus.distribute(database.admin_url) if "password" in c]
    unchanged = worker_passwords(database.admin_url) == before
    assert unchanged


def test_a_worker_password_overwritten_from_the_coordinator_is_replaced_by_the_next_init(
    database: DatabaseEndpoints, citus_cluster: CitusCluster, app_worker_urls: dict[str, str]
) -> None:
    """`ALTER ROLE zava_query PASSWORD …` on the coordinator is propagated to every node (a new
    worker gets the coordinator's role too): the application's password works on the workers
    again, until `db init` runs."""
    with psycopg.connect(database.admin_url, autocommit=True) as conn:
        conn.execute(f"ALTER ROLE {QUERY_ROLE} PASSWORD '{APP_PASSWORD}'")
    with psycopg.connect(app_worker_urls["worker1"]):
        pass
    changed = citus.distribute(database.admin_url)
    assert len([c for c in changed if "a password of its own on worker" in c]) == 2
    for url in app_worker_urls.values():
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(url)
    with psycopg.connect(database.query_url) as conn:  # the coordinator reaches them again
        assert conn.execute("SELECT count(*) > 0 FROM retail.stores").fetchone() == (True,)


def test_worker_logins_take_one_scram_round_and_an_older_verifier_is_replaced(
    database: DatabaseEndpoints, citus_cluster: CitusCluster
) -> None:
    """Citus logs in to the workers all the time: with PostgreSQL's default 4096 PBKDF2 rounds
    each login cost both ends a few ms of CPU (the cluster's RLS tax 1.22x -> 1.60x)."""
    first = f"SCRAM-SHA-256${WORKER_SCRAM_ITERATIONS}:"
    worker = citus_cluster.workers[0]
    assert all(verifier(w.url()).startswith(first) for w in citus_cluster.workers)
    password = worker_passwords(database.admin_url)[worker.port]
    with psycopg.connect(worker.url(), autocommit=True) as conn:  # as an earlier db init left it
        default = conn.pgconn.encrypt_password(password.encode(), QUERY_ROLE.encode(),
                                               b"scram-sha-256").decode()
        assert default.startswith("SCRAM-SHA-256$4096:")
        conn.execute("SET citus.enable_ddl_propagation TO off")
        conn.execute(f"ALTER ROLE {QUERY_ROLE} PASSWORD '{default}'")
    changed = citus.distribute(database.admin_url)
    assert changed.count(f"{QUERY_ROLE}: a password of its own on worker 127.0.0.1:{worker.port}"
                         " (in pg_dist_authinfo)") == 1
    assert verifier(worker.url()).startswith(first)
    with psycopg.connect(database.query_url) as conn:  # the coordinator logs in to it again
        # (no context: RLS shows nothing, but every worker's shards were asked)
        assert conn.execute("SELECT count(*) FROM retail.orders").fetchone() == (0,)


@pytest.fixture
def worker2_trusts_the_query_role(citus_cluster: CitusCluster) -> Iterator[Node]:
    worker = citus_cluster.workers[1]
    citus_cluster.require_query_role_password(worker, required=False)
    citus_cluster.reload(worker)
    try:
        yield worker
    finally:
        citus_cluster.require_query_role_password(worker)
        citus_cluster.reload(worker)


def _db_init(database: DatabaseEndpoints) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZAVA_DATABASE_URL": database.query_url,
           "ZAVA_ADMIN_DATABASE_URL": database.admin_url}
    return subprocess.run([sys.executable, "-m", "entrypoints.cli", "db", "init"],
                          capture_output=True, text=True, env=env, check=True, timeout=300)


def test_db_init_warns_about_a_worker_that_lets_the_application_in(
    database: DatabaseEndpoints, worker2_trusts_the_query_role: Node
) -> None:
    worker = worker2_trusts_the_query_role
    for _ in range(100):  # the reload is asynchronous
        if citus.worker_login_warnings(database.admin_url, database.query_url):
            break
        time.sleep(0.05)
    result = _db_init(database)
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, result.stderr
    assert f"worker 127.0.0.1:{worker.port} lets zava_query log in" in warnings[0]
    assert PG_HBA_LINES[0] in warnings[0]
    assert not _printed_a_worker_password(database, result)


def test_db_init_does_not_warn_when_every_worker_asks_for_the_password(
    database: DatabaseEndpoints,
) -> None:
    result = _db_init(database)
    assert "warning:" not in result.stderr, result.stderr
    assert not _printed_a_worker_password(database, result)


def _printed_a_worker_password(database: DatabaseEndpoints,
                               result: subprocess.CompletedProcess[str]) -> bool:
    output = result.stdout + result.stderr
    return any(password in output for password in worker_passwords(database.admin_url).values())


@pytest.mark.parametrize("call", [
    "SELECT * FROM run_command_on_workers('SELECT current_user')",
    "SELECT * FROM run_command_on_all_nodes('SELECT current_user')",
    "SELECT * FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[5432], ARRAY['SELECT 1'], false)",
], ids=["run_command_on_workers", "run_command_on_all_nodes", "master_run_on_worker"])
def test_a_coordinator_session_cannot_run_sql_on_the_workers(
    database: DatabaseEndpoints, call: str
) -> None:
    """Citus's remote-command functions would run the session's SQL on the workers as the
    query role, with the worker passwords the coordinator holds (and any application_name, so
    any global pid, in that SQL): the query role may not call them."""
    with psycopg.connect(database.query_url) as attacker, \
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="master_run_on_worker"):
        attacker.execute(call)


def test_worker_passwords_need_a_superuser(database: DatabaseEndpoints,
                                           citus_cluster: CitusCluster) -> None:
    with psycopg.connect(citus_cluster.coordinator.url("zava_owner")) as owner, \
            pytest.raises(WorkerLoginError, match="need a superuser admin connection"):
        separate_worker_passwords(owner)
