"""Worker sessions of the query role that only the coordinator can open (issue 16).

On a Citus cluster the signed request context reaches the workers as statement text (a
propagated `SET LOCAL zava.context = '…'`), bound to a global pid that any client can claim
there (application_name `citus_internal gpid=…`). Whoever could log in to a worker as the query
role could replay a value read from a worker's log within its freshness window. So the query
role gets a password on each worker that nobody else has: random, different per worker, set on
that worker only (role DDL propagation off, so neither the coordinator nor another node gets
it), and stored in the coordinator's `pg_dist_authinfo` (superuser-only, never synced to other
nodes), from which Citus takes it for its own connections. The application's credentials (its
DSN for the coordinator) no longer open a worker session, provided the workers ask the query
role for a password (`pg_hba.conf`, which only the operator can change): `worker_logins_open()`
checks that from outside, as an attacker would try.

Idempotent: a worker whose stored password still matches its SCRAM verifier (of
WORKER_SCRAM_ITERATIONS rounds) is left alone; a
worker without one (added later: Citus copied the coordinator's role, password included) or
whose password was overwritten (an `ALTER ROLE zava_query PASSWORD` on the coordinator is
propagated to every node) gets a new one on the next `zava-mcp db init`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from domain.errors import ConfigurationError

QUERY_ROLE = "zava_query"
# What the operator adds on every worker, above any line that would let the role in on trust.
PG_HBA_LINES = (f"host all {QUERY_ROLE} all scram-sha-256",
                f"local all {QUERY_ROLE} scram-sha-256")
# PBKDF2 rounds of the worker verifiers. Citus opens worker connections all the time (a multi-
# shard query may open several per worker, and only citus.max_cached_conns_per_worker survive its
# transaction), and with PostgreSQL's default 4096 rounds each login cost both ends a few ms of
# CPU: the RLS tax of a 90-day head-office query on the test cluster rose from 1.22x to 1.60x.
# The rounds slow down guessing a weak password from its verifier; this password is 256 random
# bits, which no number of guesses reaches, so one round loses nothing.
WORKER_SCRAM_ITERATIONS = 1
# How a worker says no to the credentials (English server messages; a worker that answers in
# another language is reported as not checked, never as closed).
_AUTH_REFUSED = ("password authentication failed", "no password supplied",
                 "password is required", "pg_hba.conf rejects")


class WorkerLoginError(ConfigurationError):
    """The query role's worker passwords could not be set: the message says why (and names the
    worker), one line for the command line."""


@dataclass(frozen=True)
class Worker:
    node_id: int
    host: str
    port: int

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"


def workers(conn: psycopg.Connection) -> list[Worker]:
    rows = conn.execute(
        "SELECT nodeid, nodename, nodeport FROM pg_dist_node"
        " WHERE groupid <> 0 AND noderole = 'primary' AND isactive ORDER BY nodeid"
    ).fetchall()
    return [Worker(int(r[0]), str(r[1]), int(r[2])) for r in rows]


def separate_worker_passwords(conn: psycopg.Connection) -> list[str]:
    """Give the query role a password of its own on every worker that lacks a working one;
    return what changed (nothing when every worker's stored password still works)."""
    if not conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
                        ).fetchone() == (True,):
        raise WorkerLoginError(
            "the worker passwords of zava_query need a superuser admin connection"
            " (ZAVA_ADMIN_DATABASE_URL): pg_authid and pg_dist_authinfo are superuser-only")
    stored: dict[int, str] = dict(conn.execute(
        "SELECT nodeid, authinfo FROM pg_dist_authinfo WHERE rolename = %s", (QUERY_ROLE,)
    ).fetchall())
    changed = []
    for worker in workers(conn):
        password = _password_in(stored.get(worker.node_id))
        verifier = _verifier_on(conn, worker)
        if password is not None and password_matches(password, verifier) and \
                _iterations(verifier) == WORKER_SCRAM_ITERATIONS:
            continue
        password = secrets.token_urlsafe(32)  # [A-Za-z0-9_-]: no conninfo quoting needed
        _set_on_worker(conn, worker, _scram_verifier(conn, password))
        conn.execute("DELETE FROM pg_dist_authinfo WHERE nodeid = %s AND rolename = %s",
                     (worker.node_id, QUERY_ROLE))
        conn.execute("INSERT INTO pg_dist_authinfo (nodeid, rolename, authinfo)"
                     " VALUES (%s, %s, %s)", (worker.node_id, QUERY_ROLE, f"password={password}"))
        # Citus opens worker connections from other sessions too: they must see it at once
        conn.commit()
        changed.append(f"{QUERY_ROLE}: a password of its own on worker {worker.name}"
                       " (in pg_dist_authinfo)")
    return changed


