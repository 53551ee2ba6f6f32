"""The audit spool: audit records the database could not take, on disk until it can.

JSON lines under `<data dir>/audit-spool/`, appended and fsync'd before the call they record
is answered, so a crash (even SIGKILL) loses none. Each process writes its own files
(`<pid>-<seq>.jsonl`) and holds an exclusive lock on `<pid>.lock` for as long as it lives; a
file whose owner's lock is free belongs to a process that is gone, and the next process to
look adopts it. Replay takes whole files in order and deletes each once it is written; a
record written twice (a crash between the COMMIT and the delete) is appended once, by its id
(sql/011). Bounded: beyond `max_bytes` a record is dropped, loudly.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

MAX_SPOOL_BYTES = 256 * 1024 * 1024

# The lock files this process holds, one per spool directory: two spools of one process on one
# directory (two containers in a test) share the ownership.
_HELD: dict[Path, IO[bytes]] = {}


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
        """Create the directory and take this process's lock (once, on first use)."""
        if self._claimed_by == os.getpid():
            return
        self._pid = os.getpid()  # a forked worker is another owner
        self._dir.mkdir(parents=True, exist_ok=True)
        lock_path = (self._dir / f"{self._pid}.lock").resolve()
        if lock_path not in _HELD or not lock_path.exists():
            lock = lock_path.open("wb")
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _HELD[lock_path] = lock
        self._claimed_by = self._pid

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
