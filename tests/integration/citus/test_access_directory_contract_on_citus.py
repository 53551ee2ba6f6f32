"""tests/integration/test_access_directory_contract.py, collected again on the Citus cluster
(this directory's `database` is the coordinator)."""

from tests.integration.test_access_directory_contract import *  # noqa: F403
