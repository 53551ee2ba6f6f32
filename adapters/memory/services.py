"""The domain services over one in-memory data set: the library's front door.

`in_memory_services()` wires the same services the MCP server uses to the in-memory adapters,
with the standard library only (no PostgreSQL, no model, no MCP): a plain
`pip install zava-retail-mcp` is enough. Without arguments it serves the demo chain that
`zava-mcp db init` loads, generated for today; give it your own `RetailRecords` (and users) to
serve another chain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from adapters.memory.access import InMemoryAccessDirectory
from adapters.memory.analytics import (
    DEMO_SEED,
    InMemoryInventoryRepository,
    InMemorySalesRepository,
    InMemoryStoreCatalog,
    RetailRecords,
)
from adapters.memory.embeddings import HashingEmbeddingProvider
from adapters.memory.product_search import InMemoryProductSearchRepository
from adapters.system_clock import SystemClock
from domain.model import AccessScope
from domain.services.identity import IdentityService
from domain.services.product_search import ProductSearchService
from domain.services.sales_analytics import SalesAnalyticsService
from ports.clock import Clock


@dataclass(frozen=True)
class InMemoryServices:
    """What the MCP tools call, over in-memory data: `identity` (whoami), `sales_analytics`
    (store performance, trends, top products, store comparison, inventory alerts) and
    `product_search` (hybrid search with a deterministic hashing embedder)."""

    identity: IdentityService
    sales_analytics: SalesAnalyticsService
    product_search: ProductSearchService
    directory: InMemoryAccessDirectory
    records: RetailRecords


def in_memory_services(
    records: RetailRecords | None = None,
    *,
    users: Iterable[AccessScope] | None = None,
    clock: Clock | None = None,
) -> InMemoryServices:
    """Build the services over `records` (default: the demo chain for seed 42, anchored at
    the clock's today) for `users` (default: the demo users and their stores)."""
    clock = clock or SystemClock()
    if records is None:
        records = RetailRecords.from_demo(DEMO_SEED, _today(clock))
    directory = (InMemoryAccessDirectory.from_demo_data() if users is None
                 else InMemoryAccessDirectory(users))
    embedder = HashingEmbeddingProvider()
    return InMemoryServices(
        identity=IdentityService(directory, clock),
        sales_analytics=SalesAnalyticsService(
            directory,
            InMemoryStoreCatalog(records.stores),
            InMemorySalesRepository(records, directory),
            InMemoryInventoryRepository(records, directory),
            clock,
        ),
        product_search=ProductSearchService(
            embedder, InMemoryProductSearchRepository.from_demo_data(directory, embedder)
        ),
        directory=directory,
        records=records,
    )


def _today(clock: Clock) -> date:
    return clock.now().date()
