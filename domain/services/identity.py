"""Identity service: who the caller is, what they may see, and what time it is."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.errors import ValidationError
from domain.model import AccessScope, UserId
from ports.access import AccessDirectory
from ports.clock import Clock


def parse_user_id(raw: str) -> UserId:
    """Parse a user id given on the command line, in settings or in a token subject."""
    try:
        return UserId(UUID(raw.strip()))
    except (ValueError, AttributeError) as e:
        raise ValidationError(
            f"user id {raw!r} is not a UUID; run `zava-mcp users` to list the demo users"
        ) from e


class IdentityService:
    def __init__(self, directory: AccessDirectory, clock: Clock) -> None:
        self._directory = directory
        self._clock = clock

    async def whoami(self, user_id: UserId) -> AccessScope:
        """The caller's profile and visible stores; UnknownUserError for anyone else."""
        return await self._directory.scope_for(user_id)

    def current_utc_time(self) -> datetime:
        return self._clock.now()
