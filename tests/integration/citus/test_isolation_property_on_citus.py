"""tests/integration/test_isolation_property.py, collected again on the Citus cluster
(this directory's `database` is the coordinator)."""

from tests.integration.test_isolation_property import *  # noqa: F403
