"""tests/integration/test_plan_time_scope.py, collected again on the Citus cluster (this
directory's `database` is the coordinator): no plan made under one request's context runs under
another's, on the coordinator or on the workers."""

import pytest

from tests.integration.test_plan_time_scope import *  # noqa: F403
from tests.integration.test_plan_time_scope import (
    HEAD_OFFICE,
    SEATTLE,
    own_stores,
    prepared_plan_without_discard_all,
)
from tests.integration.test_plan_time_scope import (
    test_the_plan_carries_the_callers_own_store_list as _explain_test,
)

# EXPLAIN of a query under RLS fails on Citus: the coordinator evaluates the access function
# while explaining and reaches a worker from inside it ("cannot execute a distributed query
# from a query on a shard"). Queries themselves are unaffected (the other tests here).
# Not strict: run alone it is refused every time, but in one whole-suite run it passed (the
# refusal depends on state earlier tests leave on the cluster's cached worker connections,
# not yet pinned down); either way no plan outlives its request (the tests below).
test_the_plan_carries_the_callers_own_store_list = pytest.mark.xfail(
    reason="EXPLAIN under RLS is refused by Citus (nested distributed execution)", strict=False,
)(_explain_test)


async def test_without_discard_all_the_prepared_plan_would_leak(database, signer) -> None:
    """Replaces the single node's demonstration: on Citus even that misconfigured pool does not
    leak, because the policies run on the workers' shards, where each request's own context
    folds the store list again (the coordinator's folded list is not shipped)."""
    seen = await prepared_plan_without_discard_all(database, signer)
    assert seen == own_stores(SEATTLE) != own_stores(HEAD_OFFICE)
