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

    async def close(self) -> None:
        """At shutdown: write every record accepted so far and let go of what the log holds
        (files, locks, background work)."""
        ...
