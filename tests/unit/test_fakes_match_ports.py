"""The in-memory fakes implement their ports, checked at run time as well as by mypy (each fake
declares its Protocol as a base class, and mypy --strict checks adapters/memory): every member
of the Protocol is there with the same parameters and the same sync/async kind, and every port
with a call the domain makes has a fake, or says here why not."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Protocol

import pytest

import ports
from adapters.cache.memory import MemoryCacheStore, StaticDataVersion, StaticFunctionVolatility
from adapters.memory.access import InMemoryAccessDirectory
from adapters.memory.analytics import (
    InMemoryInventoryRepository,
    InMemorySalesRepository,
    InMemoryStoreCatalog,
)
from adapters.memory.audit import InMemoryAuditLog
from adapters.memory.clock import FixedClock
from adapters.memory.embeddings import HashingEmbeddingProvider
from adapters.memory.metrics import InMemoryMetrics
from adapters.memory.product_search import InMemoryProductSearchRepository
from adapters.memory.sql_database import InMemorySalesQueryExecutor, InMemorySchemaCatalog
from adapters.memory.user_admin import InMemoryUserAdministration
from ports.access import AccessDirectory
from ports.audit import AuditLog
from ports.cache import CacheStore, DataVersionSource, FunctionVolatility
from ports.clock import Clock
from ports.embeddings import EmbeddingProvider
from ports.inventory import InventoryRepository
from ports.metrics import Metrics
from ports.product_search import ProductEmbeddingStore, ProductSearchRepository
from ports.sales import SalesRepository
from ports.sales_query import SalesQueryExecutor
from ports.schema_catalog import SchemaCatalog
from ports.stores import StoreCatalog
from ports.user_admin import UserAdministration

FAKES: list[tuple[type, type]] = [
    (AccessDirectory, InMemoryAccessDirectory),
    (AuditLog, InMemoryAuditLog),
    (CacheStore, MemoryCacheStore),
    (DataVersionSource, StaticDataVersion),
    (FunctionVolatility, StaticFunctionVolatility),
    (Clock, FixedClock),
    (EmbeddingProvider, HashingEmbeddingProvider),
    (InventoryRepository, InMemoryInventoryRepository),
    (Metrics, InMemoryMetrics),
    (ProductSearchRepository, InMemoryProductSearchRepository),
    (ProductEmbeddingStore, InMemoryProductSearchRepository),
    (SalesRepository, InMemorySalesRepository),
    (SalesQueryExecutor, InMemorySalesQueryExecutor),
    (SchemaCatalog, InMemorySchemaCatalog),
    (StoreCatalog, InMemoryStoreCatalog),
    (UserAdministration, InMemoryUserAdministration),
]
WITHOUT_FAKE = {
    "DatabaseServer": "starts PostgreSQL itself: the in-memory wiring has no database",
    "QueryObserver": "implemented by the domain's QueryPerformanceMonitor, not an adapter",
    "SqlGuard": "the one guard is pglast's; a fake guard would test nothing",
}


def protocols() -> dict[str, type]:
    """Every Protocol defined in a module of the ports package."""
    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(ports.__path__):
        module = importlib.import_module(f"ports.{info.name}")
        for name, value in inspect.getmembers(module, inspect.isclass):
            if Protocol in value.__mro__ and value.__module__ == module.__name__:
                found[name] = value
    return found


def members(protocol: type) -> list[str]:
    return [name for name, value in vars(protocol).items()
            if not name.startswith("_") and (callable(value) or isinstance(value, property))]


def test_every_port_has_a_fake_or_a_reason() -> None:
    faked = {protocol.__name__ for protocol, _ in FAKES}
    assert set(protocols()) == faked | set(WITHOUT_FAKE)


@pytest.mark.parametrize(("protocol", "fake"), FAKES, ids=lambda t: t.__name__)
def test_the_fake_has_every_member_with_the_ports_signature(protocol: type, fake: type) -> None:
    assert protocol in fake.__mro__  # declared, so mypy checks it against the Protocol
    for name in members(protocol):
        expected = vars(protocol)[name]
        actual = inspect.getattr_static(fake, name, None)
        assert actual is not None, f"{fake.__name__} lacks {name}"
        if isinstance(expected, property):
            assert isinstance(actual, property), f"{fake.__name__}.{name} is not a property"
            continue
        assert actual is not expected, f"{fake.__name__}.{name} is the Protocol's own stub"
        assert inspect.iscoroutinefunction(actual) == inspect.iscoroutinefunction(expected), (
            f"{fake.__name__}.{name}: sync/async differs from {protocol.__name__}")
        wanted = [(p.name, p.kind) for p in inspect.signature(expected).parameters.values()]
        got = [(p.name, p.kind) for p in inspect.signature(actual).parameters.values()]
        assert got == wanted, f"{fake.__name__}.{name}{got} != {protocol.__name__}{wanted}"
