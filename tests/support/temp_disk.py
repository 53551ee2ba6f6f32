"""The query role's temp_file_limit lowered for one test, so that a modest sort exceeds it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from adapters.postgres.startup_checks import QUERY_ROLE_TEMP_FILE_LIMIT

# A sort of this many integers spills to disk past work_mem (16 MB), and writes more than
# LOWERED_LIMIT there.
SPILLING_SORT = "SELECT g FROM generate_series(1, 3000000) AS g ORDER BY g DESC"
LOWERED_LIMIT = "1MB"


@contextmanager
def lowered_temp_file_limit(admin_url: str, limit: str | None = LOWERED_LIMIT) -> Iterator[None]:
    """Connections the query role opens inside the block get `limit` (None: no limit, as
    before sql/061; a role setting applies from the next connection on); sql/061's value is
    back afterwards."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if limit is None:
            conn.execute("ALTER ROLE zava_query RESET temp_file_limit")
        else:
            conn.execute(f"ALTER ROLE zava_query SET temp_file_limit = '{limit}'")
        try:
            yield
        finally:
            conn.execute(
                f"ALTER ROLE zava_query SET temp_file_limit = '{QUERY_ROLE_TEMP_FILE_LIMIT}'")
