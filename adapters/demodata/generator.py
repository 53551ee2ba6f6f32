"""Deterministic synthetic retail data for Zava, produced as PostgreSQL COPY text.

`generate_dataset(seed, anchor, scale)` returns a `DemoDataset`: the tables in load order, each
a re-iterable stream of COPY text chunks, plus a `checksum()` over exactly those bytes. Same
seed + anchor + scale (+ products) gives byte-identical output on any machine and any day; a
different seed gives different data.

Why COPY text and not row objects: the `large` scale is ~1M orders and ~2.6M order lines and
must generate and load in well under 90 s on two cores. Rows are therefore formatted straight
into tab-separated lines with precomputed strings (ids, prices, dates, times) and integer-cent
arithmetic; no Decimal or datetime object is created per row.

Determinism rules: only `random.Random` instances seeded from strings (version-2 seeding,
SHA-512, stable across processes and platforms); no clock, no global random, no uuid4. Each
day of orders has its own generator, so the orders table and the order-lines table are
produced by two independent passes that draw the very same numbers (an order's total must be
known when its row is written, before its lines are loaded).

Time model: all timestamps are UTC and the business day is the UTC day. Orders fall on the
days [anchor - 3 years, anchor - 1 day]; the anchor day itself has no orders (it is "today",
and a partial today would make the data depend on the hour of generation). Volume follows
yearly growth (faster online), per-store weights, weekends (busier in stores), holidays
(Black Friday, closed on Christmas) and per-category seasonality (garden in spring and summer,
tools and lighting in December).

Ids: reference rows use fixed or name-derived (uuid5) ids; products and customers get random
version-4 ids from the seeded generator; orders and order lines get time-ordered version-7
ids built from the order timestamp and seeded random bits, which keeps index insertion local
during bulk loads (as PostgreSQL 18's own uuidv7() would).
"""

from __future__ import annotations

import hashlib
import math
import random
import uuid
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import accumulate

from adapters.copy_text import (
    CHUNK_LINES,
    chunked,
    copy_line,
    copy_unescape,
    money,
)
from adapters.demodata.catalogue import (
    build_catalogue,
    curated_size,
    product_types,
)
from adapters.demodata.reference import CATEGORIES, REGIONS, STORES, USERS, DemoStore

# ---------------------------------------------------------------- public parameters


@dataclass(frozen=True)
class ScaleSpec:
    """Target sizes of a scale; actual counts vary by a fraction of a percent."""

    customers: int
    orders: int


SCALES: dict[str, ScaleSpec] = {
    "small": ScaleSpec(customers=5_000, orders=50_000),
    "large": ScaleSpec(customers=50_000, orders=1_000_000),
}
MIN_PRODUCTS = 9  # one per category
MAX_PRODUCTS = 250_000
HISTORY_YEARS = 3
ID_NAMESPACE = uuid.UUID("5a7e0000-0000-4000-8000-00000000da7a")  # uuid5 of reference names

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "retail.regions": ("region_id", "name", "created_at", "updated_at"),
    "retail.stores": ("store_id", "code", "name", "city", "is_online", "region_id", "created_at",
                      "updated_at"),
    "retail.categories": ("category_id", "name", "created_at", "updated_at"),
    "retail.product_types": ("type_id", "category_id", "name", "created_at", "updated_at"),
    "retail.products": ("product_id", "sku", "name", "description", "category_id", "type_id",
                        "cost", "base_price", "created_at", "updated_at"),
    "retail.customers": ("store_id", "customer_id", "first_name", "last_name", "email",
                         "created_at", "updated_at"),
    "retail.orders": ("store_id", "order_id", "customer_id", "order_date", "status",
                      "total_amount", "created_at", "updated_at"),
    "retail.order_items": ("store_id", "order_item_id", "order_id", "product_id", "quantity",
                           "unit_price", "discount_amount", "total_amount", "created_at",
                           "updated_at"),
    "retail.inventory": ("store_id", "product_id", "stock_level", "reorder_point", "created_at",
                         "updated_at"),
    "access.app_users": ("user_id", "display_name", "email", "role", "created_at", "updated_at"),
    "access.user_store_access": ("user_id", "store_id"),
}
LOAD_ORDER: tuple[str, ...] = tuple(TABLE_COLUMNS)

# ---------------------------------------------------------------- behaviour of the simulation

