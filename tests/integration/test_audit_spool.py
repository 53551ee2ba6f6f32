"""The audit spool on a real database: records the database cannot take go to disk before
their call is answered, are replayed in order once it can, and are never appended twice."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from adapters.postgres.audit import PsycopgAuditLog
from adapters.postgres.audit_spool import AuditSpool
from adapters.postgres.gateway import DatabaseGateway
from domain.errors import ServiceUnavailableError
from domain.model import ToolCallRecord
from ports.database_server import DatabaseEndpoints

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


def open_lock_files(directory: Path) -> list[str]:
    """The spool lock files under `directory` this process has open (Linux: /proc)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed since the listing
        if target.startswith(str(directory.resolve())) and target.endswith(".lock"):
            found.append(target)
    return found


@pytest.fixture(autouse=True)
def no_lock_left_open(tmp_path: Path) -> Iterator[None]:
    """Every test closes the spools it opened: none of their lock files stays open (an open
    one is a ResourceWarning when the process ends, and a lock nobody owns any more)."""
    yield
    if Path("/proc/self/fd").is_dir():
        assert open_lock_files(tmp_path) == []


def record(tool: str, n: int) -> ToolCallRecord:
    return ToolCallRecord(called_at=datetime.now(UTC), user_id=None, tool=tool,
                          argument_digest=f"{n:064x}", sql_fingerprint=None, row_count=n,
                          duration_ms=1.0, outcome="error", error_code="SERVICE_UNAVAILABLE")


def audited(admin_url: str, tool: str) -> list[int]:
    with psycopg.connect(admin_url) as conn:
        rows = conn.execute("SELECT row_count FROM audit.tool_calls WHERE tool = %s"
                            " ORDER BY call_id", (tool,)).fetchall()
    return [r[0] for r in rows]


def spooled_lines(directory: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in directory.glob("*.jsonl"))


async def test_records_spool_while_the_database_is_down_and_replay_once(
    gateway: DatabaseGateway, database: DatabaseEndpoints, tmp_path: Path,
) -> None:
    tool = f"spool_test_{os.getpid()}"
    spool_dir = tmp_path / "audit-spool"
    audit = PsycopgAuditLog(gateway, spool=AuditSpool(spool_dir), flush_delay_s=60)
    gateway.reachability.connect_failed(OSError("refused"))  # as the pool would see it
    for n in range(5):
        await audit.record(record(tool, n))
        assert spooled_lines(spool_dir) == n + 1  # on disk before the call is answered
    await audit.flush()  # still down: nothing written, nothing lost
    assert audited(database.admin_url, tool) == []
    copy = tmp_path / "copy"
    shutil.copytree(spool_dir, copy)

    gateway.reachability.connected()
    await audit.record(record(tool, 5))  # waits behind the spooled ones, in order
    await audit.flush()
    assert audited(database.admin_url, tool) == [0, 1, 2, 3, 4, 5]
    assert spooled_lines(spool_dir) == 0

    # the same spool again (a crash between the COMMIT and the delete): appended once
    for path in copy.glob("*.jsonl"):
        shutil.copy(path, spool_dir / path.name)
    restarted = PsycopgAuditLog(gateway, spool=AuditSpool(spool_dir))
    await restarted.flush()  # as at a start
    assert audited(database.admin_url, tool) == [0, 1, 2, 3, 4, 5]
    await restarted.close()
    await audit.close()
    assert not list(spool_dir.glob("*.lock"))  # nothing left to adopt: the lock file is gone


async def test_closing_with_records_left_keeps_them_for_the_next_process(
    gateway: DatabaseGateway, tmp_path: Path,
) -> None:
    spool_dir = tmp_path / "audit-spool"
    audit = PsycopgAuditLog(gateway, spool=AuditSpool(spool_dir), flush_delay_s=60)
    gateway.reachability.connect_failed(OSError("refused"))
    try:
        await audit.record(record(f"spool_close_{os.getpid()}", 1))
        await audit.close()  # the database is still down: the record stays spooled
    finally:
        gateway.reachability.connected()
    assert open_lock_files(spool_dir) == []
    assert (spool_dir / f"{os.getpid()}.lock").exists()  # free: the next process adopts
    assert spooled_lines(spool_dir) == 1


