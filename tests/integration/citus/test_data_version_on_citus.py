"""The cache's data version on a cluster: a write that lands on a worker's shard moves it, so a
cached answer computed before the write is not served after it. The coordinator's own counters
(all a single node needs) do not move for such a write: the control."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from adapters.postgres.data_version import VERSION_SQL, PsycopgDataVersion
from adapters.postgres.gateway import DatabaseGateway
from ports.database_server import DatabaseEndpoints

pytestmark = pytest.mark.anyio


def coordinator_counters(admin_url: str) -> int:
    with psycopg.connect(admin_url) as conn:
        return int(conn.execute(VERSION_SQL).fetchone()[0])


async def test_a_write_on_a_workers_shard_moves_the_data_version(
    gateway: DatabaseGateway, database: DatabaseEndpoints
) -> None:
    versions = PsycopgDataVersion(gateway)
    before = await versions.current()
    coordinator_before = coordinator_counters(database.admin_url)
    with psycopg.connect(database.admin_url) as conn:  # closed: its worker backends exit and
        conn.execute(                                  # flush their counters
            "UPDATE retail.inventory SET stock_level = stock_level"
            " WHERE (store_id, product_id) = (SELECT store_id, product_id FROM retail.inventory"
            " ORDER BY store_id, product_id LIMIT 1)")
        conn.commit()
    deadline = time.monotonic() + 30
    after = before
    while after == before and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        after = await versions.current()
    assert after != before
    assert coordinator_counters(database.admin_url) == coordinator_before
