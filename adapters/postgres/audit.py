"""The audit trail in PostgreSQL: batched appends through audit.append_tool_calls().

Records are queued and written by a background flush a moment later (at once when the batch is
full), so a tool call never waits for, nor pays for, a second transaction. `flush()` is awaited
on shutdown; a failed write is retried with the next flush and reported in the log.
"""

from __future__ import annotations

import asyncio
import json
import logging

from adapters.postgres.gateway import DatabaseGateway
from domain.errors import ZavaError
from domain.model import ToolCallRecord
from ports.audit import AuditLog

log = logging.getLogger(__name__)


class PsycopgAuditLog(AuditLog):
    def __init__(
        self,
        gateway: DatabaseGateway,
        *,
        flush_delay_s: float = 0.1,
        batch_size: int = 200,
        max_pending: int = 50_000,
    ) -> None:
        self._gateway = gateway
        self._flush_delay_s = flush_delay_s
        self._batch_size = batch_size
        self._max_pending = max_pending
        self._pending: list[ToolCallRecord] = []
        self._scheduled: asyncio.Task[None] | None = None
        self._immediate: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def record(self, entry: ToolCallRecord) -> None:
        if len(self._pending) >= self._max_pending:
            log.error("audit backlog full (%d records): dropping the oldest", self._max_pending)
            del self._pending[0]
        self._pending.append(entry)
        # Never make the caller wait for the write: a full batch flushes now, in the background.
        loop = asyncio.get_running_loop()
        if len(self._pending) >= self._batch_size:
            if self._immediate is None or self._immediate.done():
                self._immediate = loop.create_task(self.flush())
        elif self._scheduled is None or self._scheduled.done():
            self._scheduled = loop.create_task(self._flush_later())

    async def flush(self) -> None:
        """Write the records accepted before this call. Not those that arrive while it writes:
        under steady load that would turn one flush into an endless run of tiny batches."""
        async with self._lock:
            remaining = len(self._pending)
            while remaining > 0 and self._pending:
                batch = self._pending[: min(self._batch_size, remaining)]
                try:
                    await self._write(batch)
                except ZavaError:
                    log.exception("audit write failed; %d records kept", len(self._pending))
                    return
                del self._pending[: len(batch)]
                remaining -= len(batch)

    async def _flush_later(self) -> None:
        await asyncio.sleep(self._flush_delay_s)
        await self.flush()
        if self._pending:  # arrived while writing (or the write failed): next round
            self._scheduled = asyncio.get_running_loop().create_task(self._flush_later())

    async def _write(self, batch: list[ToolCallRecord]) -> None:
        payload = json.dumps([_as_json(r) for r in batch])
        await self._gateway.append_audit("SELECT audit.append_tool_calls(%s::jsonb)", (payload,))


def _as_json(record: ToolCallRecord) -> dict[str, object]:
    return {
        "called_at": record.called_at.isoformat(),
        "user_id": None if record.user_id is None else str(record.user_id),
        "tool": record.tool,
        "argument_digest": record.argument_digest,
        "sql_fingerprint": record.sql_fingerprint,
        "row_count": record.row_count,
        "duration_ms": record.duration_ms,
        "outcome": record.outcome,
        "error_code": record.error_code,
    }