# Share of line items per category over a year, before seasonality.
CATEGORY_SHARE: dict[str, float] = {
    "Hand Tools": 0.12, "Power Tools": 0.08, "Paint & Finishes": 0.13, "Hardware": 0.16,
    "Lumber & Building Materials": 0.10, "Electrical": 0.12, "Plumbing": 0.10,
    "Garden & Outdoor": 0.12, "Storage & Organization": 0.07,
}
# Monthly demand multipliers per category (January first).
SEASONALITY: dict[str, tuple[float, ...]] = {
    "Hand Tools": (0.9, 0.9, 1.0, 1.0, 1.0, 1.0, 0.95, 0.95, 0.95, 1.0, 1.25, 1.7),
    "Power Tools": (0.85, 0.8, 0.9, 1.0, 1.0, 0.95, 0.95, 0.95, 0.95, 1.0, 1.4, 2.0),
    "Paint & Finishes": (0.8, 0.85, 1.0, 1.15, 1.25, 1.25, 1.2, 1.1, 1.0, 0.9, 0.8, 0.75),
    "Hardware": (0.95, 0.95, 1.0, 1.05, 1.05, 1.05, 1.0, 1.0, 1.0, 1.0, 1.0, 1.05),
    "Lumber & Building Materials": (0.7, 0.75, 0.95, 1.15, 1.25, 1.25, 1.2, 1.15, 1.05, 0.95,
                                    0.8, 0.7),
    "Electrical": (1.1, 1.0, 0.95, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.1, 1.25, 1.45),
    "Plumbing": (1.25, 1.15, 1.0, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 1.0, 1.05, 1.15),
    "Garden & Outdoor": (0.35, 0.5, 1.0, 1.8, 2.2, 2.0, 1.7, 1.3, 0.9, 0.7, 0.45, 0.35),
    "Storage & Organization": (1.35, 1.1, 1.0, 0.95, 0.9, 0.9, 0.9, 1.0, 1.05, 1.0, 1.0, 1.15),
}
# Eastern Washington has harder winters and a shorter, sharper garden season.
SPOKANE_GARDEN = (0.2, 0.3, 0.8, 1.9, 2.6, 2.4, 1.9, 1.4, 0.9, 0.6, 0.3, 0.2)
# The online store sells little bulky material and more tools and organisers.
ONLINE_CATEGORY_FACTOR: dict[str, float] = {
    "Lumber & Building Materials": 0.25, "Power Tools": 1.35, "Storage & Organization": 1.35,
    "Electrical": 1.1, "Hand Tools": 1.1,
}
WEEKDAY_STORE = (0.85, 0.85, 0.9, 0.95, 1.05, 1.45, 1.3)  # Monday first
WEEKDAY_ONLINE = (1.1, 1.05, 1.0, 1.0, 0.95, 0.9, 1.0)
GROWTH_STORE = 0.08  # per year
GROWTH_ONLINE = 0.25
ITEMS_PER_ORDER = (1,) * 24 + (2,) * 28 + (3,) * 22 + (4,) * 15 + (5,) * 11
QUANTITIES: dict[str, tuple[int, ...]] = {
    "single": (1,) * 90 + (2,) * 8 + (3,) * 2,
    "few": (1,) * 55 + (2,) * 25 + (3,) * 10 + (4,) * 6 + (5,) * 4,
    "consumable": (1,) * 40 + (2,) * 25 + (3,) * 12 + (4,) * 8 + (5,) * 5 + (6,) * 5
    + (10,) * 3 + (12,) * 2,
    "bulk": (1,) * 15 + (2,) * 15 + (3,) * 10 + (4,) * 12 + (5,) * 8 + (6,) * 10 + (8,) * 10
    + (10,) * 8 + (12,) * 5 + (16,) * 4 + (20,) * 3,
}
STORE_HOURS = tuple(h for h, w in zip(range(8, 21), (3, 5, 7, 9, 10, 10, 9, 9, 9, 9, 7, 5, 3),
                                      strict=True) for _ in range(w))
ONLINE_HOURS = tuple(h for h, w in enumerate((2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 5, 6, 5, 5, 5, 5,
                                              5, 6, 7, 8, 8, 6, 4)) for _ in range(w))
