"""Registering people and the stores they may see: the rules behind `zava-mcp users ...`.

Each command is planned against a snapshot of the directory (taken by the adapter inside the
transaction that then applies the plan, under a lock), so a refused command changes nothing:
- stores are named by code, name or city (any case), comma-separated; an unknown or ambiguous
  one is refused with the accepted codes;
- head office sees every store, including stores added later, so it takes no store list;
- an id is registered once; the last head office user cannot be removed.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.directory import (
    AccessAction,
    AccessChange,
    DirectorySnapshot,
    RegisteredUser,
    StoreRef,
)
from domain.errors import ValidationError
from domain.model import Role, StoreId
from domain.services.identity import parse_user_id

MAX_NAME_CHARS = 200


def parse_role(raw: str) -> Role:
    try:
        return Role(raw.strip().lower())
    except ValueError:
        raise ValidationError(
            f"role {raw!r} is not accepted; accepted: {', '.join(r.value for r in Role)}"
        ) from None


def resolve_stores(snapshot: DirectorySnapshot, raw: str) -> tuple[StoreRef, ...]:
    """`raw` is a comma-separated list of store codes, names or cities (any case)."""
    wanted = [part.strip() for part in raw.split(",") if part.strip()]
    if not wanted:
        raise ValidationError(f"--stores is empty; accepted: {_accepted(snapshot)}")
    found: dict[StoreId, StoreRef] = {}
    for term in wanted:
        store = _one_store(snapshot, term)
        found[store.store_id] = store
    return tuple(sorted(found.values(), key=lambda s: s.code))


def _one_store(snapshot: DirectorySnapshot, term: str) -> StoreRef:
    key = term.casefold()
    for field in ("code", "name", "city"):
        matches = [s for s in snapshot.stores if str(getattr(s, field)).casefold() == key]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ValidationError(
                f"store {term!r} matches several stores ("
                + ", ".join(f"{s.name} [{s.code}]" for s in matches)
                + "); name one by its code"
            )
    raise ValidationError(f"unknown store {term!r}; accepted: {_accepted(snapshot)}")


def _accepted(snapshot: DirectorySnapshot) -> str:
    if not snapshot.stores:
        return "no stores yet (`zava-mcp db import` loads them)"
    listed = ", ".join(f"{s.code} ({s.name}, {s.city})" for s in snapshot.stores)
    return f"store codes, names or cities, comma-separated: {listed}"


def _head_office_takes_no_stores() -> ValidationError:
    return ValidationError(
        "head office sees every store, including stores added later: leave out --stores"
        " (store lists are for store_manager and regional_manager)"
    )


def plan_add(
    snapshot: DirectorySnapshot, raw_id: str, name: str, role: Role, stores: str | None,
    email: str | None = None,
) -> AccessChange:
    user_id = parse_user_id(raw_id)
    existing = snapshot.users.get(user_id)
    if existing is not None:
        raise ValidationError(
            f"user {user_id!r} is already registered ({existing.display_name},"
            f" {existing.role.value}); `zava-mcp users grant/revoke` changes their stores,"
            " `zava-mcp users remove` removes them"
        )
    display_name = name.strip()
    if not display_name or len(display_name) > MAX_NAME_CHARS:
        raise ValidationError(f"--name must be 1 to {MAX_NAME_CHARS} characters")
    if role is Role.HEAD_OFFICE and stores is not None:
        raise _head_office_takes_no_stores()
    granted = () if stores is None else resolve_stores(snapshot, stores)
    user = RegisteredUser(user_id, display_name, (email or "").strip() or None, role,
                          frozenset(s.store_id for s in granted))
    return AccessChange(AccessAction.ADD, user_id, user, added=granted)


def plan_grant(snapshot: DirectorySnapshot, raw_id: str, stores: str) -> AccessChange:
    user = snapshot.user(parse_user_id(raw_id))
    if user.role is Role.HEAD_OFFICE:
        raise _head_office_takes_no_stores()
    added = tuple(s for s in resolve_stores(snapshot, stores) if s.store_id not in user.store_ids)
    after = _with_stores(user, user.store_ids | {s.store_id for s in added})
    return AccessChange(AccessAction.GRANT, user.user_id, after, added=added, previous=user,
                        changed=bool(added))


def plan_revoke(snapshot: DirectorySnapshot, raw_id: str, stores: str) -> AccessChange:
    user = snapshot.user(parse_user_id(raw_id))
    if user.role is Role.HEAD_OFFICE:
        raise _head_office_takes_no_stores()
    removed = tuple(s for s in resolve_stores(snapshot, stores) if s.store_id in user.store_ids)
    after = _with_stores(user, user.store_ids - {s.store_id for s in removed})
    return AccessChange(AccessAction.REVOKE, user.user_id, after, removed=removed,
                        previous=user, changed=bool(removed))


def plan_remove(snapshot: DirectorySnapshot, raw_id: str) -> AccessChange:
    user = snapshot.user(parse_user_id(raw_id))
    head_offices = [u for u in snapshot.users.values() if u.role is Role.HEAD_OFFICE]
    if user.role is Role.HEAD_OFFICE and len(head_offices) == 1:
        raise ValidationError(
            f"user {user.user_id!r} is the last head office user and cannot be removed:"
            " register another with `zava-mcp users add --role head_office` first"
        )
    stores = {s.store_id: s for s in snapshot.stores}
    removed = tuple(sorted((stores[i] for i in user.store_ids if i in stores),
                           key=lambda s: s.code))
    return AccessChange(AccessAction.REMOVE, user.user_id, None, removed=removed,
                        previous=user)


def _with_stores(user: RegisteredUser, store_ids: Iterable[StoreId]) -> RegisteredUser:
    return RegisteredUser(user.user_id, user.display_name, user.email, user.role,
                          frozenset(store_ids))
