"""`zava-mcp users ...`: register people and the stores they see.

Every change goes through the owner's connection in one transaction with its audit record
(adapters/postgres/user_admin.py); bad input is one line naming what is accepted, exit 2, and
nothing changed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from adapters.postgres.user_admin import PsycopgUserAdministration
from domain.directory import AccessChange, DirectorySnapshot, RegisteredUser
from domain.errors import ConfigurationError
from domain.model import Role
from domain.services.user_admin import (
    parse_role,
    plan_add,
    plan_grant,
    plan_remove,
    plan_revoke,
)
from entrypoints.container import database_server_for
from entrypoints.settings import Settings
from ports.user_admin import UserAdministration


def users(args: argparse.Namespace, settings: Settings) -> int:
    administration = administration_for(settings)
    command = args.users_command
    if command is None:
        return _list(administration.snapshot(), as_json=args.json)
    planners: dict[str, Callable[[], Callable[[DirectorySnapshot], AccessChange]]] = {
        "add": lambda: partial(plan_add, raw_id=args.id, name=args.name,
                               role=parse_role(args.role), stores=args.stores,
                               email=args.email),
        "grant": lambda: partial(plan_grant, raw_id=args.id, stores=args.stores),
        "revoke": lambda: partial(plan_revoke, raw_id=args.id, stores=args.stores),
        "remove": lambda: partial(plan_remove, raw_id=args.id),
    }
    planner = planners[command]()
    change = administration.apply(planner, operator=getpass.getuser())
    print(_describe(change), file=sys.stderr)
    return 0


def administration_for(settings: Settings) -> UserAdministration:
    endpoints = database_server_for(settings).start()
    if not endpoints.admin_url:
        raise ConfigurationError("managing users needs ZAVA_ADMIN_DATABASE_URL (the owner's DSN)")
    return PsycopgUserAdministration(endpoints.admin_url)


def _describe(change: AccessChange) -> str:
    user = change.user or change.previous
    assert user is not None
    if not change.changed:
        return f"{change.user_id}: nothing to change"
    codes = ", ".join(s.code for s in change.added or change.removed)
    return {
        "add": f"registered {change.user_id} ({user.display_name}, {user.role.value})"
               + (f" with stores {codes}" if codes else ""),
        "grant": f"{change.user_id} now also sees {codes}",
        "revoke": f"{change.user_id} no longer sees {codes}",
        "remove": f"removed {change.user_id} ({user.display_name})",
    }[change.action.value]


def _list(snapshot: DirectorySnapshot, *, as_json: bool) -> int:
    rows = [_row(snapshot, u) for u in sorted(snapshot.users.values(), key=_order)]
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        stores = ", ".join(str(s).removeprefix("Zava Retail ") for s in row["stores"])
        print(f"{row['user_id']}  {row['display_name']:<30} {row['role']:<17} {stores}")
    return 0


def _order(user: RegisteredUser) -> tuple[int, str]:
    return list(Role).index(user.role), user.display_name


def _row(snapshot: DirectorySnapshot, user: RegisteredUser) -> dict[str, Any]:
    """Head office is listed with every store: it sees them all, new ones included."""
    stores = [s for s in snapshot.stores
              if user.role is Role.HEAD_OFFICE or s.store_id in user.store_ids]
    stores.sort(key=lambda s: s.name)
    return {"user_id": user.user_id, "display_name": user.display_name, "email": user.email,
            "role": user.role.value, "stores": [s.name for s in stores],
            "store_codes": [s.code for s in stores]}
