"""In-memory adapters: every port the domain needs, over plain Python data (the standard library
only), with the contracts of the PostgreSQL ones. `in_memory_services()` wires them."""

from adapters.memory.analytics import RetailRecords
from adapters.memory.clock import FixedClock
from adapters.memory.services import InMemoryServices, in_memory_services

__all__ = ["FixedClock", "InMemoryServices", "RetailRecords", "in_memory_services"]
