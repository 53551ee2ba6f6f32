"""The per-user share of database work: a user beyond their limit waits for their own slots
only, then gets RATE_LIMITED with a retry hint; other users are never held up."""

from __future__ import annotations

import asyncio

import pytest

from adapters.postgres.user_limit import UserConcurrencyLimit
from domain.errors import RateLimitedError

pytestmark = pytest.mark.anyio


async def hold(limit: UserConcurrencyLimit, user: str, release: asyncio.Event) -> None:
    async with limit.slot(user):
        await release.wait()


async def test_other_users_are_not_held_up_by_a_saturating_one() -> None:
    limit = UserConcurrencyLimit(2, wait_s=5)
    release = asyncio.Event()
    holders = [asyncio.create_task(hold(limit, "noisy", release)) for _ in range(2)]
    await asyncio.sleep(0)
    async with asyncio.timeout(0.5):  # never waits: another user's own share
        async with limit.slot("quiet"):
            assert limit.in_flight("quiet") == 1
    assert limit.in_flight("noisy") == 2
    release.set()
    await asyncio.gather(*holders)
    assert limit.in_flight("noisy") == 0


async def test_beyond_the_limit_a_call_waits_then_is_rate_limited() -> None:
    limit = UserConcurrencyLimit(1, wait_s=0.05)
    release = asyncio.Event()
    holder = asyncio.create_task(hold(limit, "noisy", release))
    await asyncio.sleep(0)
    with pytest.raises(RateLimitedError) as raised:
        async with limit.slot("noisy"):
            pass
    assert raised.value.code == "RATE_LIMITED"
    assert "1 database queries running" in raised.value.message
    assert "retry in 1 s" in raised.value.message
    release.set()
    await holder
    async with limit.slot("noisy"):  # the slot came back
        pass


async def test_a_waiting_call_gets_the_slot_a_finished_one_frees() -> None:
    limit = UserConcurrencyLimit(1, wait_s=5)
    release = asyncio.Event()
    holder = asyncio.create_task(hold(limit, "u", release))
    await asyncio.sleep(0)
    entered = asyncio.Event()

    async def waiter() -> None:
        async with limit.slot("u"):
            entered.set()

    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0.01)
    assert not entered.is_set()
    release.set()
    await asyncio.gather(holder, waiting)
    assert entered.is_set()
    assert limit.in_flight("u") == 0


async def test_a_cancelled_waiter_gives_nothing_away() -> None:
    limit = UserConcurrencyLimit(1, wait_s=5)
    release = asyncio.Event()
    holder = asyncio.create_task(hold(limit, "u", release))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(hold(limit, "u", asyncio.Event()))
    await asyncio.sleep(0.01)
    waiting.cancel()
    release.set()
    await holder
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert limit.in_flight("u") == 0


def test_the_settings_size_the_share_for_the_pool_and_refuse_nonsense() -> None:
    from domain.errors import ConfigurationError
    from entrypoints.settings import load_settings

    assert load_settings(pool_max=10).user_limit == 7  # a quarter of the pool stays free
    assert load_settings(pool_min=1, pool_max=1).user_limit == 1
    assert load_settings(pool_max=10, user_max_in_flight=3).user_limit == 3
    with pytest.raises(ConfigurationError, match=r"ZAVA_USER_MAX_IN_FLIGHT: .*ZAVA_POOL_MAX"):
        load_settings(pool_max=4, user_max_in_flight=5)
    with pytest.raises(ConfigurationError,
                       match=r"ZAVA_MODEL_SQL_TIMEOUT_S: .*ZAVA_QUERY_TIMEOUT_S"):
        load_settings(query_timeout_s=5, model_sql_timeout_s=20)
