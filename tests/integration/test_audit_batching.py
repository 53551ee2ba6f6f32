"""The audit writer batches in the background: recording never waits for the database, a full
batch is written at once, and flush() makes everything durable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from adapters.postgres.audit import PsycopgAuditLog
from adapters.postgres.gateway import DatabaseGateway
from domain.model import ToolCallRecord
from ports.database_server import DatabaseEndpoints

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


def _count(admin_url: str, tool: str) -> int:
    with psycopg.connect(admin_url) as conn:
        row = conn.execute("SELECT count(*) FROM audit.tool_calls WHERE tool = %s",
                           (tool,)).fetchone()
    return int(row[0]) if row else 0


def returns_without_suspending(call: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine's first step: it must finish there, never giving the event loop a turn
    (which is what any wait, on the database or anything else, would take)."""
    try:
        call.send(None)
    except StopIteration:
        return
    call.close()
    raise AssertionError("the call suspended: its caller waited")


async def test_recording_never_waits_and_full_batches_go_at_once(
    gateway: DatabaseGateway, database: DatabaseEndpoints
) -> None:
    tool = f"batch_probe_{time.monotonic_ns()}"
    audit = PsycopgAuditLog(gateway, flush_delay_s=60, batch_size=50)
    record = ToolCallRecord(called_at=datetime.now(UTC), user_id=None, tool=tool,
                            argument_digest="0" * 64, sql_fingerprint=None, row_count=None,
                            duration_ms=1.0, outcome="ok", error_code=None)
    for _ in range(120):  # no database round trip on the caller's path: not even a yield
        returns_without_suspending(audit.record(record))
    for _ in range(250):  # not the flush due in 60 s: the full batches went at once
        await asyncio.sleep(0.02)
        if _count(database.admin_url, tool) >= 100:
            break
    assert _count(database.admin_url, tool) >= 100
    await audit.flush()
    assert _count(database.admin_url, tool) == 120


async def test_steady_load_is_written_in_few_batches(
    gateway: DatabaseGateway, database: DatabaseEndpoints
) -> None:
    tool = f"steady_probe_{time.monotonic_ns()}"
    audit = PsycopgAuditLog(gateway, flush_delay_s=0.2)
    writes = 0
    write = audit._write

    async def counted(batch: list[ToolCallRecord]) -> None:
        nonlocal writes
        writes += 1
        await write(batch)

    audit._write = counted  # type: ignore[method-assign]
    record = ToolCallRecord(called_at=datetime.now(UTC), user_id=None, tool=tool,
                            argument_digest="0" * 64, sql_fingerprint=None, row_count=None,
                            duration_ms=1.0, outcome="ok", error_code=None)
    started = time.monotonic()
    while time.monotonic() - started < 1.0:  # ~1 s of steady calls
        await audit.record(record)
        await asyncio.sleep(0.002)
    await audit.flush()
    recorded = _count(database.admin_url, tool)
    assert recorded > 100
    assert writes <= 10, f"{writes} writes for {recorded} records"


async def test_record_ids_are_time_ordered(
    gateway: DatabaseGateway, database: DatabaseEndpoints
) -> None:
    # UUIDv7: each id starts with its millisecond, so the unique index on record_id grows at
    # its right edge; random (v4) ids land on random pages of an index as big as the table's
    # history (PostgreSQL's CPU per record 17.5 -> 7.5 us on a 3.6M-row table)
    tool = f"id_probe_{time.monotonic_ns()}"
    audit = PsycopgAuditLog(gateway, flush_delay_s=60)
    record = ToolCallRecord(called_at=datetime.now(UTC), user_id=None, tool=tool,
                            argument_digest="0" * 64, sql_fingerprint=None, row_count=None,
                            duration_ms=1.0, outcome="ok", error_code=None)
    for n in range(30):
        await audit.record(record)
        if n % 10 == 9:
            await asyncio.sleep(0.002)  # some in later milliseconds
    await audit.flush()
    with psycopg.connect(database.admin_url) as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT record_id FROM audit.tool_calls WHERE tool = %s ORDER BY call_id",
            (tool,))]
    assert len(ids) == 30
    assert {i.version for i in ids} == {7}
    assert ids == sorted(ids)  # in the order they were recorded
    started = datetime.now(UTC).timestamp() * 1000
    assert abs((ids[-1].int >> 80) - started) < 60_000  # the millisecond they were made
