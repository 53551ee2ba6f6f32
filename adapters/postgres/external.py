"""An external PostgreSQL ≥ 15 with pgvector (Azure, RDS, self-hosted): nothing to start."""

from __future__ import annotations

from ports.database_server import DatabaseEndpoints


class ExternalPostgresServer:
    def __init__(self, query_url: str, admin_url: str | None) -> None:
        self._query_url = query_url
        self._admin_url = admin_url

    def start(self) -> DatabaseEndpoints:
        return DatabaseEndpoints(
            # without an admin URL only serving works; migrations say so when asked to run
            admin_url=self._admin_url or "",
            query_url=self._query_url,
            kind="external",
        )

    def stop(self) -> None:
        """Nothing to stop: the server belongs to someone else."""
