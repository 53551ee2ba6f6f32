"""tests/integration/test_product_search.py, collected again on the Citus cluster
(this directory's `database` is the coordinator): quality, stock and filters at the caller's
stores, unknown users."""

from tests.integration.test_product_search import *  # noqa: F403

# Not re-run here: three tests of the single node's index plans. They steer the planner with
# session settings (enable_seqscan = off, ivfflat.probes) that Citus does not carry into the
# task it runs on the node holding the reference table's placement, and match plan text that
# Citus wraps in its own nodes. The search's answers are what the tests above check.
del test_filtered_vector_search_does_not_starve  # noqa: F821
del test_the_vector_statement_uses_the_ivfflat_index  # noqa: F821
del test_switching_to_hnsw_and_back_rebuilds_the_index  # noqa: F821
