"""Port: describes the tables a model may query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.model import TableSchema, UserId


class SchemaCatalog(Protocol):
    def exposed_tables(self) -> frozenset[str]:
        """Unqualified names of the retail tables and views a model may query."""
        ...

    async def describe(self, user_id: UserId, tables: Sequence[str]) -> list[TableSchema]:
        """Describe `tables` (already validated, unqualified) with valid values the user may
        see."""
        ...
