"""Which functions may appear in a cached query: PostgreSQL's own volatility marks.

A function is IMMUTABLE when the same arguments always give the same answer (`round`, `lower`,
`sum`); STABLE ones depend on the time or on settings within a statement (`now()`, `to_char`
on a timestamptz, `date_trunc` of a timestamptz: it follows TimeZone); VOLATILE ones may
change at every call (`clock_timestamp()`). The guard sees names, not overloads, so a name
counts as immutable only when every overload of it is, in every schema a query resolves names
in (pg_catalog, then search_path's retail and public, where pgvector and pg_trgm live).
"""

from __future__ import annotations

from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import AsyncConn
from domain.services.single_flight import SingleFlight
from ports.cache import FunctionVolatility

IMMUTABLE_FUNCTIONS_SQL = """
SELECT p.proname FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname IN ('pg_catalog', 'retail', 'public')
GROUP BY p.proname HAVING bool_and(p.provolatile = 'i')
"""


class PsycopgFunctionVolatility(FunctionVolatility):
    """Reads pg_proc.provolatile once (the first time it is asked, at start) and remembers it:
    a function's volatility changes only with a new PostgreSQL or extension version."""

    def __init__(self, gateway: DatabaseGateway) -> None:
        self._gateway = gateway
        self._immutable: frozenset[str] | None = None
        self._loading: SingleFlight[None, frozenset[str]] = SingleFlight()

    async def immutable_functions(self) -> frozenset[str]:
        if self._immutable is None:
            self._immutable = await self._loading.fetch(None, self._load)
        return self._immutable

    async def _load(self) -> frozenset[str]:
        async def read(conn: AsyncConn) -> frozenset[str]:
            rows = await (await conn.execute(IMMUTABLE_FUNCTIONS_SQL)).fetchall()
            return frozenset(str(name) for (name,) in rows)

        return await self._gateway.read("function_volatility", None, read)
