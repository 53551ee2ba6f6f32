"""tests/integration/test_sales_query_executor.py, collected again on the Citus cluster
(this directory's `database` is the coordinator)."""

from tests.integration.test_sales_query_executor import *  # noqa: F403
