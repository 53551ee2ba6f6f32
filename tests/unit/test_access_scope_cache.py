"""The one access-scope port (domain/services/access_scope.py): a user's scope looked up once per
TTL for the whole server, strangers remembered more briefly, failures never."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest

from adapters.demodata.reference import USERS
from adapters.memory.access import InMemoryAccessDirectory
from domain.errors import DatabaseError, UnknownUserError
from domain.model import AccessScope, UserId
from domain.services.access_scope import CachedAccessDirectory

pytestmark = pytest.mark.anyio

SEATTLE_MANAGER, HEAD_OFFICE = UserId(USERS[0].user_id), UserId(USERS[9].user_id)
STRANGER = UserId(str(UUID(int=0)))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class CountingDirectory:
    def __init__(self) -> None:
        self._demo = InMemoryAccessDirectory.from_demo_data()
        self.lookups = 0
        self.broken = False

    async def scope_for(self, user_id: UserId) -> AccessScope:
        self.lookups += 1
        await asyncio.sleep(0.001)
        if self.broken:
            raise DatabaseError("the database is unreachable")
        return await self._demo.scope_for(user_id)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_scope_is_looked_up_once_per_ttl() -> None:
    directory, clock = CountingDirectory(), Clock()
    scopes = CachedAccessDirectory(directory, ttl_s=30, clock=clock)
    first = await scopes.scope_for(SEATTLE_MANAGER)
    for _ in range(5):
        assert await scopes.scope_for(SEATTLE_MANAGER) == first
    await scopes.scope_for(HEAD_OFFICE)
    assert directory.lookups == 2
    clock.now += 31
    await scopes.scope_for(SEATTLE_MANAGER)
    assert directory.lookups == 3


async def test_a_stranger_is_remembered_briefly_and_still_refused() -> None:
    directory, clock = CountingDirectory(), Clock()
    scopes = CachedAccessDirectory(directory, ttl_s=30, unknown_ttl_s=5, clock=clock)
    for _ in range(3):
        with pytest.raises(UnknownUserError, match="unknown user"):
            await scopes.scope_for(STRANGER)
    assert directory.lookups == 1
    clock.now += 6
    with pytest.raises(UnknownUserError):
        await scopes.scope_for(STRANGER)
    assert directory.lookups == 2


async def test_a_failed_lookup_is_not_remembered() -> None:
    directory = CountingDirectory()
    scopes = CachedAccessDirectory(directory, ttl_s=30, clock=Clock())
    directory.broken = True
    with pytest.raises(DatabaseError):
        await scopes.scope_for(SEATTLE_MANAGER)
    directory.broken = False
    await scopes.scope_for(SEATTLE_MANAGER)
    assert directory.lookups == 2


async def test_requests_in_flight_share_one_lookup() -> None:
    directory = CountingDirectory()
    scopes = CachedAccessDirectory(directory, ttl_s=30, clock=Clock())
    found = await asyncio.gather(*(scopes.scope_for(HEAD_OFFICE) for _ in range(64)))
    assert len({len(s.stores) for s in found}) == 1
    assert directory.lookups == 1


async def test_zero_ttl_looks_up_every_time_and_the_cache_is_bounded() -> None:
    directory = CountingDirectory()
    uncached = CachedAccessDirectory(directory, ttl_s=0, clock=Clock())
    await uncached.scope_for(SEATTLE_MANAGER)
    await uncached.scope_for(SEATTLE_MANAGER)
    assert directory.lookups == 2

    directory = CountingDirectory()
    bounded = CachedAccessDirectory(directory, ttl_s=30, max_users=1, clock=Clock())
    await bounded.scope_for(SEATTLE_MANAGER)
    await bounded.scope_for(HEAD_OFFICE)  # pushes Seattle out
    await bounded.scope_for(SEATTLE_MANAGER)
    assert directory.lookups == 3


async def test_requests_in_flight_share_one_lookup_even_when_nothing_is_remembered() -> None:
    # so at most one lookup of a user is in flight, which lets the database adapter leave it
    # out of the user's query limit
    directory = CountingDirectory()
    uncached = CachedAccessDirectory(directory, ttl_s=0, clock=Clock())
    await asyncio.gather(*(uncached.scope_for(HEAD_OFFICE) for _ in range(16)))
    assert directory.lookups == 1
    await uncached.scope_for(HEAD_OFFICE)  # and the next request looks it up again
    assert directory.lookups == 2
