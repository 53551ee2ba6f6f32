"""Port: the list of all Zava stores (reference data, the same for every caller)."""

from __future__ import annotations

from typing import Protocol

from domain.model import Store


class StoreCatalog(Protocol):
    async def all_stores(self) -> tuple[Store, ...]:
        """Every store, visible to the caller or not: only used to tell "not one of your
        stores" from "no such store"; never to read a store's data."""
        ...
