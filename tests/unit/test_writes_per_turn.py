"""WritesPerTurn: the head and body uvicorn writes for one response leave in one write."""

from __future__ import annotations

import asyncio
from typing import Any

from entrypoints.http_app import WritesPerTurn


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.events: list[str] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        self.events.append("write")

    def close(self) -> None:
        self.closing = True
        self.events.append("close")

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5)}.get(name, default)


def test_the_writes_of_one_turn_leave_as_one_at_its_end() -> None:
    async def scenario() -> RecordingTransport:
        inner = RecordingTransport()
        transport = WritesPerTurn(inner)  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        transport.write(b"{}")
        assert inner.writes == []  # not yet: the turn is not over
        assert transport.get_write_buffer_size() == 40
        await asyncio.sleep(0)
        transport.write(b"next turn")
        await asyncio.sleep(0)
        return inner

    inner = asyncio.run(scenario())
    assert inner.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", b"next turn"]


def test_close_sends_what_is_pending_first_and_nothing_goes_after() -> None:
    async def scenario() -> RecordingTransport:
        inner = RecordingTransport()
        transport = WritesPerTurn(inner)  # type: ignore[arg-type]
        transport.write(b"last answer")
        transport.close()
        transport.write(b"too late")
        await asyncio.sleep(0)
        return inner

    inner = asyncio.run(scenario())
    assert inner.events == ["write", "close"]
    assert inner.writes == [b"last answer"]


def test_everything_else_is_the_transports() -> None:
    inner = RecordingTransport()
    assert WritesPerTurn(inner).get_extra_info("peername") == ("127.0.0.1", 5)  # type: ignore[arg-type]
