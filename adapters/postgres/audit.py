"""The audit trail in PostgreSQL: batched appends through audit.append_tool_calls().

Records are queued and written by a background flush a moment later (at once when the batch is
full), so a tool call never waits for, nor pays for, a second transaction; the writes go
through the gateway on the audit writer's own connection, never queued behind tenants.
`flush()` is awaited at start (to replay a spool left behind); `close()` on shutdown flushes
and lets go of the spool's lock.

Nothing is lost to an outage: a batch the database does not take goes to the on-disk spool
(adapters/postgres/audit_spool.py), and while the database is unreachable, or records wait
in the spool, each new record is appended there (fsync'd) before its call is answered. The
spool is replayed, in order, at the next flush that reaches the database. Every record has an
id, so one written twice is appended once: a UUIDv7 (RFC 9562), which starts with its
millisecond, so the unique index on it grows at its right edge like the table; random (v4)
ids landed on random pages of an index as big as the table's history (PostgreSQL's CPU per
record 17.5 -> 7.5 us on a 3.6M-row table). A flush with nothing of its own spooled looks for
the spool of a process that is gone at start and then every `orphan_check_s`, not every time:
the listing runs in a thread, whose file calls each give up and take back the GIL, and under
load the writer flushes ~5-10 times a second.

Without a spool (tests, tools) failed records stay in memory, up to `max_pending`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

import uuid_utils

from adapters.postgres.audit_spool import AuditSpool
from adapters.postgres.gateway import DatabaseGateway
from domain.errors import ServiceUnavailableError, ZavaError
from domain.model import ToolCallRecord
from ports.audit import AuditLog

log = logging.getLogger(__name__)

_APPEND = "SELECT audit.append_tool_calls(%s::jsonb)"
ORPHAN_CHECK_S = 5.0


class PsycopgAuditLog(AuditLog):
    def __init__(
        self,
        gateway: DatabaseGateway,
        *,
        spool: AuditSpool | None = None,
        flush_delay_s: float = 0.1,
        batch_size: int = 200,
        max_pending: int = 50_000,
        orphan_check_s: float = ORPHAN_CHECK_S,
    ) -> None:
        self._gateway = gateway
        self._spool = spool
        self._flush_delay_s = flush_delay_s
        self._batch_size = batch_size
        self._max_pending = max_pending
        self._orphan_check_s = orphan_check_s
        self._next_orphan_check = -float("inf")  # the first flush (at start) looks
        self._pending: list[dict[str, object]] = []
        self._spooled = False  # records wait in the spool: new ones go there too, in order
        self._scheduled: asyncio.Task[None] | None = None
        self._immediate: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def record(self, entry: ToolCallRecord) -> None:
        payload = _as_json(entry)
        loop = asyncio.get_running_loop()
        if self._spool is not None and (self._spooled or self._gateway.reachability.unreachable):
            # durable before the call is answered: a crash now loses nothing
            try:
                await asyncio.to_thread(self._spool.append, [json.dumps(payload)])
            except OSError as e:  # then the call is not answered (the tool edge)
                log.error("audit spool not writable (%s) while the database is unreachable:"
                          " a call goes unanswered", e)
                raise ServiceUnavailableError(
                    "the audit trail cannot be written: the database is unreachable and the"
                    " server's audit spool is not writable", retry_after_s=2.0) from None
            self._spooled = True
            self._schedule(loop)
            return
        if len(self._pending) >= self._max_pending:
            log.error("audit backlog full (%d records): dropping the oldest", self._max_pending)
            del self._pending[0]
        self._pending.append(payload)
        # Never make the caller wait for the write: a full batch flushes now, in the background.
        if len(self._pending) >= self._batch_size:
            if self._immediate is None or self._immediate.done():
                self._immediate = loop.create_task(self.flush())
        else:
            self._schedule(loop)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._scheduled is None or self._scheduled.done():
            self._scheduled = loop.create_task(self._flush_later())

    async def flush(self) -> None:
        """Replay the spool, then write the records accepted before this call. Not those that
        arrive while it writes: under steady load that would turn one flush into an endless
        run of tiny batches."""
        async with self._lock:
            if not await self._replay():
                await self._spool_pending()
                return
            remaining = len(self._pending)
            while remaining > 0 and self._pending:
                batch = self._pending[: min(self._batch_size, remaining)]
                try:
                    await self._write(batch)
                except ZavaError as e:
                    log.warning("audit write failed (%s); %d records kept", e.code,
                                len(self._pending))
                    await self._spool_pending()
                    return
                self._forget(batch)
                remaining -= len(batch)

    async def close(self) -> None:
        """Shutdown: the pending background flush gives way to a last one here (a write it
        had begun is repeated, appended once by the records' ids), then the spool's lock file
        is closed. Records the database did not take stay spooled for the next start."""
        for task in (self._scheduled, self._immediate):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.flush()
        if self._spool is not None:
            self._spool.close()

    async def _replay(self) -> bool:
        """Write every spooled record, oldest file first; False if the database refused."""
        if self._spool is None:
            return True
        if self._spooled and self._gateway.reachability.unreachable:
            return False  # not even worth reading the files
        if not self._spooled and not self._orphan_check_due():
            return True  # nothing of ours on disk, and a gone process's was looked for lately
        files = await asyncio.to_thread(self._spool.files)
        for path in files:
            records = await asyncio.to_thread(self._spool.read, path)
            try:
                for start in range(0, len(records), self._batch_size):
                    await self._write(records[start:start + self._batch_size])
            except ZavaError as e:
                log.warning("audit spool replay failed (%s); records stay spooled", e.code)
                return False
            await asyncio.to_thread(self._spool.done, path)
            log.info("replayed %d spooled audit records from %s", len(records), path.name)
        self._spooled = False
        return True

    def _orphan_check_due(self) -> bool:
        now = time.monotonic()
        if now < self._next_orphan_check:
            return False
        self._next_orphan_check = now + self._orphan_check_s
        return True

    async def _spool_pending(self) -> None:
        if self._spool is None or not self._pending:
            return
        taken = list(self._pending)
        lines = [json.dumps(p) for p in taken]
        try:
            await asyncio.to_thread(self._spool.append, lines)
        except OSError as e:  # the disk, not the records: keep them for the next flush
            log.error("audit spool not writable (%s); %d records kept in memory",
                      type(e).__name__, len(self._pending))
            return
        self._forget(taken)  # not those recorded while the append ran
        self._spooled = True

    def _forget(self, taken: list[dict[str, object]]) -> None:
        """Let go of the records just written or spooled. By identity, not by count: a full
        backlog drops its oldest record, which may be one of these, while they are written."""
        done = {id(payload) for payload in taken}
        written_still_here = 0
        for payload in self._pending:
            if id(payload) not in done:
                break
            written_still_here += 1
        del self._pending[:written_still_here]

    async def _flush_later(self) -> None:
        await asyncio.sleep(self._flush_delay_s)
        await self.flush()
        if self._pending or self._spooled:  # arrived while writing, or still waiting: again
            self._scheduled = asyncio.get_running_loop().create_task(self._flush_later())

    async def _write(self, batch: list[dict[str, object]]) -> None:
        await self._gateway.append_audit(_APPEND, (json.dumps(batch),))


def _as_json(record: ToolCallRecord) -> dict[str, object]:
    return {
        "record_id": str(uuid_utils.uuid7()),
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
