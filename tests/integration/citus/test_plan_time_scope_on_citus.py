"""tests/integration/test_plan_time_scope.py, collected again on the Citus cluster (this
directory's `database` is the coordinator): no plan made under one request's context runs under
another's, on the coordinator or on the workers."""

import psycopg
import pytest

from tests.integration.test_plan_time_scope import *  # noqa: F403
from tests.integration.test_plan_time_scope import (
    HEAD_OFFICE,
    SEATTLE,
    DatabaseGateway,
    UserId,
    make_query_pool,
    one_connection,
    own_stores,
    prepared_plan_without_discard_all,
)

# Not re-run here: the single node's EXPLAIN check. EXPLAIN of a query under RLS is refused on
# Citus (the coordinator evaluates the access function while explaining and reaches a node
# from inside it), which the test below pins; the other tests here show that no plan made under
# one request's context answers another's, on the coordinator or on the workers.
del test_the_plan_carries_the_callers_own_store_list  # noqa: F821


async def test_explain_under_rls_is_refused_on_citus(database, signer) -> None:
    """If a Citus release starts explaining these, the single node's plan check can run here."""
    async with one_connection(make_query_pool(database.query_url, min_size=1, max_size=1)) as pool:
        # refused while planning the access function's nested query: by Citus, or by the
        # context check of the loopback backend Citus opens on the coordinator for it (the
        # request's global pid, another backend's pid), depending on the connections Citus holds
        with pytest.raises(psycopg.Error, match=r"distributed query from a query on a shard"
                           r"|claims the global pid of another backend"):
            async with DatabaseGateway(pool, signer).session(UserId(SEATTLE.user_id)) as conn:
                await conn.execute("EXPLAIN SELECT count(*) FROM retail.orders")


async def test_without_discard_all_the_prepared_plan_would_leak(database, signer) -> None:
    """Replaces the single node's demonstration: on Citus even that misconfigured pool does not
    leak, because the policies run on the workers' shards, where each request's own context
    folds the store list again (the coordinator's folded list is not shipped)."""
    seen = await prepared_plan_without_discard_all(database, signer)
    assert seen == own_stores(SEATTLE) != own_stores(HEAD_OFFICE)
