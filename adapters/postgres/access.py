"""The access directory in PostgreSQL, read through the caller's own RLS context."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import AsyncConn
from domain.errors import UnknownUserError
from domain.model import AccessScope, Role, Store, StoreId, UserId
from ports.access import AccessDirectory

# One round trip: the profile (from the SECURITY DEFINER function that answers only for the
# request's own user) with its visible stores aggregated alongside.
_SCOPE_SQL = """
SELECT p.user_id, p.display_name, p.email, p.role,
       coalesce((SELECT json_agg(json_build_array(s.store_id, s.name, s.city, s.is_online, r.name)
                                 ORDER BY s.name)
                 FROM retail.stores AS s JOIN retail.regions AS r USING (region_id)
                 WHERE s.store_id = ANY ((SELECT access.visible_store_ids())::uuid[])),
                '[]'::json)
FROM access.current_user_profile() AS p
"""


class PsycopgAccessDirectory(AccessDirectory):
    def __init__(self, gateway: DatabaseGateway) -> None:
        self._gateway = gateway

    async def scope_for(self, user_id: UserId) -> AccessScope:
        async def read(conn: AsyncConn) -> tuple[Any, ...] | None:
            return await (await conn.execute(_SCOPE_SQL)).fetchone()

        # Not counted against the user's query limit: the lookup decides whether the request
        # may run at all (the bearer-token check), a user at their limit would otherwise be
        # refused there (before: a WARNING with a traceback, and the request let through
        # anyway), and CachedAccessDirectory keeps it to one per user in flight.
        row = await self._gateway.read("access.scope_for", user_id, read, limited=False)
        if row is None:
            raise UnknownUserError(
                f"unknown user {user_id}; run `zava-mcp users` to list the users"
            )
        uid, display_name, email, role, stores = row
        return AccessScope(
            user_id=UserId(uid),
            display_name=display_name,
            email=email or "",
            role=Role(role),
            stores=tuple(
                Store(StoreId(UUID(s[0])), s[1], s[2], bool(s[3]), s[4]) for s in stores
            ),
        )

