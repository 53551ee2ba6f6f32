"""The access directory as the operator changes it, through the owner's connection.

One transaction per command: lock the directory, read it, let the domain plan the change (a
refused plan rolls back having changed nothing), write the rows, append the change to
audit.access_changes, and NOTIFY the serving processes, which drop the scopes and user lookups
they remember (adapters/postgres/access_changes.py) once the transaction commits.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import psycopg

from domain.directory import (
    AccessAction,
    AccessChange,
    DirectorySnapshot,
    RegisteredUser,
    StoreRef,
)
from domain.model import Role, StoreId, UserId
from ports.user_admin import ACCESS_CHANGED_CHANNEL, UserAdministration

_STORES_SQL = "SELECT store_id, code, name, city FROM retail.stores ORDER BY code"
_USERS_SQL = """
SELECT u.user_id, u.display_name, u.email, u.role,
       coalesce(array_agg(a.store_id) FILTER (WHERE a.store_id IS NOT NULL), '{}')
FROM access.app_users AS u LEFT JOIN access.user_store_access AS a USING (user_id)
GROUP BY u.user_id
"""


class PsycopgUserAdministration(UserAdministration):
    def __init__(self, admin_url: str) -> None:
        self._admin_url = admin_url

    def snapshot(self) -> DirectorySnapshot:
        with psycopg.connect(self._admin_url) as conn:
            return _read(conn)

    def apply(
        self, plan: Callable[[DirectorySnapshot], AccessChange], operator: str
    ) -> AccessChange:
        with psycopg.connect(self._admin_url) as conn, conn.transaction():
            # one operator command at a time: a plan is made against what it will change
            conn.execute("LOCK TABLE access.app_users, access.user_store_access"
                         " IN SHARE ROW EXCLUSIVE MODE")
            change = plan(_read(conn))
            if not change.changed:
                return change
            _write(conn, change)
            conn.execute(
                "INSERT INTO audit.access_changes (changed_by, action, user_id, details)"
                " VALUES (%s, %s, %s, %s::jsonb)",
                (f"{operator} as {conn.info.user}", change.action.value, change.user_id,
                 json.dumps(change.details())),
            )
            conn.execute("SELECT pg_notify(%s, %s)", (ACCESS_CHANGED_CHANNEL, change.user_id))
        return change


def _read(conn: psycopg.Connection) -> DirectorySnapshot:
    stores = tuple(StoreRef(StoreId(r[0]), r[1], r[2], r[3])
                   for r in conn.execute(_STORES_SQL).fetchall())
    users = {
        UserId(r[0]): RegisteredUser(UserId(r[0]), r[1], r[2], Role(r[3]),
                                     frozenset(StoreId(s) for s in r[4]))
        for r in conn.execute(_USERS_SQL).fetchall()
    }
    return DirectorySnapshot(users, stores)


def _write(conn: psycopg.Connection, change: AccessChange) -> None:
    if change.action is AccessAction.ADD:
        assert change.user is not None
        user = change.user
        conn.execute(
            "INSERT INTO access.app_users (user_id, display_name, email, role)"
            " VALUES (%s, %s, %s, %s)",
            (user.user_id, user.display_name, user.email, user.role.value),
        )
    if change.action is AccessAction.REMOVE:
        conn.execute("DELETE FROM access.app_users WHERE user_id = %s", (change.user_id,))
        return  # its store grants go with it (ON DELETE CASCADE)
    if change.added:
        conn.execute(
            "INSERT INTO access.user_store_access (user_id, store_id)"
            " SELECT %s, unnest(%s::uuid[])",
            (change.user_id, [s.store_id for s in change.added]),
        )
    if change.removed:
        conn.execute(
            "DELETE FROM access.user_store_access WHERE user_id = %s AND store_id = ANY (%s)",
            (change.user_id, [s.store_id for s in change.removed]),
        )
    conn.execute("UPDATE access.app_users SET updated_at = now() WHERE user_id = %s",
                 (change.user_id,))
