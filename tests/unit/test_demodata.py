"""The demo data generator: determinism, and the invariants the database and the tools rely on.

No hard-coded checksums (they would break on any harmless change): determinism is checked by
generating twice. The small scale is generated once per module and parsed from its COPY text,
so these tests check exactly what gets loaded.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.copy_text import copy_escape, copy_line, copy_unescape
from adapters.demodata.catalogue import (
    AUDIENCES,
    BRAND_NOTES,
    BRANDS,
    DETAILS,
    LOOKS,
    STANDINGS,
    CatalogueProduct,
    build_catalogue,
    curated_size,
    product_types,
)
from adapters.demodata.generator import (
    LOAD_ORDER,
    TABLE_COLUMNS,
    DemoDataset,
    generate_dataset,
)
from adapters.demodata.reference import CATEGORIES, REGIONS, STORES, USERS
from domain.model import ProductText
from domain.services.embedding_index import product_document

SEED = 7
ANCHOR = date(2026, 6, 30)
Rows = dict[str, list[tuple[str | None, ...]]]


@pytest.fixture(scope="module")
def small() -> DemoDataset:
    return generate_dataset(SEED, ANCHOR, "small")


@pytest.fixture(scope="module")
def rows(small: DemoDataset) -> Rows:
    return {table.name: list(table.rows()) for table in small.tables}


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("+00", "+00:00"))


# ---------------------------------------------------------------- determinism


def test_same_seed_and_anchor_give_identical_bytes(small: DemoDataset) -> None:
    again = generate_dataset(SEED, ANCHOR, "small")
    assert again.checksum() == small.checksum()
    assert len(small.checksum()) == 64


def test_a_different_seed_gives_different_data(small: DemoDataset) -> None:
    other = generate_dataset(SEED + 1, ANCHOR, "small")
    assert other.checksum() != small.checksum()
    assert next(other.table("retail.orders").rows()) != next(small.table("retail.orders").rows())


def test_a_different_anchor_shifts_the_dates(rows: Rows) -> None:
    later = generate_dataset(SEED, ANCHOR + timedelta(days=10), "small")
    assert later.first_day == date(2023, 7, 10)
    assert later.last_day == date(2026, 7, 9)
    dates = [_ts(r[3] or "").date() for r in later.table("retail.orders").rows()]
    assert max(dates) == ANCHOR + timedelta(days=9)
    assert min(dates) == date(2023, 7, 10)
    assert max(_ts(r[3] or "").date() for r in rows["retail.orders"]) == ANCHOR - timedelta(days=1)


def test_streaming_for_a_load_yields_the_same_checksum(small: DemoDataset) -> None:
    fresh = generate_dataset(SEED, ANCHOR, "small")
    loaded = {table.name: sum(chunk.count(b"\n") for chunk in chunks)
              for table, chunks in fresh.stream()}
    assert fresh.checksum() == small.checksum()  # cached from the stream, not recomputed
    assert list(loaded) == list(LOAD_ORDER)


def test_the_curated_catalogue_does_not_depend_on_the_requested_count() -> None:
    base = build_catalogue(SEED, curated_size())
    bigger = build_catalogue(SEED, curated_size() + 500)
    assert bigger[: len(base)] == base
    assert build_catalogue(SEED, 1_000) == build_catalogue(SEED, 1_000)


# ---------------------------------------------------------------- shape of the tables


def test_every_row_has_the_table_columns(rows: Rows) -> None:
    assert list(rows) == list(LOAD_ORDER)
    for table, table_rows in rows.items():
        width = len(TABLE_COLUMNS[table])
        assert table_rows, table
        assert all(len(r) == width for r in table_rows), table


def test_reference_rows_are_exactly_the_reference_module(rows: Rows) -> None:
    assert {(r[0], r[1]) for r in rows["retail.regions"]} == {
        (str(r.region_id), r.name) for r in REGIONS
    }
    assert {(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows["retail.stores"]} == {
        (str(s.store_id), s.code, s.name, s.city, "t" if s.is_online else "f", str(s.region_id))
        for s in STORES
    }
    assert [r[1] for r in rows["retail.categories"]] == list(CATEGORIES)
    assert {(r[0], r[3]) for r in rows["access.app_users"]} == {
        (str(u.user_id), u.role) for u in USERS
    }
    assert {(r[0], r[1]) for r in rows["access.user_store_access"]} == {
        (str(u.user_id), str(s)) for u in USERS for s in u.store_ids
    }


def test_small_scale_sizes(rows: Rows) -> None:
    assert 350 <= len(rows["retail.products"]) <= 500
    assert 4_500 <= len(rows["retail.customers"]) <= 5_500
    assert 47_000 <= len(rows["retail.orders"]) <= 53_000
    per_order = len(rows["retail.order_items"]) / len(rows["retail.orders"])
    assert 2.2 <= per_order <= 3.0


def test_large_scale_targets_without_generating_it() -> None:
    large = generate_dataset(SEED, ANCHOR, "large")
    assert large.table("retail.orders").estimated_rows == 1_000_000
    assert 49_000 <= large.table("retail.customers").estimated_rows <= 51_000
    assert large.products == curated_size()


# ---------------------------------------------------------------- products


def test_products_are_unique_realistic_and_cover_every_category(rows: Rows) -> None:
    products = rows["retail.products"]
    assert len({p[1] for p in products}) == len(products)  # sku
    assert len({p[2] for p in products}) == len(products)  # name
    assert len({p[0] for p in products}) == len(products)  # id
    assert all(re.fullmatch(r"[A-Z]{2}-[A-Z]{3}-\d{4,}", p[1] or "") for p in products)
    assert all(len(p[3] or "") >= 150 for p in products)
    category_ids = {r[0] for r in rows["retail.categories"]}
    assert {p[4] for p in products} == category_ids
    types = {r[0]: r[1] for r in rows["retail.product_types"]}
    assert all(types[p[5]] == p[4] for p in products)  # type belongs to the category
    for p in products:
        cost, price = Decimal(p[6] or ""), Decimal(p[7] or "")
        assert Decimal(0) < cost < price
        assert Decimal("0.24") <= (price - cost) / price <= Decimal("0.61"), p[2]


@pytest.mark.parametrize("need", [
    "pruning shears", "loppers", "hedge trimmer", "garden hose", "cordless drill",
    "circular saw", "claw hammer", "tape measure", "paint roller", "exterior .*paint",
    "wood stain", "wall anchors", "deck screws", "pvc pipe", "pipe wrench", "plunger",
    "extension cord", "led .*bulbs", "circuit breaker", "wire stripper", "stud finder",
    "tool box", "shelving unit", "storage (bins|tote)", "plywood", "2 in x 4 in", "drywall",
    "concrete mix", "wheelbarrow", "lawn mower", "leaf blower", "ladder", "safety glasses",
    "work gloves", "caulk", "sandpaper",
])
def test_the_catalogue_has_what_a_hardware_store_sells(need: str) -> None:
    names = [p.name.lower() for p in build_catalogue(SEED, curated_size())]
    assert any(re.search(need, n) for n in names), need


def test_descriptions_say_what_a_product_is_for() -> None:
    catalogue = {p.name: p for p in build_catalogue(SEED, curated_size())}
    shears = next(p for n, p in catalogue.items() if "Pruning Shears" in n)
    assert "branches" in shears.description
    assert shears.category == "Garden & Outdoor"
    assert all(2 <= p.description.count(". ") + 1 <= 5 for p in catalogue.values())


def test_extended_catalogues_stay_unique_and_balanced() -> None:
    products = build_catalogue(SEED, 5_000)
    assert len({p.sku for p in products}) == 5_000
    assert len({p.name for p in products}) == 5_000
    assert all(len(p.description) >= 150 for p in products)
    per_category = Counter(p.category for p in products)
    assert set(per_category) == set(CATEGORIES)
    assert max(per_category.values()) < 2 * min(per_category.values())


def test_extension_products_each_have_their_own_text_to_embed() -> None:
    # search embeds the product type and the description's first sentence: copies of one text
    # would leave a 100k catalogue with a few hundred distinct vectors
    products = build_catalogue(SEED, 20_000)
    curated, extension = products[: curated_size()], products[curated_size():]

    def documents(of: list[CatalogueProduct]) -> set[str]:
        return {product_document(ProductText(
            "id", p.name, p.description, p.category, p.product_type, None, None)) for p in of}

    assert len(documents(extension)) == len(extension)
    assert not documents(extension) & documents(curated)
    pruners = next(p for p in extension if "Pruning Shears" in p.name)
    assert "branches" in pruners.description.split(". ")[0]
    assert all(len(options) * len(AUDIENCES[c]) * len(STANDINGS) == DETAILS
               for c, options in LOOKS.items())
    assert set(BRAND_NOTES) == {b for brands in BRANDS.values() for b in brands}


def test_tiny_catalogues_still_cover_every_category() -> None:
    assert {p.category for p in build_catalogue(SEED, 9)} == set(CATEGORIES)
    assert len(build_catalogue(SEED, 60)) == 60
    assert len(product_types()) >= 50


# ---------------------------------------------------------------- orders and lines


def test_line_totals_are_quantity_times_price_minus_discount(rows: Rows) -> None:
    discounted = promos = 0
    base = {r[0]: Decimal(r[7] or "") for r in rows["retail.products"]}
    for r in rows["retail.order_items"]:
        quantity, unit = int(r[4] or ""), Decimal(r[5] or "")
        discount, total = Decimal(r[6] or ""), Decimal(r[7] or "")
        assert quantity >= 1
        assert unit > 0
        assert discount >= 0
        assert total == quantity * unit - discount
        assert unit <= base[r[3]]  # list price or lower (promotions, older prices)
        discounted += discount > 0
        promos += unit < base[r[3]] * Decimal("0.9")
    lines = len(rows["retail.order_items"])
    assert 0.03 <= discounted / lines <= 0.09
    assert 0.04 <= promos / lines <= 0.15


def test_order_totals_are_the_sum_of_their_lines(rows: Rows) -> None:
    sums: dict[tuple[str | None, str | None], Decimal] = defaultdict(Decimal)
    for r in rows["retail.order_items"]:
        sums[(r[0], r[2])] += Decimal(r[7] or "")
    orders = rows["retail.orders"]
    assert len(sums) == len(orders)  # every order has lines, every line an order
    for r in orders:
        assert Decimal(r[5] or "") == sums[(r[0], r[1])]
    lines = rows["retail.order_items"]
    assert len({(r[0], r[1]) for r in lines}) == len(lines)  # line ids unique per store
    assert len({(r[0], r[1]) for r in orders}) == len(orders)


def test_every_tenant_row_belongs_to_a_demo_store(rows: Rows) -> None:
    stores = {str(s.store_id) for s in STORES}
    for table in ("retail.customers", "retail.orders", "retail.order_items",
                  "retail.inventory"):
        assert {r[0] for r in rows[table]} == stores, table


def test_orders_are_placed_by_customers_of_their_store_after_they_joined(rows: Rows) -> None:
    joined = {(r[0], r[1]): _ts(r[5] or "") for r in rows["retail.customers"]}
    for r in rows["retail.orders"]:
        key = (r[0], r[2])
        assert key in joined
        assert joined[key] < _ts(r[3] or "")


def test_order_dates_span_three_years_before_the_anchor(rows: Rows) -> None:
    start = datetime(2023, 6, 30).date()
    dates = [_ts(r[3] or "") for r in rows["retail.orders"]]
    assert min(dates).date() == start
    assert max(dates).date() == ANCHOR - timedelta(days=1)  # the anchor day is excluded
    for r in rows["retail.orders"]:
        assert r[6] == r[3]  # created_at = order_date
        assert (r[7] or "") >= (r[3] or "")  # updated_at (returns) never earlier


def test_statuses_and_their_shares(rows: Rows) -> None:
    statuses = Counter(r[4] for r in rows["retail.orders"])
    total = sum(statuses.values())
    assert set(statuses) == {"completed", "returned", "cancelled"}
    assert 0.02 <= statuses["returned"] / total <= 0.04
    assert 0.005 <= statuses["cancelled"] / total <= 0.02


def test_seasonality_weekends_december_and_growth(rows: Rows) -> None:
    garden = {r[0] for r, t in zip(rows["retail.products"],
                                   _category_of(rows), strict=True) if t == "Garden & Outdoor"}
    by_month: Counter[int] = Counter()
    garden_by_month: Counter[int] = Counter()
    for r in rows["retail.order_items"]:
        month = int((r[8] or "")[5:7])
        by_month[month] += 1
        garden_by_month[month] += r[3] in garden
    assert garden_by_month[5] > 3 * garden_by_month[1]  # spring/summer garden peak
    orders_by_month: Counter[int] = Counter()
    weekday: Counter[int] = Counter()
    by_year: Counter[int] = Counter()
    physical = {str(s.store_id) for s in STORES if not s.is_online}
    for r in rows["retail.orders"]:
        when = _ts(r[3] or "")
        orders_by_month[when.month] += 1
        if r[0] in physical:
            weekday[when.weekday()] += 1
        if date(2023, 7, 1) <= when.date() < date(2026, 7, 1):
            by_year[(when.date() - date(2023, 7, 1)).days // 365] += 1
    assert orders_by_month[12] > orders_by_month[2]  # December peak
    assert weekday[5] > 1.3 * weekday[1]  # Saturdays busier than Tuesdays in the stores
    assert by_year[0] < by_year[1] < by_year[2]  # yearly growth
    store_share = Counter(r[0] for r in rows["retail.orders"])
    seattle, kirkland = str(STORES[0].store_id), str(STORES[6].store_id)
    assert store_share[seattle] > 2 * store_share[kirkland]  # per-store weights


def _category_of(rows: Rows) -> list[str]:
    names = {r[0]: r[1] or "" for r in rows["retail.categories"]}
    return [names[r[4]] for r in rows["retail.products"]]


# ---------------------------------------------------------------- inventory


def test_inventory_has_realistic_alerts(rows: Rows) -> None:
    inventory = rows["retail.inventory"]
    products = len(rows["retail.products"])
    assert 0.85 * products * len(STORES) <= len(inventory) <= products * len(STORES)
    assert len({(r[0], r[1]) for r in inventory}) == len(inventory)
    low = [r for r in inventory if int(r[2] or "") <= int(r[3] or "")]
    assert 0.04 <= len(low) / len(inventory) <= 0.12
    assert all(int(r[2] or "") >= 0 and int(r[3] or "") >= 1 for r in inventory)
    # Some best sellers are among the alerts: they carry the highest reorder points.
    top = sorted(inventory, key=lambda r: -int(r[3] or ""))[: len(STORES) * 20]
    assert any(int(r[2] or "") <= int(r[3] or "") for r in top)
    assert {r[0] for r in low} == {str(s.store_id) for s in STORES}


# ---------------------------------------------------------------- validation and COPY text


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"scale": "huge"}, "scale must be one of small, large"),
    ({"seed": -1}, "seed must be a non-negative integer"),
    ({"seed": "7"}, "seed must be a non-negative integer"),
    ({"products": 0}, "products must be an integer from 9 to"),
    ({"products": 10**9}, "products must be an integer from 9 to"),
    ({"anchor": "2026-06-30"}, "anchor must be a date"),
])
def test_invalid_arguments_are_refused_with_the_accepted_values(
    kwargs: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"seed": SEED, "anchor": ANCHOR, "scale": "small"}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        generate_dataset(**arguments)  # type: ignore[arg-type]


def test_products_override_the_catalogue_size() -> None:
    dataset = generate_dataset(SEED, ANCHOR, "small", products=1_000)
    assert sum(1 for _ in dataset.table("retail.products").rows()) == 1_000
    assert dataset.products == 1_000


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40))
def test_copy_text_escaping_round_trips(text: str) -> None:
    escaped = copy_escape(text)
    assert not {"\t", "\n", "\r"} & set(escaped)
    assert copy_unescape(escaped) == text


def test_copy_lines_encode_null_and_booleans() -> None:
    assert copy_line(("a\tb", None, True, False, 3)) == "a\\tb\t\\N\tt\tf\t3\n"


def test_a_stream_consumed_partially_still_yields_the_true_checksum(small: DemoDataset) -> None:
    fresh = generate_dataset(SEED, ANCHOR, "small")
    for _table, chunks in fresh.stream():
        next(chunks)  # read one chunk of each table only
    assert fresh.checksum() == small.checksum()
