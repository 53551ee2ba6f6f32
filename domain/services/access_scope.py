"""The one access-scope port the server reads: a user's scope remembered briefly.

Every request needs the caller's scope, and more than one part of the server used to look it up
on its own: the bearer-token verifier (is the subject a user? remembered 60 s), the query cache
(which stores: remembered 30 s) and sales analytics (not remembered: one sequential database
trip before every analytics call). They now share this one port: the first of them in a request
looks the scope up, the rest of that request (and the next ones, for `ttl_s`) read it.

With an AccessWatch (every serving process has one, fed by the database's notifications of
operator changes: `zava-mcp users ...`, `db import`), a remembered scope is good only in the
watch's generation it was read in: a revoked store, a removed user, a new store for head office
reach the caller's next call, query-cache keys included; while the watch is not live nothing is
remembered. Without one, a changed grant reaches new answers within `ttl_s`. Either way the
database enforces it at once: row-level security decides on every query from the live tables.
An unknown user is remembered for a shorter `unknown_ttl_s`, so a user added a moment ago is
not refused for long, while a flood of requests for strangers still costs one lookup each few
seconds. Concurrent lookups of one user share a single trip (SingleFlight), remembered or not.
`ttl_s = 0` turns the cache off.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from domain.errors import UnknownUserError
from domain.model import AccessScope, UserId
from domain.services.access_watch import AccessWatch, always_live
from domain.services.single_flight import SingleFlight
from ports.access import AccessDirectory


class CachedAccessDirectory(AccessDirectory):
    def __init__(
        self,
        directory: AccessDirectory,
        *,
        ttl_s: float = 30.0,
        unknown_ttl_s: float = 5.0,
        max_users: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        watch: AccessWatch | None = None,
    ) -> None:
        self._directory = directory
        self._watch = watch or always_live()
        self._ttl_s = ttl_s
        self._unknown_ttl_s = min(unknown_ttl_s, ttl_s)
        self._max_users = max_users
        self._clock = clock
        # (valid until, access generation it was read in, a scope or the message of the
        # UnknownUserError the directory raised)
        self._entries: OrderedDict[UserId, tuple[float, int, AccessScope | str]] = OrderedDict()
        # keyed by generation too: a lookup begun before an access change is not shared after it
        self._lookups: SingleFlight[tuple[UserId, int | None], AccessScope | str] = SingleFlight()

    async def scope_for(self, user_id: UserId) -> AccessScope:
        generation = self._watch.generation
        entry = self._entries.get(user_id)
        if entry is not None and entry[0] > self._clock() and entry[1] == generation:
            scope = entry[2]
        elif self._ttl_s <= 0 or generation is None:
            # nothing is remembered, yet requests in flight still share one trip: so there is
            # at most one lookup of a user in flight (per access generation), which is why the
            # database adapter need not count it against the user's query limit
            scope = await self._lookups.fetch((user_id, generation),
                                              lambda: self._look_up(user_id))
        else:
            scope = await self._lookups.fetch(
                (user_id, generation), lambda: self._remember(user_id, generation))
        if isinstance(scope, str):
            raise UnknownUserError(scope)
        return scope

    async def _look_up(self, user_id: UserId) -> AccessScope | str:
        try:
            return await self._directory.scope_for(user_id)
        except UnknownUserError as e:
            return e.message

    async def _remember(self, user_id: UserId, generation: int) -> AccessScope | str:
        scope = await self._look_up(user_id)  # other errors (database down) are not remembered
        ttl_s = self._unknown_ttl_s if isinstance(scope, str) else self._ttl_s
        self._entries.pop(user_id, None)
        if generation == self._watch.generation:  # no access change while it was read
            self._entries[user_id] = (self._clock() + ttl_s, generation, scope)
        while len(self._entries) > self._max_users:
            self._entries.popitem(last=False)
        return scope

    def forget(self, user_id: UserId | None = None) -> None:
        """Drop one user's remembered scope (all users' if None): the next request looks it up."""
        if user_id is None:
            self._entries.clear()
        else:
            self._entries.pop(user_id, None)
