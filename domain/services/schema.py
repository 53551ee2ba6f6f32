"""get_multiple_table_schemas: table descriptions a model writes SQL against."""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import ValidationError
from domain.model import TableSchema, UserId
from ports.schema_catalog import SchemaCatalog

MAX_TABLES_PER_CALL = 20


class SchemaService:
    def __init__(self, catalog: SchemaCatalog) -> None:
        self._catalog = catalog

    async def describe(self, user_id: UserId, table_names: Sequence[str]) -> list[TableSchema]:
        return await self._catalog.describe(user_id, self.resolve(table_names))

    def resolve(self, table_names: Sequence[str]) -> list[str]:
        """Normalise names ("Orders", "retail.orders" → "orders"), keep order, drop repeats."""
        exposed = self._catalog.exposed_tables()
        available = ", ".join(sorted(exposed))
        if not table_names:
            raise ValidationError(f"table_names is empty; tables you can query: {available}")
        if len(table_names) > MAX_TABLES_PER_CALL:
            raise ValidationError(
                f"at most {MAX_TABLES_PER_CALL} tables per call, got {len(table_names)}"
            )
        resolved: list[str] = []
        for raw in table_names:
            name = raw.strip().strip('"').lower().removeprefix("retail.")
            if name not in exposed:
                raise ValidationError(
                    f"unknown table {raw!r}; tables you can query: {available}"
                )
            if name not in resolved:
                resolved.append(name)
        return resolved
