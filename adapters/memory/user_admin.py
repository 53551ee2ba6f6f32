"""In-memory user administration with the same contract as the PostgreSQL one: a refused plan
changes nothing, an applied one is recorded with what changed."""

from __future__ import annotations

from collections.abc import Callable

from adapters.demodata.reference import STORES, USERS
from domain.directory import AccessChange, DirectorySnapshot, RegisteredUser, StoreRef
from domain.model import Role, StoreId, UserId
from ports.user_admin import UserAdministration


class InMemoryUserAdministration(UserAdministration):
    def __init__(self, snapshot: DirectorySnapshot) -> None:
        self._snapshot = snapshot
        self.changes: list[tuple[str, AccessChange]] = []  # (operator, change): the audit trail

    def snapshot(self) -> DirectorySnapshot:
        return self._snapshot

    def apply(
        self, plan: Callable[[DirectorySnapshot], AccessChange], operator: str
    ) -> AccessChange:
        change = plan(self._snapshot)  # raises before anything changes
        if change.changed:
            users = dict(self._snapshot.users)
            users.pop(change.user_id, None)
            if change.user is not None:
                users[change.user_id] = change.user
            self._snapshot = DirectorySnapshot(users, self._snapshot.stores)
            self.changes.append((operator, change))
        return change

    @classmethod
    def from_demo_data(cls) -> InMemoryUserAdministration:
        return cls(DirectorySnapshot(
            users={UserId(u.user_id): RegisteredUser(
                UserId(u.user_id), u.display_name, u.email, Role(u.role),
                frozenset(StoreId(s) for s in u.store_ids)) for u in USERS},
            stores=tuple(StoreRef(StoreId(s.store_id), s.code, s.name, s.city)
                         for s in STORES),
        ))
