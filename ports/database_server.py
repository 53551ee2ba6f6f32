"""Port: where the PostgreSQL server comes from (embedded for the quick start, or external)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class DatabaseEndpoints:
    """Connection strings for one database.

    `admin_url` may create roles and run migrations; `query_url` is the least-privileged role
    that serves every request. Never hand `admin_url` to request-serving code.
    """

    admin_url: str
    query_url: str
    kind: Literal["embedded", "external"]


class DatabaseServer(Protocol):
    def start(self) -> DatabaseEndpoints:
        """Make the server reachable (starting it if it is embedded) and return its endpoints."""
        ...

    def stop(self) -> None:
        """Release the server (stop it if this process started it)."""
        ...
