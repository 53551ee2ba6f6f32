"""`db init` is all or nothing, `db status` tells the truth, and the server refuses to serve
through a role that would bypass row-level security."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg
import pytest

from adapters.postgres import provisioning
from adapters.postgres.embedded import prune_dead_handle_pids
from adapters.postgres.startup_checks import verify_serving_database
from domain.errors import ConfigurationError
from ports.database_server import DatabaseEndpoints
from tests.support.temp_disk import lowered_temp_file_limit

pytestmark = pytest.mark.integration


def _schemas(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname IN"
            " ('retail', 'access', 'audit', 'zava_meta')")}


def test_a_failed_first_init_leaves_nothing_behind(scratch: DatabaseEndpoints) -> None:
    def explode(table: str, done: int, total: int) -> None:
        if table == "retail.orders" and done > 0:
            raise RuntimeError("disk full (simulated)")

    with pytest.raises(RuntimeError, match="simulated"):
        provisioning.initialise(
            scratch, provisioning.DemoDataRequest(seed=1, anchor=date(2026, 1, 31)),
            progress=explode,
        )
    assert _schemas(scratch.admin_url) == set()
    status = provisioning.status(scratch)
    assert status.schema_version is None
    assert not status.initialised
    # and a retry from that clean state succeeds
    report = provisioning.initialise(
        scratch, provisioning.DemoDataRequest(seed=1, anchor=date(2026, 1, 31))
    )
    assert report.loaded["retail.orders"] > 0
    assert provisioning.status(scratch).initialised


def test_init_twice_is_a_no_op_and_reset_rebuilds(scratch: DatabaseEndpoints) -> None:
    request = provisioning.DemoDataRequest(seed=3, anchor=date(2026, 3, 31))
    provisioning.initialise(scratch, request)
    first = provisioning.status(scratch)
    again = provisioning.initialise(scratch, request)
    assert again.already_initialised
    assert provisioning.status(scratch).row_counts == first.row_counts
    rebuilt = provisioning.initialise(
        scratch, provisioning.DemoDataRequest(seed=4, anchor=date(2026, 3, 31)), reset=True
    )
    assert not rebuilt.already_initialised
    assert provisioning.status(scratch).dataset["seed"] == 4


def test_status_reports_versions_and_counts(database: DatabaseEndpoints) -> None:
    status = provisioning.status(database)
    assert status.kind == "embedded"
    assert status.schema_version == status.latest_version
    assert status.row_counts["retail.stores"] == 8
    assert status.row_counts["retail.orders"] > 10_000
    assert status.dataset is not None
    assert status.dataset["seed"] == 7


def test_refuses_to_serve_as_a_superuser(database: DatabaseEndpoints) -> None:
    with pytest.raises(ConfigurationError, match="is a superuser"):
        verify_serving_database(database.admin_url)
    verify_serving_database(database.query_url)  # the real query role passes


def test_warns_at_start_when_the_query_role_has_no_temp_file_limit(
    database: DatabaseEndpoints, caplog: pytest.LogCaptureFixture,
) -> None:
    verify_serving_database(database.query_url)
    assert "temp_file_limit" not in caplog.text  # sql/061 set it
    with lowered_temp_file_limit(database.admin_url, None):  # a server where it could not
        verify_serving_database(database.query_url)
    assert ("the query role has no temp_file_limit: one query can fill the database's disk"
            in caplog.text)
    assert "ALTER ROLE zava_query SET temp_file_limit = '1GB'" in caplog.text


def test_refuses_to_serve_without_forced_rls(scratch: DatabaseEndpoints) -> None:
    provisioning.initialise(scratch, provisioning.DemoDataRequest(seed=5))
    with psycopg.connect(scratch.admin_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE retail.orders NO FORCE ROW LEVEL SECURITY")
    with pytest.raises(ConfigurationError, match=r"FORCEd on retail\.orders"):
        verify_serving_database(scratch.query_url)


def test_dead_pids_are_pruned_from_the_handle_list(tmp_path: Path) -> None:
    handles = tmp_path / ".handle_pids.json"
    dead = 2**22 + 12345  # above pid_max on Linux
    handles.write_text(json.dumps([os.getpid(), dead]))
    prune_dead_handle_pids(handles)
    assert json.loads(handles.read_text()) == [os.getpid()]
    handles.write_text("{not json")
    prune_dead_handle_pids(handles)
    assert json.loads(handles.read_text()) == []  # rebuilt: no process has tmp_path attached


_OWNER = """
import json, subprocess, sys
from pathlib import Path
from adapters.postgres.embedded import EmbeddedPostgresServer

server = EmbeddedPostgresServer(Path(sys.argv[1]))
server.start()
# a sibling that attached and was killed (SIGKILL: no exit hook) leaves its pid behind
sibling = subprocess.Popen(["sleep", "60"])
sibling.kill()
sibling.wait()
handles = server.pgdata / ".handle_pids.json"
handles.write_text(json.dumps(json.loads(handles.read_text()) + [sibling.pid]))
print((server.pgdata / "postmaster.pid").read_text().split()[0], flush=True)
"""  # then it exits normally: the last live user


def test_the_last_live_user_stops_postgres_despite_a_killed_sibling(tmp_path: Path) -> None:
    postmaster_pid = tmp_path / "pgdata" / "postmaster.pid"
    try:
        done = subprocess.run([sys.executable, "-c", _OWNER, str(tmp_path)], capture_output=True,
                              text=True, timeout=120, check=False, cwd=Path(__file__).parents[2])
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip().isdigit()  # it was running
        # postgres removes postmaster.pid when it shuts down cleanly
        assert not postmaster_pid.exists()
        assert json.loads((tmp_path / "pgdata" / ".handle_pids.json").read_text()) == []
    finally:
        if postmaster_pid.exists():  # the failure this test is about: stop what it left
            os.kill(int(postmaster_pid.read_text().split()[0]), signal.SIGINT)
