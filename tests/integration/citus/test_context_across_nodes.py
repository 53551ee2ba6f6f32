"""The signed context across the cluster: the server's context reaches the workers (where the
policies run on the shards) and shows a store manager exactly their store; a worker queried
directly as the query role honours no missing, copied, stale or forged context; and the value
never shows in any node's statement text (pg_stat_activity).

The application's credentials open no worker session (test_worker_login_on_citus.py): the
worker tests here log in with the worker's own password, as an attacker who somehow had it,
so that the context check on the workers is proven on its own too. They read the worker's
own shards, which is what its check guards (a distributed query from a worker would need the
other workers' passwords, which only the coordinator holds)."""

from __future__ import annotations

import time

import psycopg
import pytest

from adapters.demodata.reference import USERS
from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.request_context import ContextSigner
from ports.database_server import DatabaseEndpoints
from tests.integration.test_request_context import backend, set_context

SEATTLE = USERS[0]
HEAD_OFFICE = USERS[-1]
ORDERS_PER_STORE = "SELECT store_id::text, count(*) FROM retail.orders GROUP BY 1"


def owner_counts(admin_url: str) -> dict[str, int]:
    with psycopg.connect(admin_url) as conn:
        return dict(conn.execute(ORDERS_PER_STORE).fetchall())


@pytest.mark.anyio
async def test_a_store_manager_sees_exactly_their_stores_orders(
    gateway: DatabaseGateway, database: DatabaseEndpoints
) -> None:
    expected = owner_counts(database.admin_url)
    async with gateway.session(SEATTLE.user_id) as conn:
        cur = await conn.execute(ORDERS_PER_STORE)
        seen = dict(await cur.fetchall())
    seattle = str(SEATTLE.store_ids[0])
    assert seen == {seattle: expected[seattle]}
    assert seen[seattle] > 5_000


@pytest.fixture(params=["worker1", "worker2"])
def worker(request: pytest.FixtureRequest, worker_urls: dict[str, str]):
    with psycopg.connect(worker_urls[request.param], autocommit=True) as conn:
        yield conn


def local_order_shards(worker: psycopg.Connection) -> list[str]:
    shards = [r[0] for r in worker.execute(
        "SELECT shard_name FROM citus_shards WHERE table_name = 'retail.orders'::regclass"
        " AND nodeport = inet_server_port() ORDER BY shardid")]
    assert shards
    return shards


def stores_seen(worker: psycopg.Connection, context: str | None) -> int:
    """The stores whose orders the worker's own shards show under `context`."""
    union = " UNION ALL ".join(f"SELECT store_id FROM {s}" for s in local_order_shards(worker))
    with worker.transaction(force_rollback=True):
        if context is not None:
            set_context(worker, context)
        row = worker.execute(f"SELECT count(DISTINCT store_id) FROM ({union}) AS o").fetchone()
    assert row is not None
    return int(row[0])


def test_a_worker_honours_a_context_signed_for_its_own_session(
    worker: psycopg.Connection, signer: ContextSigner, worker_admin_urls: dict[str, str]
) -> None:
    """The control for the refusals below: the worker's check runs and can say yes (only the
    holder of the key can make such a value): head office sees every store on its shards."""
    port = worker.info.port
    (admin_url,) = [u for u in worker_admin_urls.values() if f":{port}/" in u]
    with psycopg.connect(admin_url) as admin:
        union = " UNION ALL ".join(f"SELECT store_id FROM {s}"
                                   for s in local_order_shards(admin))
        (expected,) = admin.execute(
            f"SELECT count(DISTINCT store_id) FROM ({union}) AS o").fetchone() or (0,)
    assert expected > 0
    assert stores_seen(worker, signer.sign("query", str(HEAD_OFFICE.user_id),
                                           backend(worker))) == expected


def test_a_worker_queried_directly_without_context_sees_nothing(
    worker: psycopg.Connection,
) -> None:
    assert stores_seen(worker, None) == 0


def test_a_worker_refuses_a_context_copied_from_a_coordinator_session(
    worker: psycopg.Connection, signer: ContextSigner, database: DatabaseEndpoints
) -> None:
    with psycopg.connect(database.query_url) as coordinator:
        gpid = backend(coordinator)
        copied = signer.sign("query", str(HEAD_OFFICE.user_id), gpid)
    assert gpid != backend(worker)
    assert stores_seen(worker, copied) == 0


def test_a_worker_refuses_a_stale_context(
    worker: psycopg.Connection, signer: ContextSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    gpid = backend(worker)
    six_minutes_ago = time.time_ns() - 360 * 10**9
    monkeypatch.setattr(time, "time_ns", lambda: six_minutes_ago)
    stale = signer.sign("query", str(HEAD_OFFICE.user_id), gpid)
    monkeypatch.undo()
    assert stores_seen(worker, stale) == 0


def test_a_worker_refuses_a_forged_context(worker: psycopg.Connection) -> None:
    forged = ContextSigner(bytes(range(64))).sign("query", str(HEAD_OFFICE.user_id),
                                                  backend(worker))
    assert stores_seen(worker, forged) == 0


def test_a_worker_shard_read_directly_shows_nothing_without_context(
    worker: psycopg.Connection,
) -> None:
    for shard in local_order_shards(worker):
        with worker.transaction(force_rollback=True):
            assert worker.execute(f"SELECT count(*) FROM {shard}").fetchone() == (0,)


@pytest.mark.anyio
async def test_the_context_shows_in_no_nodes_statement_text(
    gateway: DatabaseGateway, database: DatabaseEndpoints, worker_urls: dict[str, str],
    worker_admin_urls: dict[str, str],
) -> None:
    """On the workers the context arrives as `SET LOCAL zava.context = '…'` statement text: no
    session may read it back, neither the query role (which could replay it from a worker
    session it opens itself) nor anyone else, on any node."""
    async with gateway.session(SEATTLE.user_id) as conn:
        await (await conn.execute("SELECT count(*) FROM retail.orders")).fetchall()
        texts: list[str] = []
        for url in [database.query_url, database.admin_url, *worker_urls.values(),
                    *worker_admin_urls.values()]:
            with psycopg.connect(url) as observer:
                texts += [r[0] or "" for r in observer.execute(
                    "SELECT query FROM pg_stat_activity WHERE usename = 'zava_query'")]
    assert any("count(*)" in t or t == "" for t in texts)
    assert not [t for t in texts if "zava.context" in t or "|query|" in t]


@pytest.mark.anyio
async def test_the_worker_backends_serving_a_request_share_its_global_pid(
    gateway: DatabaseGateway, database: DatabaseEndpoints, worker_admin_urls: dict[str, str]
) -> None:
    """What the binding rests on, observed: the worker backends Citus opens for the request's
    coordinator backend carry that backend's global pid (head office: every shard, so both
    workers; a store manager's query is pruned to the one shard of their store)."""
    async with gateway.session(HEAD_OFFICE.user_id) as conn:
        gpid = (await (await conn.execute("SELECT citus_backend_gpid()")).fetchone())[0]
        await (await conn.execute("SELECT count(*) FROM retail.orders")).fetchall()
        for url in worker_admin_urls.values():
            with psycopg.connect(url) as observer:
                serving = observer.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = 'zava_query'"
                    " AND application_name = %s", (f"citus_internal gpid={gpid}",)
                ).fetchone()
            assert serving is not None
            assert serving[0] >= 1, url
