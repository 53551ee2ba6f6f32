"""Identity service: who the caller is, what they may see, and what time it is."""

from __future__ import annotations

import re
import shlex
from datetime import datetime

from domain.errors import ValidationError
from domain.model import AccessScope, UserId
from ports.access import AccessDirectory
from ports.clock import Clock

MAX_USER_ID_CHARS = 255
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def parse_user_id(raw: str) -> UserId:
    """A user id given on the command line, in settings or in a token claim: the identity
    provider's subject, any text of 1 to 255 characters without control characters (surrounding
    blanks are dropped). Demo users have UUIDs; Entra ID, Okta or Auth0 ids need not be."""
    value = raw.strip() if isinstance(raw, str) else ""
    if not value or len(value) > MAX_USER_ID_CHARS or _CONTROL_CHARACTERS.search(value):
        shown = repr(raw[:40] + "…" if isinstance(raw, str) and len(raw) > 40 else raw)
        raise ValidationError(
            f"user id {shown} is not accepted: a user id is 1 to {MAX_USER_ID_CHARS} characters"
            " without control characters (`zava-mcp users` lists the users)"
        )
    return UserId(value)


def not_registered_message(user_id: str) -> str:
    """Why a stranger is refused and what an operator does about it: the same words over HTTP
    (403), from `zava-mcp token` and from a stdio server."""
    return (
        f"user {user_id!r} is not registered on this server; an operator registers them with"
        f" `zava-mcp users add --id {shlex.quote(user_id)} --name NAME"
        " --role store_manager|regional_manager|head_office [--stores LIST]`"
    )


class IdentityService:
    def __init__(self, directory: AccessDirectory, clock: Clock) -> None:
        self._directory = directory
        self._clock = clock

    async def whoami(self, user_id: UserId) -> AccessScope:
        """The caller's profile and visible stores; UnknownUserError for anyone else."""
        return await self._directory.scope_for(user_id)

    def current_utc_time(self) -> datetime:
        return self._clock.now()
