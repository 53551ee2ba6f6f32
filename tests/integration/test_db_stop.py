"""`zava-mcp db stop` on a real embedded PostgreSQL: it says what it did, stops a server nobody
uses, and refuses (exit 2, nothing stopped) while a process is attached."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.postgres.embedded import EmbeddedPostgresServer

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Outside pytest's numbered temp dirs, which a concurrent pytest session may prune from
    under a running PostgreSQL."""
    path = Path(tempfile.mkdtemp(prefix="zava-db-stop-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def zava(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAVA_")}
    env.update(ZAVA_DATA_DIR=str(data_dir), ZAVA_LOG_LEVEL="WARNING")
    return subprocess.run([sys.executable, "-m", "entrypoints.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def attach(data_dir: Path, *, stay: bool) -> subprocess.Popen[str]:
    """Another process that uses the data dir's postgres: it stays attached until its stdin
    closes (stay), or leaves postgres running without itself (started with cleanup off)."""
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from adapters.postgres.embedded import EmbeddedPostgresServer
        EmbeddedPostgresServer(Path({str(data_dir)!r}), stop_on_exit={stay}).start()
        print("attached", flush=True)
        if {stay}:
            sys.stdin.read()
    """)
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline() == "attached\n"
    return process


def leave(process: subprocess.Popen[str]) -> None:
    """Let it exit normally (so its exit hook runs) and release its pipes."""
    process.communicate(timeout=60)


def test_nothing_running_is_said(data_dir: Path) -> None:
    done = zava(data_dir, "db", "stop")
    assert done.returncode == 0, done.stderr
    assert "is not running: nothing to stop" in done.stderr
    assert done.stdout == ""


def test_a_server_nobody_uses_is_stopped(data_dir: Path) -> None:
    leave(attach(data_dir, stay=False))
    running = EmbeddedPostgresServer(data_dir).state()
    assert running.postmaster_pid is not None
    assert running.attached_pids == ()

    done = zava(data_dir, "db", "stop")
    assert done.returncode == 0, done.stderr
    assert f"stopped the embedded PostgreSQL of {data_dir / 'pgdata'}" in done.stderr
    assert f"(pid {running.postmaster_pid})" in done.stderr
    assert EmbeddedPostgresServer(data_dir).state().postmaster_pid is None


def test_refuses_while_a_server_is_attached(data_dir: Path) -> None:
    user = attach(data_dir, stay=True)
    try:
        before = EmbeddedPostgresServer(data_dir).state()
        assert before.attached_pids == (user.pid,)

        refused = zava(data_dir, "db", "stop")
        assert refused.returncode == 2
        assert refused.stderr.count("\n") == 1
        assert f"is in use by pid {user.pid} (" in refused.stderr
        assert "stop it first" in refused.stderr
        assert EmbeddedPostgresServer(data_dir).state().postmaster_pid == before.postmaster_pid
    finally:
        leave(user)
    # the attached process was the last user: its exit stopped postgres
    stopped = zava(data_dir, "db", "stop")
    if EmbeddedPostgresServer(data_dir).state().postmaster_pid is not None:
        pytest.fail(f"postgres still running after its last user and db stop: {stopped.stderr}")
