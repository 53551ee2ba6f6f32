"""Fair sharing: at most N units of database work in flight per user.

A call beyond its user's limit waits for one of that user's own slots, never for another
user's, for at most `wait_s`, then gets RATE_LIMITED with a retry hint. So one user running
slow queries holds at most N pooled connections and everybody else keeps the rest.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

from domain.errors import RateLimitedError


class _Slots:
    __slots__ = ("in_use", "waiters")

    def __init__(self) -> None:
        self.in_use = 0
        self.waiters: deque[asyncio.Future[None]] = deque()


class UserConcurrencyLimit:
    def __init__(self, limit: int, *, wait_s: float = 2.0) -> None:
        if limit < 1:
            raise ValueError("the per-user limit must be at least 1")
        self.limit = limit
        self._wait_s = wait_s
        self._users: dict[Hashable, _Slots] = {}

    def in_flight(self, user: Hashable) -> int:
        slots = self._users.get(user)
        return 0 if slots is None else slots.in_use

    @asynccontextmanager
    async def slot(self, user: Hashable) -> AsyncIterator[None]:
        slots = self._users.get(user)
        if slots is None:
            slots = self._users[user] = _Slots()
        if slots.in_use < self.limit:
            slots.in_use += 1  # the common case: no await, no future
        else:
            await self._wait(user, slots)
        try:
            yield
        finally:
            self._release(user, slots)

    async def _wait(self, user: Hashable, slots: _Slots) -> None:
        waiter = asyncio.get_running_loop().create_future()
        slots.waiters.append(waiter)
        try:
            async with asyncio.timeout(self._wait_s):
                await asyncio.shield(waiter)
        except TimeoutError:
            if waiter.done():  # handed a slot just as the wait ran out: take it
                return
            waiter.cancel()
            slots.waiters.remove(waiter)
            raise RateLimitedError(
                f"you already have {self.limit} database queries running, the most one user"
                " may have at once; this call waited"
                f" {self._wait_s:g} s for one of them to finish",
                retry_after_s=max(1.0, self._wait_s),
            ) from None
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._release(user, slots)  # handed a slot, then cancelled: pass it on
                raise
            waiter.cancel()
            if waiter in slots.waiters:
                slots.waiters.remove(waiter)
            raise

    def _release(self, user: Hashable, slots: _Slots) -> None:
        # hand the slot to the next waiter still waiting (in_use stays), or free it
        while slots.waiters:
            waiter = slots.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        slots.in_use -= 1
        if slots.in_use == 0 and not slots.waiters:
            del self._users[user]