async def test_flushes_look_for_a_gone_process_spool_at_start_then_every_so_often(
    gateway: DatabaseGateway, database: DatabaseEndpoints, tmp_path: Path,
) -> None:
    # Listing the spool takes a thread, which competed with the event loop for the GIL when
    # every flush did it; with nothing of its own spooled, a flush looks at start and then
    # once per orphan_check_s, and a gone process's records are still adopted and written.
    tool = f"spool_orphan_{os.getpid()}"
    spool = AuditSpool(tmp_path)
    listings = 0
    files = spool.files

    def counted() -> list[Path]:
        nonlocal listings
        listings += 1
        return files()

    spool.files = counted  # type: ignore[method-assign]
    audit = PsycopgAuditLog(gateway, spool=spool, flush_delay_s=60, orphan_check_s=0.5)
    await audit.flush()  # as at a start: looks
    assert listings == 1

    # a process that died while the database was down left its spool behind
    gone = PsycopgAuditLog(gateway, spool=AuditSpool(tmp_path / "gone"), flush_delay_s=60)
    gateway.reachability.connect_failed(OSError("refused"))
    try:
        await gone.record(record(tool, 7))
        await gone.close()
    finally:
        gateway.reachability.connected()
    [spooled] = (tmp_path / "gone").glob("*.jsonl")
    spooled.rename(tmp_path / "999999-000001.jsonl")
    (tmp_path / "999999.lock").touch()

    for n in range(20):
        await audit.record(record(tool, n))
        await audit.flush()
    assert listings == 1  # 20 flushes, no listing
    assert audited(database.admin_url, tool) == list(range(20))

    await asyncio.sleep(0.5)
    await audit.flush()
    assert listings == 2
    assert audited(database.admin_url, tool) == [*range(20), 7]  # adopted and written
    assert not list(tmp_path.glob("*.jsonl"))
    await audit.close()


