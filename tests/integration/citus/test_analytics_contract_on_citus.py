"""tests/integration/test_analytics_contract.py, collected again on the Citus cluster
(this directory's `database` is the coordinator)."""

from tests.integration.test_analytics_contract import *  # noqa: F403
