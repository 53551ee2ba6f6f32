"""Whether what a process remembers about users' access may still be trusted.

Caches of scopes and known users live in every serving process, while the operator changes
access from another (`zava-mcp users revoke`). The database tells each server about every
change (adapters/postgres/access_changes.py), which bumps `generation`; a remembered entry is
good only while the watch is live and its generation is the one it was made in. While the
watch is not live (not yet connected, or the connection broke), nothing remembered is trusted:
every call asks the database, so a revoke is never missed, only the shortcut is.
"""

from __future__ import annotations


class AccessWatch:
    def __init__(self, *, live: bool = False) -> None:
        self._generation = 0
        self._live = live

    @property
    def generation(self) -> int | None:
        """The current generation, or None while changes might go unnoticed."""
        return self._generation if self._live else None

    def changed(self) -> None:
        self._generation += 1

    def set_live(self, live: bool) -> None:
        # whatever happened while nobody listened is unknown: a new generation either way
        self._generation += 1
        self._live = live


def always_live() -> AccessWatch:
    """For a process that sees every change itself (the in-memory directory): TTLs only."""
    return AccessWatch(live=True)
