"""tests/integration/test_request_context.py, collected again on the Citus cluster
(this directory's `database` is the coordinator)."""

from tests.integration.test_request_context import *  # noqa: F403
