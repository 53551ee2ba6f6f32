"""The data version behind cache keys, from PostgreSQL's own row-change counters.

`pg_stat_user_tables` counts inserted, updated and deleted rows per table, for any role and
without a migration or a trigger. Their sum over the retail schema moves whenever a load, an
ETL run or a reset changes the data (never when only reading), so a cached answer computed
before the change is never served after it. The schema version is part of it too. Statistics
reach the view within about a second of a commit; a statistics reset only costs misses.

On a Citus cluster the rows live in shards on the workers, whose counters the coordinator's view
never sees: there the same sum is taken on every node (access.cluster_row_changes(), which runs
it with run_command_on_all_nodes as the owner: `db init` takes Citus's remote-command functions
away from the query role, adapters/postgres/citus.py), so a write routed to a worker's shard
moves the version too. A node that does not answer
fails the lookup (no version is better than one that could repeat an old one).
"""

from __future__ import annotations

import psycopg

from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.migrations import latest_version
from adapters.postgres.pool import AsyncConn, context_binding
from ports.cache import DataVersionSource

VERSION_SQL = """
SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint
FROM pg_stat_user_tables WHERE schemaname = 'retail'
"""
_CLUSTER_VERSION_SQL = "SELECT changes, failed FROM access.cluster_row_changes()"


class PsycopgDataVersion(DataVersionSource):
    def __init__(self, gateway: DatabaseGateway) -> None:
        self._gateway = gateway
        self._schema = latest_version()

    async def current(self) -> str:
        async def read(conn: AsyncConn) -> object:
            if context_binding(conn)[1]:  # a Citus coordinator
                row = await (await conn.execute(_CLUSTER_VERSION_SQL)).fetchone()
                if row is None or row[1]:
                    raise psycopg.OperationalError(
                        "a Citus node did not report its row-change counters")
            else:
                row = await (await conn.execute(VERSION_SQL)).fetchone()
            return row[0] if row else 0

        changes = await self._gateway.read("data_version", None, read)
        return f"s{self._schema}.r{changes}"
