"""Hears every access change the operator makes (`zava-mcp users ...`, `db import`).

A dedicated connection of the query role LISTENs on the channel the operator commands NOTIFY
in their transaction. PostgreSQL delivers a notification when that transaction commits, and
this process then moves its AccessWatch to a new generation: remembered scopes and known users
stop being trusted, and the caller's next call reads the new access from the database. While
the connection is down the watch is not live (nothing remembered is trusted); it reconnects
with a growing pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg

from domain.services.access_watch import AccessWatch
from ports.user_admin import ACCESS_CHANGED_CHANNEL

log = logging.getLogger("zava.access")

RECONNECT_PAUSES_S = (0.5, 1.0, 2.0, 5.0)


class AccessChangeListener:
    def __init__(self, url: str, watch: AccessWatch) -> None:
        self._url = url
        self._watch = watch
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def start(self, wait_s: float = 5.0) -> None:
        """Start listening; waits (up to `wait_s`) for the first connection, so the first
        calls already benefit from the caches."""
        self._task = asyncio.get_running_loop().create_task(self._listen_forever())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), wait_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._watch.set_live(False)

    async def _listen_forever(self) -> None:
        failures = 0
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the database went away: trust nothing until it is back
                self._watch.set_live(False)
                self._connected.clear()
                pause = RECONNECT_PAUSES_S[min(failures, len(RECONNECT_PAUSES_S) - 1)]
                failures += 1
                log.warning("access-change listener lost its connection (%s); retrying in"
                            " %.1f s, until then every call reads access afresh",
                            type(e).__name__, pause)
                await asyncio.sleep(pause)
            else:
                failures = 0

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(
            self._url, autocommit=True, application_name="zava-mcp access listener"
        ) as conn:
            await conn.execute(f"LISTEN {ACCESS_CHANGED_CHANNEL}")
            self._watch.set_live(True)
            self._connected.set()
            async for _ in conn.notifies():
                self._watch.changed()