async def test_records_the_spool_cannot_take_stay_in_memory_until_the_database_can(
    gateway: DatabaseGateway, database: DatabaseEndpoints, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tool = f"spool_unwritable_{os.getpid()}"
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")  # the spool's directory would have to be made inside a file
    audit = PsycopgAuditLog(gateway, spool=AuditSpool(blocker / "audit-spool"),
                            flush_delay_s=60)
    write = audit._write

    async def refused(batch: list[dict[str, object]]) -> None:
        raise ServiceUnavailableError("the database is unreachable")

    audit._write = refused  # type: ignore[method-assign]
    for n in range(3):
        await audit.record(record(tool, n))
    await audit.flush()  # the database refuses, and the spool cannot be written
    assert "audit spool not writable" in caplog.text
    assert audited(database.admin_url, tool) == []

    audit._write = write  # type: ignore[method-assign]
    await audit.flush()
    assert audited(database.admin_url, tool) == [0, 1, 2]  # nothing lost
    await audit.close()


async def test_a_record_neither_the_database_nor_the_spool_can_take_is_refused_cleanly(
    gateway: DatabaseGateway, tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    audit = PsycopgAuditLog(gateway, spool=AuditSpool(blocker / "audit-spool"),
                            flush_delay_s=60)
    gateway.reachability.connect_failed(OSError("refused"))
    try:
        with pytest.raises(ServiceUnavailableError) as refused:
            await audit.record(record(f"spool_refused_{os.getpid()}", 1))
    finally:
        gateway.reachability.connected()
    assert "audit trail cannot be written" in refused.value.message
    assert str(tmp_path) not in refused.value.message  # no path, no errno: not internals
    await audit.close()


def test_a_spool_of_a_process_that_is_gone_is_adopted(tmp_path: Path) -> None:
    # a process that died leaves its files and an unlocked lock file
    (tmp_path / "999999.lock").touch()
    (tmp_path / "999999-000001.jsonl").write_text(
        json.dumps({"n": 1}) + "\n" + json.dumps({"n": 2}) + "\n" + '{"n": 3, "cut sh')
    spool = AuditSpool(tmp_path)
    [path] = spool.files()
    assert path.name.startswith(f"{os.getpid()}-")
    assert spool.read(path) == [{"n": 1}, {"n": 2}]  # the torn last line is skipped
    spool.done(path)
    assert not list(tmp_path.glob("*.jsonl"))
    assert not (tmp_path / "999999.lock").exists()
    spool.close()


def test_two_spools_of_one_process_share_its_lock_until_the_last_closes(tmp_path: Path
                                                                        ) -> None:
    first, second = AuditSpool(tmp_path), AuditSpool(tmp_path)
    first.files()
    second.files()
    first.close()
    assert len(open_lock_files(tmp_path)) == 1  # still held for the second
    second.close()
    assert open_lock_files(tmp_path) == []
    assert first.append(["{}"]) == 1  # used again after closing: the lock is taken again
    assert len(open_lock_files(tmp_path)) == 1
    first.close()


def test_a_forked_child_does_not_keep_its_parents_lock(tmp_path: Path) -> None:
    # were the child to keep the parent's descriptor, the parent's lock would outlive the
    # parent, and its spool would never be adopted
    spool = AuditSpool(tmp_path)
    spool.files()
    child = os.fork()
    if child == 0:
        os._exit(0 if open_lock_files(tmp_path) == [] else 1)
    _, status = os.waitpid(child, 0)
    spool.close()
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_full_spool_drops_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                        ) -> None:
    spool = AuditSpool(tmp_path, max_bytes=100)
    assert spool.append(["x" * 60]) == 1
    assert spool.append(["y" * 60]) == 0
    assert spool.dropped == 1
    assert "audit spool full" in caplog.text
    spool.close()


async def test_a_full_backlog_dropping_a_record_in_flight_loses_no_other(
    gateway: DatabaseGateway, database: DatabaseEndpoints,
) -> None:
    # The backlog's limit drops its oldest record, which may be one a flush is writing at that
    # moment: the flush then forgets the records it wrote, not as many records as it wrote
    # (which took the newest record with them).
    tool = f"backlog_write_{os.getpid()}"
    audit = PsycopgAuditLog(gateway, flush_delay_s=60, max_pending=5)
    write = audit._write
    writing, written = asyncio.Event(), asyncio.Event()

    async def held(batch: list[dict[str, object]]) -> None:
        writing.set()
        await written.wait()
        await write(batch)

    audit._write = held  # type: ignore[method-assign]
    for n in range(5):
        await audit.record(record(tool, n))
    flushing = asyncio.create_task(audit.flush())
    await writing.wait()
    await audit.record(record(tool, 5))  # full: 0, already in flight, leaves the backlog
    written.set()
    await flushing
    audit._write = write  # type: ignore[method-assign]
    await audit.flush()
    assert audited(database.admin_url, tool) == [0, 1, 2, 3, 4, 5]
    await audit.close()


async def test_a_full_backlog_dropping_a_record_being_spooled_loses_no_other(
    gateway: DatabaseGateway, database: DatabaseEndpoints, tmp_path: Path,
) -> None:
    # The same while a refused batch goes to the spool (in a thread): a record that arrives
    # meanwhile waits in memory, behind the spooled ones.
    tool = f"backlog_spool_{os.getpid()}"
    spool = AuditSpool(tmp_path / "audit-spool")
    audit = PsycopgAuditLog(gateway, spool=spool, flush_delay_s=60, max_pending=5)
    write, append = audit._write, spool.append
    appending, appended = threading.Event(), threading.Event()

    async def refused(batch: list[dict[str, object]]) -> None:
        raise ServiceUnavailableError("the database is unreachable")

    def held(lines: list[str]) -> None:
        appending.set()
        appended.wait(30)
        append(lines)

    audit._write = refused  # type: ignore[method-assign]
    spool.append = held  # type: ignore[method-assign]
    for n in range(5):
        await audit.record(record(tool, n))
    flushing = asyncio.create_task(audit.flush())
    await asyncio.to_thread(appending.wait, 30)
    await audit.record(record(tool, 5))  # full: 0, being spooled, leaves the backlog
    appended.set()
    await flushing
    assert spooled_lines(tmp_path / "audit-spool") == 5
    audit._write, spool.append = write, append  # type: ignore[method-assign]
    await audit.flush()
    assert audited(database.admin_url, tool) == [0, 1, 2, 3, 4, 5]
    await audit.close()