PROMO_SHARE = 0.07  # order lines sold at a promotional unit price
PROMO_FACTOR = 0.85
DISCOUNT_SHARE = 0.06  # order lines with a coupon / loyalty discount
DISCOUNT_PERCENTS = (5, 10, 10, 10, 15, 20)
PRICE_INFLATION = 0.03  # prices were this much lower per year before the anchor
RETURNED_SHARE = 0.03
CANCELLED_SHARE = 0.01
EXISTING_CUSTOMER_SHARE = 0.35  # customers who joined before the history window
LOW_STOCK_SHARE = 0.06  # inventory rows at or below their reorder point
LOW_STOCK_BEST_SELLER_SHARE = 0.25  # ... among each store's 20 best sellers
AMOUNT_CACHE_LIMIT = 250_000

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Isabella", "James",
    "Mia", "William", "Amelia", "Benjamin", "Harper", "Lucas", "Evelyn", "Henry", "Abigail",
    "Theodore", "Emily", "Jack", "Ella", "Levi", "Elizabeth", "Alexander", "Camila", "Jackson",
    "Luna", "Mateo", "Sofia", "Daniel", "Avery", "Michael", "Mila", "Mason", "Aria", "Sebastian",
    "Scarlett", "Ethan", "Penelope", "Logan", "Layla", "Owen", "Chloe", "Samuel", "Victoria",
    "Jacob", "Madison", "Asher", "Eleanor", "Aiden", "Grace", "John", "Nora", "Joseph", "Riley",
    "Wyatt", "Zoey", "David", "Hannah", "Leo", "Hazel", "Luke", "Lily", "Julian", "Ellie",
    "Hudson", "Violet", "Grayson", "Lillian", "Matthew", "Zoe", "Ezra", "Stella", "Gabriel",
    "Aurora", "Carter", "Natalie", "Isaac", "Emilia", "Jayden", "Everly", "Luca", "Leah",
    "Anthony", "Aubrey", "Dylan", "Willow", "Lincoln", "Addison", "Thomas", "Lucy", "Maverick",
    "Audrey", "Elias", "Bella", "Josiah", "Nova", "Charles", "Brooklyn", "Caleb", "Paisley",
    "Christopher", "Savannah", "Ezekiel", "Claire", "Miles", "Skylar", "Jaxon", "Isla", "Isaiah",
    "Genesis", "Andrew", "Naomi", "Joshua", "Elena", "Nathan", "Caroline", "Nolan", "Eliana",
    "Adrian", "Anna", "Cameron", "Maya", "Santiago", "Valentina", "Eli", "Ruby", "Aaron",
    "Kennedy", "Ryan", "Ivy", "Angel", "Ariana", "Cooper", "Aaliyah", "Waylon", "Cora", "Kai",
    "Priya", "Hiroshi", "Mei", "Arjun", "Fatima", "Omar", "Yuki", "Wei", "Ana", "Diego", "Sione",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans",
    "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
    "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
    "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
    "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price",
    "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
    "Tran", "Chen", "Wang", "Li", "Zhang", "Liu", "Singh", "Kumar", "Tanaka", "Sato", "Park",
    "Choi", "Olsen", "Larsen", "Johansson", "Eriksen", "Murray", "Fischer", "Schmidt", "Novak",
    "Kowalski", "O'Brien", "Sullivan", "McCarthy", "Fitzgerald", "Nakamura", "Yamamoto", "Le",
    "Pham", "Vu", "Hoang", "Tupou", "Begay", "Yazzie", "Running Crane", "Whitehorse",
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")


# ---------------------------------------------------------------- the dataset


@dataclass(frozen=True)
class TableData:
    """One table of the dataset: its name, COPY columns and a re-iterable stream of COPY text.

    `chunks()` regenerates the rows each time it is called (nothing large is kept in memory);
    every chunk holds whole lines, each ending in a newline.
    """

    name: str
    columns: tuple[str, ...]
    estimated_rows: int
    produce: Callable[[], Iterator[str]] = field(repr=False)

    def chunks(self) -> Iterator[str]:
        return self.produce()

    def rows(self) -> Iterator[tuple[str | None, ...]]:
        """The rows as tuples of column texts (None for NULL) - for tests and inspection."""
        for chunk in self.chunks():
            for line in chunk.splitlines():
                yield tuple(None if v == r"\N" else copy_unescape(v) for v in line.split("\t"))


@dataclass
class DemoDataset:
    """The demo tables in load order. Iterate `tables` (or `stream()`) to load them."""

    seed: int
    anchor: date
    scale: str
    products: int
    first_day: date  # first day with orders (anchor - 3 years)
    last_day: date  # last day with orders (anchor - 1 day)
    tables: tuple[TableData, ...]
    _checksum: str | None = field(default=None, init=False, repr=False)

    @property
    def estimated_rows(self) -> int:
        return sum(t.estimated_rows for t in self.tables)

    def table(self, name: str) -> TableData:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def stream(self) -> Iterator[tuple[TableData, Iterator[bytes]]]:
        """Each table with its COPY data as UTF-8 chunks, hashing them on the way, so a full
        load also yields the checksum without generating the data a second time."""
        hasher = hashlib.sha256()
        for table in self.tables:
            hasher.update(_table_header(table))
            chunks = _hashed(table.chunks(), hasher)
            yield table, chunks
            for _rest in chunks:  # a consumer that skipped part of a table: keep the hash true
                pass
        self._checksum = hasher.hexdigest()

    def checksum(self) -> str:
        """sha256 (hex) over the exact COPY text of every table in load order."""
        if self._checksum is None:
            hasher = hashlib.sha256()
            for table in self.tables:
                hasher.update(_table_header(table))
                for chunk in table.chunks():
                    hasher.update(chunk.encode())
            self._checksum = hasher.hexdigest()
        return self._checksum


