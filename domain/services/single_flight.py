"""Concurrent callers that need the same missing value share one fetch of it.

Without this, a value remembered for a while (a data version, a user's store scope) expires
under load and every request in flight fetches it at once: 64 clients made 64 identical
queries queue for the pool's 10 connections, and calls stalled for up to 2 s every time the
data version expired.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """At most one fetch per key at a time; everyone who asks meanwhile awaits that one.

    The fetch runs as its own task, so a caller that is cancelled (its client went away) does
    not cancel it for the others. A failed fetch fails everyone who awaited it, and the next
    call starts afresh."""

    def __init__(self) -> None:
        self._in_flight: dict[K, asyncio.Task[V]] = {}

    async def fetch(self, key: K, fetch: Callable[[], Awaitable[V]]) -> V:
        task = self._in_flight.get(key)
        if task is None:
            task = asyncio.ensure_future(fetch())
            self._in_flight[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return await asyncio.shield(task)

    def in_flight(self) -> int:
        return len(self._in_flight)

    def _forget(self, key: K, done: asyncio.Task[V]) -> None:
        if self._in_flight.get(key) is done:
            del self._in_flight[key]
        if not done.cancelled():
            done.exception()  # retrieved: every caller who awaited it was cancelled
