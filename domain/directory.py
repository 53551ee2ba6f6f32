"""The access directory as an operator sees it: registered users, their stores, and a change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from domain.errors import ValidationError
from domain.model import Role, StoreId, UserId


class AccessAction(StrEnum):
    ADD = "add"
    GRANT = "grant"
    REVOKE = "revoke"
    REMOVE = "remove"


@dataclass(frozen=True)
class StoreRef:
    store_id: StoreId
    code: str
    name: str
    city: str


@dataclass(frozen=True)
class RegisteredUser:
    user_id: UserId
    display_name: str
    email: str | None
    role: Role
    store_ids: frozenset[StoreId] = frozenset()


@dataclass(frozen=True)
class DirectorySnapshot:
    users: Mapping[UserId, RegisteredUser]
    stores: tuple[StoreRef, ...]

    def user(self, user_id: UserId) -> RegisteredUser:
        found = self.users.get(user_id)
        if found is None:
            raise ValidationError(
                f"unknown user {user_id!r}: `zava-mcp users` lists the registered users,"
                " `zava-mcp users add` registers one"
            )
        return found


@dataclass(frozen=True)
class AccessChange:
    """What one command changes: the user as they will be (None once removed) and the stores
    added or taken away. `changed` is False for a grant or revoke that changes nothing."""

    action: AccessAction
    user_id: UserId
    user: RegisteredUser | None
    added: tuple[StoreRef, ...] = ()
    removed: tuple[StoreRef, ...] = ()
    previous: RegisteredUser | None = None
    changed: bool = field(default=True)

    def details(self) -> dict[str, object]:
        """What the audit trail records about the change."""
        subject = self.user or self.previous
        details: dict[str, object] = {}
        if subject is not None:
            details |= {"display_name": subject.display_name, "role": subject.role.value}
        if self.added:
            details["stores_added"] = [s.code for s in self.added]
        if self.removed:
            details["stores_removed"] = [s.code for s in self.removed]
        return details