def _table_header(table: TableData) -> bytes:
    return f"{table.name}({','.join(table.columns)})\n".encode()


def _hashed(chunks: Iterator[str], hasher: hashlib._Hash) -> Iterator[bytes]:
    for chunk in chunks:
        data = chunk.encode()
        hasher.update(data)
        yield data


def generate_dataset(
    seed: int, anchor: date, scale: str = "small", products: int | None = None
) -> DemoDataset:
    """The demo dataset for (seed, anchor, scale, products); cheap to call - rows are produced
    lazily when the tables are iterated. Raises ValueError for an unknown scale, a negative or
    non-integer seed, or a product count out of range."""
    seed, anchor, spec, count = _validate(seed, anchor, scale, products)
    world = _World(seed, anchor, spec, count)
    return DemoDataset(
        seed=seed, anchor=anchor, scale=scale, products=count,
        first_day=world.days[0], last_day=world.days[-1], tables=world.tables(),
    )


def _validate(
    seed: object, anchor: object, scale: object, products: object
) -> tuple[int, date, ScaleSpec, int]:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(anchor, datetime):
        anchor = anchor.date()
    if not isinstance(anchor, date):
        raise ValueError(f"anchor must be a date, got {anchor!r}")
    if anchor.year < 1975 or anchor.year > 9000:
        raise ValueError(f"anchor must be between 1975 and 9000, got {anchor.isoformat()}")
    if not isinstance(scale, str) or scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}; got {scale!r}")
    if products is None:
        count = curated_size()
    elif (isinstance(products, bool) or not isinstance(products, int)
          or not MIN_PRODUCTS <= products <= MAX_PRODUCTS):
        raise ValueError(
            f"products must be an integer from {MIN_PRODUCTS} to {MAX_PRODUCTS} "
            f"(default: the {curated_size()} curated products); got {products!r}"
        )
    else:
        count = products
    return seed, anchor, SCALES[scale], count


# ---------------------------------------------------------------- formatting helpers


@lru_cache(maxsize=1)
def _times_of_day() -> tuple[str, ...]:
    """'HH:MM:SS+00' for every second of a day, so per-row timestamps are string joins."""
    return tuple(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00" for s in range(86_400))


def _rng(label: str) -> random.Random:
    """A generator seeded from a label (version-2 string seeding: stable everywhere)."""
    return random.Random(label)  # noqa: S311  # reproducible demo data, not cryptography


def _v4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _named_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"{kind}:{name}"))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# ---------------------------------------------------------------- the simulation


@dataclass(frozen=True)
class _Customer:
    customer_id: str
    first_name: str
    last_name: str
    email: str
    created_at: str
    eligible_from: int  # first day index on which the customer may order


