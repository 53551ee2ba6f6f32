"""The signed context across the cluster: the server's context reaches the workers (where the
policies run on the shards) and shows a store manager exactly their store; a worker queried
directly as the query role honours no missing, copied, stale or forged context; and the value
never shows in any node's statement text (pg_stat_activity)."""

from __future__ import annotations

import time

import psycopg
import pytest

from adapters.demodata.reference import USERS
from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.request_context import ContextSigner
from ports.database_server import DatabaseEndpoints
from tests.integration.test_request_context import backend, stores_seen

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


def test_a_worker_honours_a_context_signed_for_its_own_session(
    worker: psycopg.Connection, signer: ContextSigner
) -> None:
    """The control for the refusals below: the worker's check runs and can say yes (only the
    holder of the key can make such a value)."""
    assert stores_seen(worker, signer.sign("query", str(HEAD_OFFICE.user_id),
                                           backend(worker))) == 8


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
    shards = [r[0] for r in worker.execute(
        "SELECT shard_name FROM citus_shards WHERE table_name = 'retail.orders'::regclass"
        " AND nodeport = inet_server_port()")]
    assert shards
    for shard in shards:
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
