"""tests/integration/test_isolation.py, collected again on the Citus cluster
(this directory's `database` is the coordinator)."""

from tests.integration.test_isolation import *  # noqa: F403
