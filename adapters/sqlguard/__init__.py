"""SQL guard adapters: decide whether model-written SQL may run in `execute_sales_query`.

The guard is one layer of several (README "Security model"): it rejects early, with a message
the model can act on, what the database role, row-level security and the read-only transaction
would also stop.
"""

from __future__ import annotations

from adapters.sqlguard.pglast_guard import (
    ALLOWED_FUNCTIONS,
    EXPOSED_RETAIL_RELATIONS,
    PglastSqlGuard,
)

__all__ = ["ALLOWED_FUNCTIONS", "EXPOSED_RETAIL_RELATIONS", "PglastSqlGuard"]
