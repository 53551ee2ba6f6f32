"""Port: the append-only audit trail of tool calls."""

from __future__ import annotations

from typing import Protocol

from domain.model import ToolCallRecord


class AuditLog(Protocol):
    async def record(self, entry: ToolCallRecord) -> None:
        """Append one record (implementations may batch; `flush` makes it durable)."""
        ...

    async def flush(self) -> None:
        """Write every record accepted so far."""
        ...
