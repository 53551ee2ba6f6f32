"""Port: the directory of users and the stores each may see."""

from __future__ import annotations

from typing import Protocol

from domain.model import AccessScope, UserId


class AccessDirectory(Protocol):
    async def scope_for(self, user_id: UserId) -> AccessScope:
        """The user's effective access scope; raises domain.errors.UnknownUserError for an id
        that is not a user (never an empty or unlimited scope)."""
        ...
