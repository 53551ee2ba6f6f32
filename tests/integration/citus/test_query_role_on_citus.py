"""tests/integration/test_query_role.py, collected again on the Citus cluster
(this directory's `database` is the coordinator)."""

from tests.integration.test_query_role import *  # noqa: F403