def worker_logins_open(conn: psycopg.Connection, query_url: str) -> list[str]:
    """Warnings for each worker that lets the query role in with the application's own
    credentials (`query_url` aimed at the worker), or that could not be checked."""
    warnings = []
    for worker in workers(conn):
        conninfo = make_conninfo(query_url, host=worker.host, port=worker.port, hostaddr=None,
                                 connect_timeout=5)
        try:
            psycopg.connect(conninfo).close()
        except psycopg.OperationalError as error:
            if any(text in str(error) for text in _AUTH_REFUSED):
                continue
            warnings.append(
                f"could not check worker {worker.name} from here ({_first_line(error)}):"
                f" make sure it asks {QUERY_ROLE} for its password (pg_hba.conf:"
                f" `{PG_HBA_LINES[0]}`)")
            continue
        warnings.append(
            f"worker {worker.name} lets {QUERY_ROLE} log in with the application's own"
            " credentials (ZAVA_DATABASE_URL): a copied request context could be replayed"
            f" there. Add `{PG_HBA_LINES[0]}` (and `{PG_HBA_LINES[1]}`) to its pg_hba.conf"
            " above any line that trusts that role, then reload it (SELECT pg_reload_conf())")
    return warnings


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _password_in(authinfo: str | None) -> str | None:
    if not authinfo:
        return None
    fields = dict(part.split("=", 1) for part in authinfo.split() if "=" in part)
    return fields.get("password")


def _verifier_on(conn: psycopg.Connection, worker: Worker) -> str | None:
    row = conn.execute(
        "SELECT success, result FROM master_run_on_worker(ARRAY[%s], ARRAY[%s], ARRAY[%s], false)",
        (worker.host, worker.port,
         f"SELECT rolpassword FROM pg_authid WHERE rolname = '{QUERY_ROLE}'"),
    ).fetchone()
    if row is None or not row[0]:
        raise WorkerLoginError(f"cannot read {QUERY_ROLE}'s password verifier on worker"
                               f" {worker.name}: {row[1] if row else 'no answer'}")
    return str(row[1]) if row[1] else None


def _scram_verifier(conn: psycopg.Connection, password: str) -> str:
    """The SCRAM-SHA-256 verifier, computed here (libpq): the password itself never travels
    in statement text, only this one-way form of it."""
    conn.execute(f"SET scram_iterations = {WORKER_SCRAM_ITERATIONS}")  # libpq reads it back
    try:
        verifier = conn.pgconn.encrypt_password(password.encode(), QUERY_ROLE.encode(),
                                                b"scram-sha-256")
    finally:
        conn.execute("RESET scram_iterations")
    if _iterations(verifier.decode()) != WORKER_SCRAM_ITERATIONS:
        raise WorkerLoginError("libpq did not use scram_iterations for the worker password")
    return verifier.decode()


@dataclass(frozen=True)
class _ScramVerifier:
    """`SCRAM-SHA-256$<rounds>:<salt>$<stored key>:<server key>` (RFC 5803), as pg_authid has it."""

    iterations: int
    salt: bytes
    stored_key: bytes

    @classmethod
    def parse(cls, verifier: str | None) -> _ScramVerifier | None:
        try:
            method, rest = (verifier or "").split("$", 1)
            params, keys = rest.split("$", 1)
            iterations, salt = params.split(":", 1)
            if method != "SCRAM-SHA-256":
                return None
            return cls(int(iterations), base64.b64decode(salt),
                       base64.b64decode(keys.split(":", 1)[0]))
        except ValueError:  # binascii.Error is one too
            return None


def _iterations(verifier: str | None) -> int | None:
    parsed = _ScramVerifier.parse(verifier)
    return None if parsed is None else parsed.iterations


def _set_on_worker(conn: psycopg.Connection, worker: Worker, verifier: str) -> None:
    # propagation off: a worker with metadata would otherwise send the role change to the
    # coordinator and to every other node
    command = sql.SQL("SET citus.enable_ddl_propagation TO off; ALTER ROLE {} PASSWORD {}").format(
        sql.Identifier(QUERY_ROLE), sql.Literal(verifier)).as_string(conn)
    row = conn.execute(
        "SELECT success, result FROM master_run_on_worker(ARRAY[%s], ARRAY[%s], ARRAY[%s], false)",
        (worker.host, worker.port, command),
    ).fetchone()
    if row is None or not row[0]:
        raise WorkerLoginError(f"cannot set {QUERY_ROLE}'s password on worker {worker.name}:"
                               f" {row[1] if row else 'no answer'}")


def password_matches(password: str, verifier: str | None) -> bool:
    """Whether `password` is the one behind a SCRAM-SHA-256 verifier (RFC 5802 / 7677)."""
    parsed = _ScramVerifier.parse(verifier)
    if parsed is None:
        return False
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), parsed.salt, parsed.iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), parsed.stored_key)
