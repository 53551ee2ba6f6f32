"""In-memory access directory with the same contract as the PostgreSQL one."""

from __future__ import annotations

from collections.abc import Iterable

from adapters.demodata.reference import REGIONS, STORES, USERS
from domain.errors import UnknownUserError
from domain.model import AccessScope, Role, Store, StoreId, UserId
from ports.access import AccessDirectory


class InMemoryAccessDirectory(AccessDirectory):
    def __init__(self, scopes: Iterable[AccessScope]) -> None:
        self._scopes = {scope.user_id: scope for scope in scopes}

    async def scope_for(self, user_id: UserId) -> AccessScope:
        try:
            return self._scopes[user_id]
        except KeyError:
            raise UnknownUserError(
                f"unknown user {user_id}; run `zava-mcp users` to list the users"
            ) from None

    @classmethod
    def from_demo_data(cls) -> InMemoryAccessDirectory:
        """The demo users and stores of `zava-mcp db init`, without a database."""
        region_names = {r.region_id: r.name for r in REGIONS}
        stores = {
            s.store_id: Store(StoreId(s.store_id), s.name, s.city, s.is_online,
                              region_names[s.region_id])
            for s in STORES
        }
        return cls(
            AccessScope(UserId(u.user_id), u.display_name, u.email, Role(u.role),
                        tuple(stores[sid] for sid in u.store_ids))
            for u in USERS
        )
