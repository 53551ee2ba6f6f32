"""In-memory audit log (unit tests, and the offline wiring)."""

from __future__ import annotations

from domain.model import ToolCallRecord
from ports.audit import AuditLog


class InMemoryAuditLog(AuditLog):
    def __init__(self) -> None:
        self.records: list[ToolCallRecord] = []

    async def record(self, entry: ToolCallRecord) -> None:
        self.records.append(entry)

    async def flush(self) -> None:
        """Nothing to do: records are kept as they arrive."""

    async def close(self) -> None:
        """Nothing to let go of."""
