"""tests/integration/test_attack_corpus.py, collected again on the Citus cluster
(this directory's `database` is the coordinator)."""

from tests.integration.test_attack_corpus import *  # noqa: F403
