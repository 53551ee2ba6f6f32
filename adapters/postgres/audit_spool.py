"""The audit spool: audit records the database could not take, on disk until it can.

JSON lines under `<data dir>/audit-spool/`, appended and fsync'd before the call they record
is answered, so a crash (even SIGKILL) loses none. Each process writes its own files
(`<pid>-<seq>.jsonl`) and holds an exclusive lock on `<pid>.lock` from its first use of the
spool until the spool is closed (the audit writer's shutdown) or the process ends; a file
whose owner's lock is free belongs to a process that is gone, or closed its spool with
records left in it, and the next process to look adopts it. Replay takes whole files in order
and deletes each once it is written; a record written twice (a crash between the COMMIT and
the delete) is appended once, by its id (sql/011). Bounded: beyond `max_bytes` a record is
dropped, loudly.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

MAX_SPOOL_BYTES = 256 * 1024 * 1024



@dataclass
class _HeldLock:
    """This process's open, flock'ed `<pid>.lock` of one spool directory, and how many spools
    of the process use it: two spools of one process on one directory (two containers in a
    test) share it, because a second flock of the same file by the same process would fail.
    The last spool to close it closes the file."""

    file: IO[bytes]
    users: int


# The lock files this process holds, by path. Only ever touched under _HELD_MUTEX.
_HELD: dict[Path, _HeldLock] = {}
_HELD_MUTEX = threading.Lock()


def _take(lock_path: Path) -> None:
    """Hold `lock_path` (exclusively, against other processes) for one more spool."""
    with _HELD_MUTEX:
        held = _HELD.get(lock_path)
        if held is not None and lock_path.exists():
            held.users += 1
            return
        if held is not None:  # the file was removed under us: lock a new one
            held.file.close()
        lock = lock_path.open("wb")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BaseException:
            lock.close()
            raise
        _HELD[lock_path] = _HeldLock(lock, 1 if held is None else held.users + 1)


def _release(lock_path: Path, *, spooled: bool) -> None:
    """One spool of this process is done with `lock_path`; the last one closes it, and
    removes it when no records of this process are left (`spooled` False): a lock file
    without records has nothing for another process to adopt."""
    with _HELD_MUTEX:
        held = _HELD.get(lock_path)
        if held is None:
            return
        held.users -= 1
        if held.users > 0:
            return
        del _HELD[lock_path]
        if not spooled:
            lock_path.unlink(missing_ok=True)
        held.file.close()  # and with it the lock


def _forget_inherited_locks() -> None:
    """In a forked child: the parent's lock files are the parent's. Closing the inherited
    descriptors leaves the parent's locks in place (the parent still holds its own), and keeps
    a child from holding them after the parent is gone, which would stop the parent's spool
    from ever being adopted."""
    for held in _HELD.values():
        held.file.close()
    _HELD.clear()


os.register_at_fork(after_in_child=_forget_inherited_locks)


class AuditSpool:
    def __init__(self, directory: Path, *, max_bytes: int = MAX_SPOOL_BYTES) -> None:
        self._dir = directory
        self._max_bytes = max_bytes
        self._pid = os.getpid()
        self._claimed_by: int | None = None
        self._seq = 0
        self._bytes = 0
        self.dropped = 0
        self._mutex = threading.Lock()  # append (in a thread) against closing off the file

    @property
    def _current(self) -> Path:
        return self._dir / f"{self._pid}-{self._seq:06d}.jsonl"

    def _claim(self) -> None:
        """Create the directory and take this process's lock (once, on first use, and again
        after `close`)."""
        if self._claimed_by == os.getpid():
            return
        self._pid = os.getpid()  # a forked worker is another owner
        self._dir.mkdir(parents=True, exist_ok=True)
        _take(self._lock_path)
        self._claimed_by = self._pid

    @property
    def _lock_path(self) -> Path:
        return (self._dir / f"{self._pid}.lock").resolve()

    def close(self) -> None:
        """Let go of this process's lock (the audit writer's shutdown). Records still in the
        spool stay for the next process to adopt; a later append takes the lock again."""
        with self._mutex:
            if self._claimed_by != os.getpid():
                return  # never claimed, already closed, or claimed by the parent of a fork
            self._claimed_by = None
            spooled = any(self._dir.glob(f"{self._pid}-*.jsonl"))
            _release(self._lock_path, spooled=spooled)

    def append(self, lines: list[str]) -> int:
        """Append records (JSON, one per line) durably; returns how many were kept."""
        data = "".join(line + "\n" for line in lines).encode()
        with self._mutex:
            self._claim()
            if self._bytes + len(data) > self._max_bytes:
                self.dropped += len(lines)
                log.error("audit spool full (%d bytes): %d records dropped, %d in all",
                          self._max_bytes, len(lines), self.dropped)
                return 0
            with self._current.open("ab") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            self._bytes += len(data)
        return len(lines)

    def files(self) -> list[Path]:
        """Every spool file to replay, oldest first: this process's own (the one being
        written is closed off, so new records start a new file) and those of processes that
        are gone (adopted)."""
        if not self._dir.is_dir():
            return []
        with self._mutex:
            self._claim()
            self._adopt_orphans()
            self._seq += 1  # records from now on go to a new file
            files = sorted(self._dir.glob(f"{self._pid}-*.jsonl"))
            self._bytes = sum(path.stat().st_size for path in files)
            return files

    def _adopt_orphans(self) -> None:
        for lock_path in self._dir.glob("*.lock"):
            owner = lock_path.stem
            if owner == str(self._pid):
                continue
            with lock_path.open("ab") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # alive: its own records are its business
                for path in sorted(self._dir.glob(f"{owner}-*.jsonl")):
                    self._seq += 1
                    path.rename(self._dir / f"{self._pid}-{self._seq:06d}.jsonl")
                    log.warning("adopted the audit spool of process %s (%s)", owner, path.name)
                lock_path.unlink(missing_ok=True)

    @staticmethod
    def read(path: Path) -> list[dict[str, object]]:
        records = []
        for number, line in enumerate(path.read_bytes().splitlines(), 1):
            try:
                records.append(json.loads(line))
            except ValueError:  # a line cut short by a crash in the middle of writing it
                log.error("skipping unreadable line %d of %s", number, path)
        return records

    def done(self, path: Path) -> None:
        """`path` is in the database: delete it."""
        with self._mutex:
            self._bytes -= path.stat().st_size
            path.unlink()
