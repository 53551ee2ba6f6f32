"""The embedded PostgreSQL starts whatever state the wheel's handle list was left in: many
servers starting and stopping at once on one data dir, killed ones, and an empty or corrupt
`.handle_pids.json` (which used to fail every later start with a JSONDecodeError)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.postgres.embedded import HANDLE_LIST, read_handle_pids

pytestmark = pytest.mark.integration

REPO = Path(__file__).parents[2]

# One zava-mcp user of the embedded server: start (attach), hold it a moment, query it, exit
# normally (the wheel's exit hook stops postgres if this was the last user).
_USER = """
import sys, time
from pathlib import Path
import psycopg
from adapters.postgres.embedded import EmbeddedPostgresServer

endpoints = EmbeddedPostgresServer(Path(sys.argv[1])).start()
print("attached", flush=True)
time.sleep(float(sys.argv[2]))
with psycopg.connect(endpoints.admin_url) as conn:
    conn.execute("SELECT 1")
"""


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """One data dir for the module (initdb once); each test leaves postgres stopped."""
    path = Path(tempfile.mkdtemp(prefix="zava-embedded-"))  # outside pytest's pruned temp dirs
    try:
        _run_user(path)  # initdb, start, stop
        yield path
    finally:
        postmaster = path / "pgdata" / "postmaster.pid"
        if postmaster.exists():  # a failing test must not leave postgres running
            os.kill(int(postmaster.read_text().split()[0]), signal.SIGINT)
            time.sleep(1)
        shutil.rmtree(path, ignore_errors=True)


def _user(data_dir: Path, hold_s: float = 0.0) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", _USER, str(data_dir), str(hold_s)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _run_user(data_dir: Path) -> None:
    process = _user(data_dir)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    assert out.strip() == "attached"


def _assert_stopped_and_released(data_dir: Path) -> None:
    pgdata = data_dir / "pgdata"
    assert not (pgdata / "postmaster.pid").exists()  # removed by a clean shutdown
    assert json.loads((pgdata / HANDLE_LIST).read_text()) == []


@pytest.mark.parametrize("content", ["", "{not json", '[1, "x"]', "null"])
def test_an_empty_or_corrupt_handle_list_is_rebuilt(data_dir: Path, content: str) -> None:
    (data_dir / "pgdata" / HANDLE_LIST).write_text(content)
    _run_user(data_dir)  # failed with a JSONDecodeError / TypeError before
    _assert_stopped_and_released(data_dir)


def test_the_rebuilt_list_names_the_live_users(data_dir: Path) -> None:
    handles = data_dir / "pgdata" / HANDLE_LIST
    first, second = _user(data_dir, hold_s=60), _user(data_dir, hold_s=60)
    try:
        for process in (first, second):
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "attached"
        handles.write_text("")
        assert read_handle_pids(handles) == sorted([first.pid, second.pid])
        assert json.loads(handles.read_text()) == sorted([first.pid, second.pid])
    finally:
        for process in (first, second):
            process.kill()
            process.communicate()
        _run_user(data_dir)  # prunes the killed pair, stops postgres


def test_twenty_servers_start_and_stop_concurrently_then_once_more(data_dir: Path) -> None:
    """20 users of one data dir start and stop at once; 3 of them are killed (no exit hook);
    meanwhile something outside the wheel's lock empties the handle list twice (a killed
    writer of the old in-place write did exactly that). Every normal exit succeeds, and one
    more start afterwards works and leaves postgres stopped."""
    handles = data_dir / "pgdata" / HANDLE_LIST
    users = [_user(data_dir, hold_s=0.2 * (i % 5)) for i in range(20)]
    killed = users[::7]  # 0, 7, 14

    def vandal() -> None:
        for _ in range(2):
            time.sleep(1.5)
            handles.write_text("")

    emptier = threading.Thread(target=vandal)
    emptier.start()
    for process in killed:
        assert process.stdout is not None
        process.stdout.readline()  # attached, then killed while holding the server
        process.kill()
    failures = []
    for process in users:
        _, err = process.communicate(timeout=180)
        if process not in killed and process.returncode != 0:
            failures.append(err[-2000:])
    emptier.join()
    assert failures == []
    _run_user(data_dir)  # prunes the killed ones' pids (or rebuilds), attaches, is the last
    _assert_stopped_and_released(data_dir)
