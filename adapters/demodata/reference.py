"""Fixed reference data of the demo: regions, stores, categories and the demo users.

The ids are constants so that client configurations, saved prompts and tests stay valid across
re-initialisations; the store-manager user ids are the ones the public Zava sample uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class DemoRegion:
    region_id: UUID
    name: str


@dataclass(frozen=True)
class DemoStore:
    store_id: UUID
    code: str  # the chain's short code (stores.csv `code`): the city's first three letters
    name: str
    city: str
    is_online: bool
    region_id: UUID
    weight: float  # share of the chain's order volume


@dataclass(frozen=True)
class DemoUser:
    user_id: str  # as an identity provider would issue it; the demo's are UUIDs
    display_name: str
    email: str
    role: str
    store_ids: tuple[UUID, ...]


PUGET_SOUND = DemoRegion(UUID("0f6c2a1e-5b7d-4c11-9a3e-000000000001"), "Puget Sound")
EASTERN_WASHINGTON = DemoRegion(UUID("0f6c2a1e-5b7d-4c11-9a3e-000000000002"), "Eastern Washington")
ONLINE = DemoRegion(UUID("0f6c2a1e-5b7d-4c11-9a3e-000000000003"), "Online")
REGIONS: tuple[DemoRegion, ...] = (PUGET_SOUND, EASTERN_WASHINGTON, ONLINE)


def _store(n: int, city: str, region: DemoRegion, weight: float, online: bool = False) -> DemoStore:
    return DemoStore(
        store_id=UUID(f"5a7e0000-0000-4000-8000-{n:012d}"),
        code=city[:3].upper(),
        name=f"Zava Retail {city}",
        city="Online" if online else city,
        is_online=online,
        region_id=region.region_id,
        weight=weight,
    )


SEATTLE = _store(1, "Seattle", PUGET_SOUND, 0.22)
BELLEVUE = _store(2, "Bellevue", PUGET_SOUND, 0.14)
TACOMA = _store(3, "Tacoma", PUGET_SOUND, 0.12)
SPOKANE = _store(4, "Spokane", EASTERN_WASHINGTON, 0.09)
EVERETT = _store(5, "Everett", PUGET_SOUND, 0.08)
REDMOND = _store(6, "Redmond", PUGET_SOUND, 0.10)
KIRKLAND = _store(7, "Kirkland", PUGET_SOUND, 0.07)
ONLINE_STORE = _store(8, "Online", ONLINE, 0.18, online=True)
STORES: tuple[DemoStore, ...] = (
    SEATTLE, BELLEVUE, TACOMA, SPOKANE, EVERETT, REDMOND, KIRKLAND, ONLINE_STORE,
)

CATEGORIES: tuple[str, ...] = (
    "Hand Tools",
    "Power Tools",
    "Paint & Finishes",
    "Hardware",
    "Lumber & Building Materials",
    "Electrical",
    "Plumbing",
    "Garden & Outdoor",
    "Storage & Organization",
)


def _manager(user_id: str, store: DemoStore) -> DemoUser:
    city = store.name.removeprefix("Zava Retail ")
    return DemoUser(
        user_id=user_id,
        display_name=f"{city} store manager",
        email=f"manager.{city.lower()}@zava.example",
        role="store_manager",
        store_ids=(store.store_id,),
    )


USERS: tuple[DemoUser, ...] = (
    _manager("f47ac10b-58cc-4372-a567-0e02b2c3d479", SEATTLE),
    _manager("6ba7b810-9dad-11d1-80b4-00c04fd430c8", BELLEVUE),
    _manager("a1b2c3d4-e5f6-7890-abcd-ef1234567890", TACOMA),
    _manager("d8e9f0a1-b2c3-4567-8901-234567890abc", SPOKANE),
    _manager("3b9ac9fa-cd5e-4b92-a7f2-b8c1d0e9f2a3", EVERETT),
    _manager("e7f8a9b0-c1d2-3e4f-5678-90abcdef1234", REDMOND),
    _manager("9c8b7a65-4321-fed0-9876-543210fedcba", KIRKLAND),
    _manager("2f4e6d8c-1a3b-5c7e-9f0a-b2d4f6e8c0a2", ONLINE_STORE),
    DemoUser(
        user_id="19fadba2-0ce0-477c-8044-861caf516f15",
        display_name="Puget Sound regional manager",
        email="regional.pugetsound@zava.example",
        role="regional_manager",
        store_ids=tuple(s.store_id for s in STORES if s.region_id == PUGET_SOUND.region_id),
    ),
    DemoUser(
        user_id="5ba86bc5-6c7d-4d93-9337-3175bdc44ad8",
        display_name="Head office analyst",
        email="analyst.headoffice@zava.example",
        role="head_office",
        store_ids=tuple(s.store_id for s in STORES),
    ),
)
