"""Test-only: a SQL guard that accepts everything, so the database layers can be shown to hold
on their own. It exists only under tests/ and is never reachable from settings or the CLI."""

from __future__ import annotations

from ports.sql_guard import GuardedQuery


class AcceptEverythingGuard:
    def check(self, sql: str) -> GuardedQuery:
        return GuardedQuery(sql=sql.strip(), fingerprint="<unguarded>", relations=frozenset())
