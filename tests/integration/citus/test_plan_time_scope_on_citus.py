"""tests/integration/test_plan_time_scope.py, collected again on the Citus cluster (this
directory's `database` is the coordinator): no plan made under one request's context runs under
another's, on the coordinator or on the workers."""

from tests.integration.test_plan_time_scope import *  # noqa: F403
from tests.integration.test_plan_time_scope import (
    HEAD_OFFICE,
    SEATTLE,
    own_stores,
    prepared_plan_without_discard_all,
)

# The single node's EXPLAIN check runs here too: the access function reads each node's own
# placement of the reference tables (adapters/postgres/citus_local_reads.py), so explaining a
# query under row-level security no longer has Citus run a nested distributed query (it was
# refused: "cannot execute a distributed query from a query on a shard"). The plan shows the
# caller's store list folded into the shard tasks.


async def test_without_discard_all_the_prepared_plan_would_leak(database, signer) -> None:
    """Replaces the single node's demonstration: on Citus even that misconfigured pool does not
    leak, because the policies run on the workers' shards, where each request's own context
    folds the store list again (the coordinator's folded list is not shipped)."""
    seen = await prepared_plan_without_discard_all(database, signer)
    assert seen == own_stores(SEATTLE) != own_stores(HEAD_OFFICE)
