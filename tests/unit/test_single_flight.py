"""SingleFlight: concurrent callers share one fetch; failures and cancellations stay contained."""

from __future__ import annotations

import asyncio

import pytest

from domain.services.single_flight import SingleFlight

pytestmark = pytest.mark.anyio


class Fetcher:
    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.fail = False

    async def __call__(self) -> str:
        self.calls += 1
        await self.release.wait()
        if self.fail:
            raise RuntimeError("lookup failed")
        return f"value {self.calls}"


async def test_concurrent_callers_share_one_fetch() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    fetcher = Fetcher()
    callers = [asyncio.ensure_future(flight.fetch("k", fetcher)) for _ in range(64)]
    await asyncio.sleep(0)
    fetcher.release.set()
    assert set(await asyncio.gather(*callers)) == {"value 1"}
    assert fetcher.calls == 1
    assert flight.in_flight() == 0
    assert await flight.fetch("k", fetcher) == "value 2"  # done: the next call fetches again


async def test_different_keys_fetch_separately() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    fetcher = Fetcher()
    fetcher.release.set()
    await asyncio.gather(flight.fetch("a", fetcher), flight.fetch("b", fetcher))
    assert fetcher.calls == 2


async def test_a_failure_reaches_every_waiter_and_the_next_call_starts_afresh() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    fetcher = Fetcher()
    fetcher.fail = True
    callers = [asyncio.ensure_future(flight.fetch("k", fetcher)) for _ in range(3)]
    await asyncio.sleep(0)
    fetcher.release.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    fetcher.fail = False
    assert await flight.fetch("k", fetcher) == "value 2"


async def test_a_cancelled_caller_does_not_cancel_the_fetch_for_the_others() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    fetcher = Fetcher()
    first = asyncio.ensure_future(flight.fetch("k", fetcher))
    second = asyncio.ensure_future(flight.fetch("k", fetcher))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    fetcher.release.set()
    assert await second == "value 1"
    assert first.cancelled()
    assert fetcher.calls == 1


async def test_a_failure_nobody_awaited_any_more_is_not_reported_as_unretrieved() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    fetcher = Fetcher()
    fetcher.fail = True
    only = asyncio.ensure_future(flight.fetch("k", fetcher))
    await asyncio.sleep(0)
    only.cancel()
    fetcher.release.set()
    for _ in range(3):
        await asyncio.sleep(0)
    assert flight.in_flight() == 0  # and no "exception was never retrieved" (warnings = errors)