class _World:
    """Everything precomputed once per dataset: catalogue, ids, calendar, customers and the
    sampling tables the order generator uses. Small (≤ a few MB except the customers)."""

    def __init__(self, seed: int, anchor: date, spec: ScaleSpec, count: int) -> None:
        self.seed = seed
        self.anchor = anchor
        self.spec = spec
        self.catalogue = build_catalogue(seed, count)
        first = _years_before(anchor, HISTORY_YEARS)
        self.days: list[date] = [first + timedelta(days=i) for i in range((anchor - first).days)]
        self.day_text = [d.isoformat() for d in self.days]
        epoch = date(1970, 1, 1)
        self.day_ms = [(d - epoch).days * 86_400_000 for d in self.days]
        self.reference_ts = f"{(first - timedelta(days=400)).isoformat()} 00:00:00+00"
        rng = _rng(f"zava-demo:{seed}:ids")
        self.category_ids = {c: _named_id("category", c) for c in CATEGORIES}
        self.type_ids = {t: _named_id("product-type", "/".join(t)) for t in product_types()}
        self.product_ids = [_v4(rng) for _ in self.catalogue]
        self.product_columns = [f"{pid}\t" for pid in self.product_ids]
        # (product, quantity, price level, promo) -> "quantity\tunit\t0.00\ttotal" COPY text;
        # the key packs quantity in 5 bits and the price level in 2 (checked here).
        assert max(map(max, QUANTITIES.values())) < 32
        assert HISTORY_YEARS < 4
        self.amount_cache: dict[int, str] = {}
        self.store_ids = [str(s.store_id) for s in STORES]
        self._build_prices()
        self._build_product_sampling()
        self._build_calendar()
        self._build_customers(_rng(f"zava-demo:{seed}:customers"))

    # -- products ------------------------------------------------------------------------
    def _build_prices(self) -> None:
        """Unit price text per product per price level (0 = the current base price, n = n years
        earlier) and the promotional price per level, both in cents and as text."""
        levels = HISTORY_YEARS + 1
        self.price_cents: list[tuple[int, ...]] = []
        self.promo_cents: list[tuple[int, ...]] = []
        for p in self.catalogue:
            regular = tuple(_nine(p.price_cents * (1 - PRICE_INFLATION * lv), p.cost_cents)
                            if lv else p.price_cents for lv in range(levels))
            promo = tuple(_nine(c * PROMO_FACTOR, p.cost_cents) for c in regular)
            self.price_cents.append(regular)
            self.promo_cents.append(promo)
        self.price_text = [tuple(money(c) for c in row) for row in self.price_cents]
        self.promo_text = [tuple(money(c) for c in row) for row in self.promo_cents]

    def _build_product_sampling(self) -> None:
        """Cumulative popularity per category, for bisect sampling of the product of a line."""
        self.category_products: list[list[int]] = [[] for _ in CATEGORIES]
        for i, p in enumerate(self.catalogue):
            self.category_products[CATEGORIES.index(p.category)].append(i)
        self.category_cum: list[list[float]] = [
            list(accumulate(self.catalogue[i].popularity for i in members))
            for members in self.category_products
        ]
        self.quantities = [QUANTITIES[p.quantity_profile] for p in self.catalogue]

    # -- calendar ------------------------------------------------------------------------
    def _build_calendar(self) -> None:
        """Expected orders per (day, store) and the category mix per (store, month)."""
        self.category_mix: list[list[list[float]]] = []  # [store][month] -> cumulative weights
        mix_total: list[list[float]] = []
        for store in STORES:
            per_month: list[list[float]] = []
            totals: list[float] = []
            for m in range(12):
                weights = [_category_weight(store, c, m) for c in CATEGORIES]
                per_month.append(list(accumulate(weights)))
                totals.append(sum(weights))
            self.category_mix.append(per_month)
            mix_total.append(totals)
        holidays = _holidays(self.days[0].year, self.days[-1].year)
        n = len(self.days)
        day_weights = [[0.0] * len(STORES) for _ in range(n)]
        for i, d in enumerate(self.days):
            years_back = (n - 1 - i) / 365.25
            for s, store in enumerate(STORES):
                growth = (1 + (GROWTH_ONLINE if store.is_online else GROWTH_STORE)) ** -years_back
                weekday = (WEEKDAY_ONLINE if store.is_online else WEEKDAY_STORE)[d.weekday()]
                holiday = holidays.get(d, (1.0, 1.0))[1 if store.is_online else 0]
                day_weights[i][s] = (store.weight * growth * weekday * holiday
                                     * mix_total[s][d.month - 1])
        total = sum(map(sum, day_weights))
        self.expected_orders = [[w * self.spec.orders / total for w in row]
                                for row in day_weights]
        self.price_level = [min(HISTORY_YEARS, (n - 1 - i) // 365) for i in range(n)]

    # -- customers -----------------------------------------------------------------------
    def _build_customers(self, rng: random.Random) -> None:
        """Customers per home store, in joining order. A customer may order from the day after
        joining, so created_at always precedes their first order."""
        n_days = len(self.days)
        total_weight = sum(s.weight for s in STORES)
        growth_cum = list(accumulate(1.1 ** (i / 365.25) for i in range(n_days)))
        self.customers: list[list[_Customer]] = []
        serial = 0
        for store in STORES:
            count = max(20, round(self.spec.customers * store.weight / total_weight))
            existing = round(count * EXISTING_CUSTOMER_SHARE)
            joins: list[int] = []  # day index relative to first day (negative = before)
            for k in range(count):
                if k < existing:
                    joins.append(-1 - int(rng.random() * 730))
                else:
                    r = rng.random() * growth_cum[-1]
                    joins.append(min(n_days - 2, bisect_right(growth_cum, r)))
            joins.sort()
            members: list[_Customer] = []
            for join in joins:
                serial += 1
                first = rng.choice(FIRST_NAMES)
                last = rng.choice(LAST_NAMES)
                local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
                email = f"{local}{serial}@{rng.choice(EMAIL_DOMAINS)}"
                day = self.days[0] + timedelta(days=join)
                created = f"{day.isoformat()} {_times_of_day()[int(rng.random() * 86_400)]}"
                members.append(_Customer(_v4(rng), first, last, email, created, join + 1))
            self.customers.append(members)
        # joined[s][d]: how many of store s's customers may order on day d (a prefix).
        self.joined: list[list[int]] = []
        for members in self.customers:
            starts = [c.eligible_from for c in members]
            self.joined.append([max(1, bisect_right(starts, d)) for d in range(n_days)])

    # -- tables --------------------------------------------------------------------------
    def tables(self) -> tuple[TableData, ...]:
        orders = self.spec.orders
        mean_items = sum(ITEMS_PER_ORDER) / len(ITEMS_PER_ORDER)
        estimates = {
            "retail.regions": len(REGIONS),
            "retail.stores": len(STORES),
            "retail.categories": len(CATEGORIES),
            "retail.product_types": len(self.type_ids),
            "retail.products": len(self.catalogue),
            "retail.customers": sum(len(c) for c in self.customers),
            "retail.orders": orders,
            "retail.order_items": int(orders * mean_items * 0.99),
            "retail.inventory": int(len(STORES) * len(self.catalogue) * 0.93),
            "access.app_users": len(USERS),
            "access.user_store_access": sum(len(u.store_ids) for u in USERS),
        }
        producers: dict[str, Callable[[], Iterator[str]]] = {
            "retail.regions": self._regions,
            "retail.stores": self._stores,
            "retail.categories": self._categories,
            "retail.product_types": self._product_types,
            "retail.products": self._products,
            "retail.customers": self._customers,
            "retail.orders": lambda: self._order_stream(with_items=False),
            "retail.order_items": lambda: self._order_stream(with_items=True),
            "retail.inventory": self._inventory,
            "access.app_users": self._app_users,
            "access.user_store_access": self._user_store_access,
        }
        return tuple(
            TableData(name, TABLE_COLUMNS[name], estimates[name], producers[name])
            for name in LOAD_ORDER
        )

    def _regions(self) -> Iterator[str]:
        ts = self.reference_ts
        yield "".join(copy_line((str(r.region_id), r.name, ts, ts)) for r in REGIONS)

    def _stores(self) -> Iterator[str]:
        ts = self.reference_ts
        yield "".join(
            copy_line((str(s.store_id), s.code, s.name, s.city, s.is_online, str(s.region_id),
                       ts, ts))
            for s in STORES
        )

    def _categories(self) -> Iterator[str]:
        ts = self.reference_ts
        yield "".join(copy_line((self.category_ids[c], c, ts, ts)) for c in CATEGORIES)

    def _product_types(self) -> Iterator[str]:
        ts = self.reference_ts
        yield "".join(
            copy_line((type_id, self.category_ids[category], name, ts, ts))
            for (category, name), type_id in self.type_ids.items()
        )

    def _products(self) -> Iterator[str]:
        rng = _rng(f"zava-demo:{self.seed}:products")
        launch = self.days[0]

        def lines() -> Iterator[str]:
            for pid, p in zip(self.product_ids, self.catalogue, strict=True):
                day = launch - timedelta(days=1 + int(rng.random() * 365))
                ts = f"{day.isoformat()} 00:00:00+00"
                yield copy_line((
                    pid, p.sku, p.name, p.description, self.category_ids[p.category],
                    self.type_ids[(p.category, p.product_type)], money(p.cost_cents),
                    money(p.price_cents), ts, ts,
                ))

        return chunked(lines())

    def _customers(self) -> Iterator[str]:
        def lines() -> Iterator[str]:
            for store_id, members in zip(self.store_ids, self.customers, strict=True):
                for c in members:
                    yield copy_line((store_id, c.customer_id, c.first_name, c.last_name, c.email,
                                 c.created_at, c.created_at))

        return chunked(lines())

    def _app_users(self) -> Iterator[str]:
        ts = self.reference_ts
        yield "".join(
            copy_line((str(u.user_id), u.display_name, u.email, u.role, ts, ts)) for u in USERS
        )

    def _user_store_access(self) -> Iterator[str]:
        yield "".join(
            copy_line((str(u.user_id), str(s))) for u in USERS for s in u.store_ids
        )

    # -- orders and order lines ----------------------------------------------------------
    def _order_stream(self, *, with_items: bool) -> Iterator[str]:
        """Orders (with_items=False) or their lines (True), day by day. Both passes draw the
        same random numbers from the same per-day generators; only the output differs."""
        buf: list[str] = []
        for day in range(len(self.days)):
            self._day(day, with_items, buf)
            if len(buf) >= CHUNK_LINES:
                yield "".join(buf)
                buf = []
        if buf:
            yield "".join(buf)

    def _day(self, day: int, with_items: bool, out: list[str]) -> None:
        """Append one day's order rows (or order-line rows) to `out`. The hot loop: locals
        only, string joins, integer cents."""
        rng = _rng(f"zava-demo:{self.seed}:orders:{self.day_text[day]}")
        rnd = rng.random
        bits = rng.getrandbits
        times = _times_of_day()
        day_text = self.day_text[day] + " "
        last_day = len(self.days) - 1
        day_ms = self.day_ms[day]
        level = self.price_level[day]
        month = self.days[day].month - 1
        price_cents, promo_cents = self.price_cents, self.promo_cents
        price_text, promo_text = self.price_text, self.promo_text
        quantities = self.quantities
        category_products, category_cum = self.category_products, self.category_cum
        n_items_table = ITEMS_PER_ORDER
        n_items_len = len(ITEMS_PER_ORDER)
        mask62 = (1 << 62) - 1
        rfc_variant = 0x2 << 62
        product_cols = self.product_columns
        amount_cache = self.amount_cache
        if len(amount_cache) > AMOUNT_CACHE_LIMIT:  # huge catalogues: bound the memory
            amount_cache.clear()
        version_bits = (0x7 << 76) | (0x2 << 62)
        append = out.append
        for s, store in enumerate(STORES):
            expected = self.expected_orders[day][s]
            n_orders = int(expected) + (1 if rnd() < expected - int(expected) else 0)
            if not n_orders:
                continue
            store_prefix = self.store_ids[s] + "\t"
            members = self.customers[s]
            joined = self.joined[s][day]
            hours = ONLINE_HOURS if store.is_online else STORE_HOURS
            n_hours = len(hours)
            mix = self.category_mix[s][month]
            mix_total = mix[-1]
            for _ in range(n_orders):
                customer = members[int(rnd() * joined)].customer_id
                second = hours[int(rnd() * n_hours)] * 3600 + int(rnd() * 3600)
                ms = day_ms + second * 1000 + int(rnd() * 1000)
                r = bits(74)
                h = "%032x" % ((ms << 80) | version_bits | ((r >> 62) << 64) | (r & mask62))
                order_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
                # A line's id shares its order's timestamp and rand_a; 62 fresh bits of
                # rand_b make it unique.
                line_prefix = f"{store_prefix}{order_id[:19]}"
                order_mid = f"\t{order_id}\t"
                ts = day_text + times[second]
                ts_tail = f"\t{ts}\t{ts}\n"
                n_items = n_items_table[int(rnd() * n_items_len)]
                chosen: list[int] = []
                order_total = 0
                for _j in range(n_items):
                    c = bisect_right(mix, rnd() * mix_total)
                    cum = category_cum[c]
                    p = category_products[c][bisect_right(cum, rnd() * cum[-1])]
                    qtab = quantities[p]
                    q = qtab[int(rnd() * len(qtab))]
                    promo = rnd() < PROMO_SHARE
                    discount_roll = rnd()
                    r = bits(62)
                    if p in chosen:  # the same product twice: one line is enough
                        continue
                    chosen.append(p)
                    unit = promo_cents[p][level] if promo else price_cents[p][level]
                    gross = q * unit
                    if discount_roll < DISCOUNT_SHARE:
                        pct = DISCOUNT_PERCENTS[int(discount_roll / DISCOUNT_SHARE
                                                    * len(DISCOUNT_PERCENTS))]
                        discount = gross * pct // 100
                    else:
                        discount = 0
                    line_total = gross - discount
                    order_total += line_total
                    if with_items:
                        if discount:
                            unit_text = promo_text[p][level] if promo else price_text[p][level]
                            amounts = (f"{q}\t{unit_text}\t{money(discount)}\t"
                                       f"{money(line_total)}")
                        else:  # the common case: cached "quantity, unit, 0.00, total" text
                            key = (((p << 5 | q) << 2 | level) << 1) | promo
                            cached = amount_cache.get(key)
                            if cached is None:
                                unit_text = (promo_text[p][level] if promo
                                             else price_text[p][level])
                                cached = amount_cache[key] = (
                                    f"{q}\t{unit_text}\t0.00\t{money(line_total)}")
                            amounts = cached
                        h = "%016x" % (r | rfc_variant)
                        append(f"{line_prefix}{h[:4]}-{h[4:]}{order_mid}{product_cols[p]}"
                               f"{amounts}{ts_tail}")
                status_roll = rnd()
                return_days = 1 + int(rnd() * 21)
                if with_items:
                    continue
                if status_roll < RETURNED_SHARE:
                    status = "returned"
                    updated = (self.day_text[min(last_day, day + return_days)] + " "
                               + times[second])
                elif status_roll < RETURNED_SHARE + CANCELLED_SHARE:
                    status = "cancelled"
                    updated = ts
                else:
                    status = "completed"
                    updated = ts
                append(f"{store_prefix}{order_id}\t{customer}\t{ts}\t{status}\t"
                       f"{money(order_total)}\t{ts}\t{updated}\n")

    # -- inventory -----------------------------------------------------------------------
    def _inventory(self) -> Iterator[str]:
        """Stock per store and product. Reorder points follow each product's sales velocity
        at the store; a few percent of rows (and a quarter of each store's best sellers) sit
        at or below the reorder point, so inventory alerts have something to say."""
        rng = _rng(f"zava-demo:{self.seed}:inventory")
        rnd = rng.random
        last = self.day_text[-1] + " "
        times = _times_of_day()
        created = f"{self.days[0].isoformat()} 00:00:00+00"
        mean_items = sum(ITEMS_PER_ORDER) / len(ITEMS_PER_ORDER)
        mean_qty = [sum(q) / len(q) for q in self.quantities]
        n_days = len(self.days)

        def lines() -> Iterator[str]:
            for s, store in enumerate(STORES):
                # Average daily units of each product at this store over the last 90 days.
                recent = sum(self.expected_orders[d][s] for d in range(n_days - 90, n_days)) / 90
                annual_mix = [0.0] * len(CATEGORIES)
                for m in range(12):
                    cum = self.category_mix[s][m]
                    for c in range(len(CATEGORIES)):
                        annual_mix[c] += (cum[c] - (cum[c - 1] if c else 0.0)) / cum[-1] / 12
                velocity = [0.0] * len(self.catalogue)
                for c, members in enumerate(self.category_products):
                    cum = self.category_cum[c]
                    for i, p in enumerate(members):
                        share = (cum[i] - (cum[i - 1] if i else 0.0)) / cum[-1]
                        velocity[p] = recent * mean_items * annual_mix[c] * share * mean_qty[p]
                best = set(sorted(range(len(velocity)), key=velocity.__getitem__)[-20:])
                stocked = 0.8 if store.is_online else 0.95
                store_prefix = self.store_ids[s] + "\t"
                for p, pid in enumerate(self.product_ids):
                    r_stock, r_low, r_level, r_extra, r_time = rnd(), rnd(), rnd(), rnd(), rnd()
                    if r_stock > stocked and p not in best:
                        continue
                    # Two weeks of sales (the supplier lead time) plus a small safety stock.
                    reorder = 2 + math.ceil(velocity[p] * 14)
                    low_share = LOW_STOCK_BEST_SELLER_SHARE if p in best else LOW_STOCK_SHARE
                    if r_low < low_share:
                        stock = int(r_level * (reorder + 1))
                    else:
                        stock = reorder + 1 + int(velocity[p] * (14 + 46 * r_level)
                                                  + r_extra * 12)
                    updated = last + times[int(r_time * 86_400)]
                    yield f"{store_prefix}{pid}\t{stock}\t{reorder}\t{created}\t{updated}\n"

        return chunked(lines())


def _nine(cents: float, floor: int) -> int:
    """A price ending in 9 cents, never below cost + 1 cent."""
    value = int(cents) // 10 * 10 + 9
    return max(value, floor + 1)


def _category_weight(store: DemoStore, category: str, month: int) -> float:
    season = SEASONALITY[category][month]
    if category == "Garden & Outdoor" and store.city == "Spokane":
        season = SPOKANE_GARDEN[month]
    factor = ONLINE_CATEGORY_FACTOR.get(category, 1.0) if store.is_online else 1.0
    return CATEGORY_SHARE[category] * season * factor


def _holidays(first_year: int, last_year: int) -> dict[date, tuple[float, float]]:
    """Demand multipliers (physical stores, online) on the days that differ from normal."""
    days: dict[date, tuple[float, float]] = {}
    for year in range(first_year, last_year + 1):
        thanksgiving = _nth_weekday(year, 11, 3, 4)
        memorial = _last_weekday(year, 5, 0)
        days[date(year, 1, 1)] = (0.4, 0.8)
        days[memorial - timedelta(days=2)] = (1.5, 1.1)
        days[memorial - timedelta(days=1)] = (1.4, 1.1)
        days[memorial] = (1.6, 1.2)
        days[date(year, 7, 4)] = (0.6, 0.8)
        days[thanksgiving] = (0.0, 0.9)
        days[thanksgiving + timedelta(days=1)] = (2.4, 2.2)  # Black Friday
        days[thanksgiving + timedelta(days=2)] = (1.6, 1.4)
        days[thanksgiving + timedelta(days=4)] = (1.1, 2.6)  # Cyber Monday
        days[date(year, 12, 24)] = (0.7, 0.6)
        days[date(year, 12, 25)] = (0.0, 0.4)
        days[date(year, 12, 26)] = (1.3, 1.3)
    return days


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)
