from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.demodata.reference import USERS
from adapters.memory.access import InMemoryAccessDirectory
from adapters.memory.clock import FixedClock
from domain.errors import UnknownUserError, ValidationError
from domain.model import Role, UserId
from domain.services.identity import IdentityService, parse_user_id

pytestmark = pytest.mark.anyio

SEATTLE_MANAGER = UserId("f47ac10b-58cc-4372-a567-0e02b2c3d479")
REGIONAL = UserId("19fadba2-0ce0-477c-8044-861caf516f15")
HEAD_OFFICE = UserId("5ba86bc5-6c7d-4d93-9337-3175bdc44ad8")
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def service() -> IdentityService:
    return IdentityService(InMemoryAccessDirectory.from_demo_data(), FixedClock(NOW))


async def test_store_manager_sees_one_store(service: IdentityService) -> None:
    scope = await service.whoami(SEATTLE_MANAGER)
    assert scope.role is Role.STORE_MANAGER
    assert [s.name for s in scope.stores] == ["Zava Retail Seattle"]


async def test_regional_manager_sees_puget_sound(service: IdentityService) -> None:
    scope = await service.whoami(REGIONAL)
    assert [s.city for s in scope.stores] == sorted(
        ["Bellevue", "Everett", "Kirkland", "Redmond", "Seattle", "Tacoma"]
    )
    assert {s.region for s in scope.stores} == {"Puget Sound"}


async def test_head_office_sees_all_eight(service: IdentityService) -> None:
    scope = await service.whoami(HEAD_OFFICE)
    assert len(scope.stores) == 8
    assert any(s.is_online for s in scope.stores)


@pytest.mark.parametrize("raw", ["00000000-0000-0000-0000-000000000000",
                                 "11111111-2222-3333-4444-555555555555"])
async def test_unknown_and_nil_users_are_refused(service: IdentityService, raw: str) -> None:
    with pytest.raises(UnknownUserError, match="zava-mcp users"):
        await service.whoami(UserId(raw))


def test_clock_is_injected(service: IdentityService) -> None:
    assert service.current_utc_time() == NOW


@pytest.mark.parametrize("raw", ["", "   ", "x" * 256, "line\nbreak", "nul\x00byte", "tab\there"])
def test_parse_user_id_refuses_empty_long_and_control_characters(raw: str) -> None:
    with pytest.raises(ValidationError, match="1 to 255 characters without control characters"):
        parse_user_id(raw)


@pytest.mark.parametrize("raw", ["seattle", "auth0|5f7c8ec7c33c6c004bbafe82",
                                 "00u1a2b3c4D5e6F7g8h9", "Ünïcödé user", "x" * 255,
                                 "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "1; DROP TABLE x"])
def test_parse_user_id_accepts_identity_provider_subjects(raw: str) -> None:
    assert parse_user_id(f" {raw} ") == raw


def test_parse_user_id_accepts_every_demo_user() -> None:
    for user in USERS:
        assert parse_user_id(f"  {user.user_id}\n") == user.user_id


def test_fixed_clock_refuses_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 1, 1))
