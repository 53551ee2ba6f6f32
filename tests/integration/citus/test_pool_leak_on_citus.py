"""tests/integration/test_pool_leak.py, collected again on the Citus cluster
(this directory's `database` is the coordinator)."""

from tests.integration.test_pool_leak import *  # noqa: F403
