"""Signed request contexts: how the server tells PostgreSQL who is asking, unforgeably.

The database's access function (sql/003) accepts `zava.context` only if its HMAC-SHA256 under
the key in access.context_key matches, it names the backend it is used on, and it is fresh.
SQL a model writes can call set_config, but it cannot sign: the key is unreadable to the query
role and never sent over the wire (only signatures are, as bind parameters).
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Literal

import psycopg

from domain.errors import ConfigurationError

Purpose = Literal["query", "audit"]

# What the database binds a context to, asked once per connection: the backend pid on a single
# PostgreSQL; on a Citus cluster (whose `db init` re-created the check with
# citus_backend_gpid(), adapters/postgres/citus.py) the global pid, which the coordinator
# backend shares with every worker backend serving it, and the context must then be
# propagated to the workers (access.propagate_context(), sql/030).
BINDING_QUERY = (
    "SELECT pg_backend_pid(), coalesce((SELECT prosrc LIKE '%citus_backend_gpid()%'"
    " FROM pg_proc WHERE oid = to_regprocedure('access.verified_context()')), false)"
)
GLOBAL_PID_QUERY = "SELECT citus_backend_gpid()"
PROPAGATE_CONTEXT = "SELECT access.propagate_context()"


def backend_binding(conn: psycopg.Connection) -> tuple[int, bool]:
    """(the backend id to sign a context for, whether to propagate it to Citus workers)."""
    row = conn.execute(BINDING_QUERY).fetchone()
    pid, on_citus = row if row else (conn.info.backend_pid, False)
    if on_citus:
        (pid,) = conn.execute(GLOBAL_PID_QUERY).fetchone() or (pid,)
    return int(pid), bool(on_citus)


class ContextSigner:
    def __init__(self, key: bytes) -> None:
        if len(key) != 64:
            raise ConfigurationError("the request-context key must be 64 bytes (128 hex digits)")
        # The key's HMAC state, made once: each signature copies it instead of setting the key
        # up again (hmac.digest fetches the digest from OpenSSL's provider on every call,
        # ~20 us per tool call in the server against ~2 us for a copy).
        self._keyed = hmac.new(key, digestmod="sha256")

    def sign(self, purpose: Purpose, subject: str, backend_pid: int) -> str:
        """`subject` travels hex-encoded (UTF-8): a user id may contain `|` (Auth0's
        `auth0|…`) or any other character but a control character (sql/020)."""
        issued_ms = time.time_ns() // 1_000_000
        encoded = subject.encode().hex()
        message = f"v2|{purpose}|{encoded}|{backend_pid}|{issued_ms}|{secrets.token_hex(16)}"
        mac = self._keyed.copy()
        mac.update(message.encode())
        return f"{message}|{mac.hexdigest()}"

    @classmethod
    def from_hex(cls, value: str) -> ContextSigner:
        try:
            return cls(bytes.fromhex(value.strip()))
        except ValueError:
            raise ConfigurationError(
                "ZAVA_CONTEXT_KEY must be 128 hex digits (see `zava-mcp db context-key`)"
            ) from None


def read_context_key(admin_url: str) -> bytes:
    """Fetch the signing key with the owner's connection (the query role cannot read it)."""
    with psycopg.connect(admin_url, connect_timeout=10) as conn:
        row = conn.execute("SELECT key FROM access.context_key").fetchone()
    if row is None:
        raise ConfigurationError("access.context_key is empty: run `zava-mcp db init`")
    return bytes(row[0])
