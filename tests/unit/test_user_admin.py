"""The rules behind `zava-mcp users ...`, on a directory snapshot (no database)."""

from __future__ import annotations

import pytest

from adapters.demodata.reference import STORES, USERS
from adapters.memory.user_admin import InMemoryUserAdministration
from domain.directory import AccessAction, DirectorySnapshot, RegisteredUser, StoreRef
from domain.errors import ValidationError
from domain.model import Role, StoreId, UserId
from domain.services.user_admin import (
    parse_role,
    plan_add,
    plan_grant,
    plan_remove,
    plan_revoke,
    resolve_stores,
)

SNAPSHOT = DirectorySnapshot(
    users={UserId(u.user_id): RegisteredUser(UserId(u.user_id), u.display_name, u.email,
                                             Role(u.role), frozenset(map(StoreId, u.store_ids)))
           for u in USERS},
    stores=tuple(StoreRef(StoreId(s.store_id), s.code, s.name, s.city) for s in STORES),
)
SEATTLE_MANAGER, HEAD_OFFICE = USERS[0].user_id, USERS[9].user_id


def test_stores_by_code_name_or_city_in_any_case() -> None:
    stores = resolve_stores(SNAPSHOT, " sea, Zava Retail Bellevue ,TACOMA,SEA")
    assert [s.code for s in stores] == ["BEL", "SEA", "TAC"]


def test_an_unknown_store_names_every_accepted_one() -> None:
    with pytest.raises(ValidationError) as info:
        resolve_stores(SNAPSHOT, "SEA,Portland")
    assert "unknown store 'Portland'" in info.value.message
    assert "SEA (Zava Retail Seattle, Seattle)" in info.value.message
    assert "\n" not in info.value.message


def test_an_ambiguous_city_asks_for_the_code() -> None:
    twin = StoreRef(StoreId(STORES[1].store_id), "SE2", "Seattle North", "Seattle")
    snapshot = DirectorySnapshot(SNAPSHOT.users, (SNAPSHOT.stores[0], twin))
    with pytest.raises(ValidationError, match=r"matches several stores.*name one by its code"):
        resolve_stores(snapshot, "seattle")


def test_add_a_store_manager_with_an_identity_provider_id() -> None:
    change = plan_add(SNAPSHOT, "auth0|5f7c8ec7", "Pat Doe", Role.STORE_MANAGER, "SEA")
    assert change.action is AccessAction.ADD
    assert change.user is not None
    assert change.user.user_id == "auth0|5f7c8ec7"
    assert change.details() == {"display_name": "Pat Doe", "role": "store_manager",
                                "stores_added": ["SEA"]}


@pytest.mark.parametrize(("call", "fragment"), [
    (lambda: plan_add(SNAPSHOT, SEATTLE_MANAGER, "Again", Role.STORE_MANAGER, "SEA"),
     "is already registered"),
    (lambda: plan_add(SNAPSHOT, "new-ho", "HO", Role.HEAD_OFFICE, "SEA"),
     "head office sees every store"),
    (lambda: plan_add(SNAPSHOT, "", "Nobody", Role.STORE_MANAGER, "SEA"),
     "1 to 255 characters"),
    (lambda: plan_add(SNAPSHOT, "x", "  ", Role.STORE_MANAGER, "SEA"), "--name must be"),
    (lambda: plan_grant(SNAPSHOT, HEAD_OFFICE, "SEA"), "head office sees every store"),
    (lambda: plan_grant(SNAPSHOT, "nobody", "SEA"), "unknown user 'nobody'"),
    (lambda: plan_revoke(SNAPSHOT, SEATTLE_MANAGER, "Atlantis"), "unknown store 'Atlantis'"),
    (lambda: plan_remove(SNAPSHOT, HEAD_OFFICE), "last head office user"),
    (lambda: parse_role("cashier"),
     "accepted: store_manager, regional_manager, head_office"),
])
def test_bad_input_is_refused_with_what_is_accepted(call: object, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        call()  # type: ignore[operator]


def test_grant_and_revoke_change_only_what_differs() -> None:
    grant = plan_grant(SNAPSHOT, SEATTLE_MANAGER, "SEA,BEL")
    assert [s.code for s in grant.added] == ["BEL"]
    assert grant.user is not None
    assert len(grant.user.store_ids) == 2
    unchanged = plan_revoke(SNAPSHOT, SEATTLE_MANAGER, "BEL")
    assert not unchanged.changed


def test_a_second_head_office_user_can_remove_the_first() -> None:
    second = plan_add(SNAPSHOT, "ho-2", "Second analyst", Role.HEAD_OFFICE, None).user
    assert second is not None
    snapshot = DirectorySnapshot({**SNAPSHOT.users, second.user_id: second}, SNAPSHOT.stores)
    change = plan_remove(snapshot, HEAD_OFFICE)
    assert change.user is None
    assert change.details()["role"] == "head_office"


def test_the_fake_applies_a_plan_and_records_it_or_changes_nothing() -> None:
    fake = InMemoryUserAdministration.from_demo_data()
    with pytest.raises(ValidationError):
        fake.apply(lambda snapshot: plan_remove(snapshot, HEAD_OFFICE), operator="ops")
    assert fake.changes == []
    fake.apply(lambda snapshot: plan_revoke(snapshot, SEATTLE_MANAGER, "SEA"), operator="ops")
    assert fake.snapshot().users[UserId(SEATTLE_MANAGER)].store_ids == frozenset()
    assert [(who, change.action) for who, change in fake.changes] == [
        ("ops", AccessAction.REVOKE)]
