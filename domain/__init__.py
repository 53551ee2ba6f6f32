"""Zava Retail's domain: who may see which stores, and the sales, inventory and product answers
the MCP tools give, as plain Python (the standard library only).

The public API is `__all__`: the value types and errors, the time-period grammar, and the
services. Everything else (`domain.services.*` helpers, constants) may change without notice.
`adapters.memory.in_memory_services()` builds the services over an in-memory data set; the
README's "Using the domain as a library" shows it.

The services are imported on first use (PEP 562): they depend on `ports`, whose modules import
`domain.model`, so importing them here eagerly would make `import ports.x` circular.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from domain.analytics import (
    InventoryAlert,
    InventoryAlerts,
    Product,
    ProductId,
    ProductRanking,
    RankBy,
    SalesMetrics,
    SalesTrend,
    StoreComparison,
    StoreMetric,
    StorePerformance,
)
from domain.errors import (
    AuthorizationError,
    ConfigurationError,
    DatabaseError,
    UnknownUserError,
    ValidationError,
    ZavaError,
)
from domain.model import (
    AccessScope,
    ProductMatch,
    ProductSearchResult,
    QueryResult,
    Role,
    SearchMode,
    Store,
    StoreId,
    TableSchema,
    UserId,
)
from domain.time_period import Granularity, TimePeriod

if TYPE_CHECKING:
    from domain.services.identity import IdentityService, parse_user_id
    from domain.services.product_search import ProductSearchService
    from domain.services.sales_analytics import SalesAnalyticsService
    from domain.services.sales_query import SalesQueryService
    from domain.services.schema import SchemaService

_SERVICES = {
    "IdentityService": "domain.services.identity",
    "parse_user_id": "domain.services.identity",
    "ProductSearchService": "domain.services.product_search",
    "SalesAnalyticsService": "domain.services.sales_analytics",
    "SalesQueryService": "domain.services.sales_query",
    "SchemaService": "domain.services.schema",
}

__all__ = [
    "AccessScope",
    "AuthorizationError",
    "ConfigurationError",
    "DatabaseError",
    "Granularity",
    "IdentityService",
    "InventoryAlert",
    "InventoryAlerts",
    "Product",
    "ProductId",
    "ProductMatch",
    "ProductRanking",
    "ProductSearchResult",
    "ProductSearchService",
    "QueryResult",
    "RankBy",
    "Role",
    "SalesAnalyticsService",
    "SalesMetrics",
    "SalesQueryService",
    "SalesTrend",
    "SchemaService",
    "SearchMode",
    "Store",
    "StoreComparison",
    "StoreId",
    "StoreMetric",
    "StorePerformance",
    "TableSchema",
    "TimePeriod",
    "UnknownUserError",
    "UserId",
    "ValidationError",
    "ZavaError",
    "parse_user_id",
]


def __getattr__(name: str) -> Any:
    module = _SERVICES.get(name)
    if module is None:
        raise AttributeError(f"module 'domain' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once: the next lookup does not come here
    return value
