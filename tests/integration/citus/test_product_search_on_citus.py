"""tests/integration/test_product_search.py, collected again on the Citus cluster
(this directory's `database` is the coordinator): quality, stock and filters at the caller's
stores, unknown users."""

from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import AsyncConn, context_binding
from adapters.postgres.product_search import search_knobs
from tests.integration.test_product_search import *  # noqa: F403
from tests.integration.test_product_search import HEAD_OFFICE

# Not re-run here: three tests of the single node's index plans. They steer the planner with
# session settings (enable_seqscan = off, ivfflat.probes) that Citus does not carry into the
# task it runs on the node holding the reference table's placement, and match plan text that
# Citus wraps in its own nodes. The search's answers are what the tests above check.
del test_filtered_vector_search_does_not_starve  # noqa: F821
del test_the_vector_statement_uses_the_ivfflat_index  # noqa: F821
del test_switching_to_hnsw_and_back_rebuilds_the_index  # noqa: F821


async def test_the_search_knobs_reach_every_worker(gateway: DatabaseGateway) -> None:
    """set_config() stays on the coordinator; the vector scan may run on a worker's placement
    of the embeddings (a reference table), where ivfflat.probes = 1 without iterative scans
    found nothing for a query whose nearest list held no vector of the model in use."""
    async def settings_on_the_shards(conn: AsyncConn) -> list[tuple[object, ...]]:
        assert context_binding(conn)[1], "the test's gateway is not on a Citus coordinator"
        await conn.execute(search_knobs("17", "123"), prepare=False)
        return await (await conn.execute(
            "SELECT DISTINCT current_setting('ivfflat.probes'), current_setting('hnsw.ef_search'),"
            " current_setting('ivfflat.iterative_scan'), inet_server_port()"
            " FROM retail.inventory")).fetchall()

    rows = await gateway.read("test.knobs", HEAD_OFFICE, settings_on_the_shards)
    assert {r[:3] for r in rows} == {("17", "123", "relaxed_order")}
    assert len({r[3] for r in rows}) == 2  # both workers' shards answered
