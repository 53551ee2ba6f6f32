"""A chain's own data as six CSV files: read, check every row, then stream it as COPY text.

`read_file_set(directory, existing)` makes one pass over the files in dependency order
(stores, products, customers, orders, order_items, inventory), checking types, references
between files (and to the stores and SKUs already in the database), duplicate codes, negative
quantities and money, and keeping only the keys it needs (codes → ids, each order's store and
total). Problems are `file:line: column: what is wrong, what is accepted`. `FileSet.stream()`
then reads the files a second time and yields each table's COPY text, in the shape
`adapters.demodata.loader.load_dataset` loads (the same loader as the demo: COPY, deferred
indexes, progress).

Ids: a store or product whose code / SKU is already in the database keeps its id (grants,
vectors and client configurations stay valid); new ones, customers and orders get a UUID
derived from their code (uuid5), so the same files always give the same ids.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from adapters.copy_text import chunked, copy_line, money

MAX_REPORTED = 50
NAMESPACE = b"zava-import-v1"  # keys the ids derived from codes

FILES: dict[str, tuple[str, ...]] = {
    "stores.csv": ("code", "name", "city", "region", "is_online"),
    "products.csv": ("sku", "name", "category", "product_type", "description", "cost", "price"),
    "customers.csv": ("code", "store_code", "first_name", "last_name", "email", "created_at"),
    "orders.csv": ("code", "store_code", "customer_code", "ordered_at", "status"),
    "order_items.csv": ("order_code", "sku", "quantity", "unit_price", "discount"),
    "inventory.csv": ("store_code", "sku", "quantity", "reorder_point"),
}
STATUSES = ("completed", "pending", "cancelled", "returned")
TRUE, FALSE = ("true", "t", "yes", "y", "1"), ("false", "f", "no", "n", "0")
_MONEY = re.compile(r"\d{1,10}(\.\d{1,2})?")
_CODE = re.compile(r"[^\s,\x00-\x1f\x7f]{1,64}")
# ISO 8601 as PostgreSQL reads it too: date, optional time, optional zone (none = UTC)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?"
                        r"(Z|[+-]\d{2}(:?\d{2})?)?")

# COPY target columns per table (ids and derived values first; timestamps default to now())
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "retail.regions": ("region_id", "name"),
    "retail.stores": ("store_id", "code", "name", "city", "is_online", "region_id"),
    "retail.categories": ("category_id", "name"),
    "retail.product_types": ("type_id", "category_id", "name"),
    "retail.products": ("product_id", "sku", "name", "description", "category_id", "type_id",
                        "cost", "base_price"),
    "retail.customers": ("store_id", "customer_id", "first_name", "last_name", "email",
                         "created_at", "updated_at"),
    "retail.orders": ("store_id", "order_id", "customer_id", "order_date", "status",
                      "total_amount", "created_at", "updated_at"),
    "retail.order_items": ("store_id", "order_id", "product_id", "quantity", "unit_price",
                           "discount_amount", "total_amount"),
    "retail.inventory": ("store_id", "product_id", "stock_level", "reorder_point"),
}


def derived_id(kind: str, code: str) -> str:
    """A UUID-shaped id from a kind and a code (BLAKE2b of both): the same files give the same
    ids, at a fraction of uuid5's cost (a million order lines bring ~400k orders)."""
    h = hashlib.blake2b(f"{kind}:{code}".encode(), digest_size=16, key=NAMESPACE).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class Existing:
    """What the database holds that the files may refer to and must not repeat (empty when
    replacing: it all goes), and the ids to keep for codes and SKUs that come back."""

    store_ids: Mapping[str, str] = field(default_factory=dict)      # code -> store_id
    product_ids: Mapping[str, str] = field(default_factory=dict)    # sku -> product_id
    region_ids: Mapping[str, str] = field(default_factory=dict)     # name -> region_id
    category_ids: Mapping[str, str] = field(default_factory=dict)   # name -> category_id
    type_ids: Mapping[tuple[str, str], str] = field(default_factory=dict)
    store_names: frozenset[str] = frozenset()
    kept_store_ids: Mapping[str, str] = field(default_factory=dict)
    kept_product_ids: Mapping[str, str] = field(default_factory=dict)


class Problems:
    """The first MAX_REPORTED problems, word for word, and how many there were."""

    def __init__(self) -> None:
        self.first: list[str] = []
        self.count = 0

    def add(self, file: str, line: int, column: str, text: str) -> None:
        self.count += 1
        if len(self.first) < MAX_REPORTED:
            self.first.append(f"{file}:{line}: {column}: {text}")

    def report(self) -> str:
        more = self.count - len(self.first)
        return "\n".join(self.first + ([f"... and {more} more problems"] if more else []))


@dataclass(frozen=True)
class CopyTable:
    """One table's COPY data, in the shape the demo loader loads (`name`, `columns`,
    `estimated_rows`)."""

    name: str
    columns: tuple[str, ...]
    estimated_rows: int
    produce: Callable[[], Iterator[str]] = field(repr=False)


@dataclass
class FileSet:
    """Checked files, ready to stream. `counts` are the rows per file."""

    directory: Path
    existing: Existing
    counts: dict[str, int] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)          # name -> id (new ones)
    stores: dict[str, str] = field(default_factory=dict)           # code -> id (all known)
    store_of_customer: dict[str, str] = field(default_factory=dict)  # code -> store code
    customer_ids: dict[str, str] = field(default_factory=dict)     # code -> customer_id
    categories: dict[str, str] = field(default_factory=dict)       # new: name -> id
    types: dict[tuple[str, str], str] = field(default_factory=dict)  # new
    products: dict[str, str] = field(default_factory=dict)         # sku -> id (all known)
    new_products: int = 0
    order_store: dict[str, str] = field(default_factory=dict)      # code -> store code
    order_ids: dict[str, str] = field(default_factory=dict)        # code -> order_id
    order_total: dict[str, int] = field(default_factory=dict)      # code -> cents

    def stream(self) -> Iterator[tuple[CopyTable, Iterator[bytes]]]:
        for table in self.tables():
            yield table, (chunk.encode() for chunk in table.produce())

    def tables(self) -> list[CopyTable]:
        plan: list[tuple[str, Callable[[], Iterator[str]], int]] = [
            ("retail.regions", self._regions, len(self.regions)),
            ("retail.stores", self._stores, self.counts.get("stores.csv", 0)),
            ("retail.categories", self._categories, len(self.categories)),
            ("retail.product_types", self._types, len(self.types)),
            ("retail.products", self._products, self.counts.get("products.csv", 0)),
            ("retail.customers", self._customers, self.counts.get("customers.csv", 0)),
            ("retail.orders", self._orders, self.counts.get("orders.csv", 0)),
            ("retail.order_items", self._order_items, self.counts.get("order_items.csv", 0)),
            ("retail.inventory", self._inventory, self.counts.get("inventory.csv", 0)),
        ]
        return [CopyTable(name, TABLE_COLUMNS[name], rows, produce)
                for name, produce, rows in plan]

    def keys_in_loaded_stores(self, name: str) -> Iterator[tuple[int, str, str, str]]:
        """(line, what the row names, store id, row id) of each customers.csv, orders.csv or
        inventory.csv row of a store the database already holds: the rows whose key the
        database may hold too (a customer or order code imported before, the stock of a
        product it already has there). Read again from the file, as the first read keeps no
        line numbers; nothing to read when no store of the database is there (with
        --replace, or files of new stores only)."""
        stores_named = {"customers.csv": self.store_of_customer,
                        "orders.csv": self.order_store}.get(name)
        if stores_named is not None and self.existing.store_ids.keys().isdisjoint(
                stores_named.values()):
            return  # (the common case of a big file: the orders of new stores) not read again
        if not self.existing.store_ids or not (self.directory / name).exists():
            return
        with (self.directory / name).open(newline="", encoding="utf-8-sig") as f:
            rows = csv.reader(f)
            next(rows, None)
            for number, values in enumerate(rows, start=2):  # numbered as the check does
                key = self._loaded_store_key(name, values)
                if key is not None:
                    yield number, *key

    def _loaded_store_key(self, name: str, values: list[str]) -> tuple[str, str, str] | None:
        if len(values) < 2:
            return None
        first, second = values[0].strip(), values[1].strip()
        if name == "inventory.csv":  # store_code, sku: new products have no stock yet
            store, sku = first, second
            product = self.existing.product_ids.get(sku)
            found = None if product is None else (f"{sku!r} in store {store!r}", product)
        else:  # code, store_code
            store, code = second, first
            ids = self.customer_ids if name == "customers.csv" else self.order_ids
            found = (repr(code), ids[code]) if code in ids else None
        if found is None or store not in self.existing.store_ids:
            return None
        return found[0], self.existing.store_ids[store], found[1]

    # -- COPY text, from the second read of each file ------------------------------------
    def _rows(self, name: str) -> Iterator[list[str]]:
        path = self.directory / name
        if not path.exists():
            return
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = csv.reader(f)
            next(rows, None)
            yield from (row for row in rows if row)  # blank lines, skipped by the check too

    def _regions(self) -> Iterator[str]:
        yield "".join(copy_line((rid, name)) for name, rid in self.regions.items())

    def _stores(self) -> Iterator[str]:
        region_ids = {**self.existing.region_ids, **self.regions}
        yield "".join(
            copy_line((self.stores[r[0].strip()], r[0].strip(), r[1].strip(), r[2].strip(),
                       r[4].strip().lower() in TRUE, region_ids[r[3].strip()]))
            for r in self._rows("stores.csv"))

    def _categories(self) -> Iterator[str]:
        yield "".join(copy_line((cid, name)) for name, cid in self.categories.items())

    def _types(self) -> Iterator[str]:
        categories = {**self.existing.category_ids, **self.categories}
        yield "".join(copy_line((tid, categories[c], t)) for (c, t), tid in self.types.items())

    def _products(self) -> Iterator[str]:
        categories = {**self.existing.category_ids, **self.categories}
        types = {**self.existing.type_ids, **self.types}
        return chunked(
            copy_line((self.products[r[0].strip()], r[0].strip(), r[1].strip(), r[4],
                       categories[r[2].strip()], types[(r[2].strip(), r[3].strip())],
                       r[5].strip(), r[6].strip()))
            for r in self._rows("products.csv"))

    def _customers(self) -> Iterator[str]:
        return chunked(
            copy_line((self.stores[r[1].strip()], self.customer_ids[r[0].strip()],
                       r[2].strip(), r[3].strip(), r[4].strip(), r[5].strip(), r[5].strip()))
            for r in self._rows("customers.csv"))

    def _orders(self) -> Iterator[str]:
        # ids, numbers, checked timestamps and statuses: nothing COPY would need escaped
        stores, order_ids, totals = self.stores, self.order_ids, self.order_total
        customers = self.customer_ids

        def lines() -> Iterator[str]:
            for r in self._rows("orders.csv"):
                code, when = r[0].strip(), r[3].strip()
                yield (f"{stores[r[1].strip()]}\t{order_ids[code]}\t"
                       f"{customers[r[2].strip()]}\t{when}\t{r[4].strip().lower()}\t"
                       f"{money(totals.get(code, 0))}\t{when}\t{when}\n")
        return chunked(lines())

    def _order_items(self) -> Iterator[str]:
        stores, order_store, order_ids = self.stores, self.order_store, self.order_ids
        products = self.products

        def lines() -> Iterator[str]:
            for r in self._rows("order_items.csv"):
                code = r[0].strip()
                quantity = int(r[2])
                unit, discount = _cents(r[3]), _cents(r[4].strip() or "0")
                assert unit is not None  # checked in the first read
                assert discount is not None
                yield (f"{stores[order_store[code]]}\t{order_ids[code]}\t"
                       f"{products[r[1].strip()]}\t{quantity}\t{money(unit)}\t"
                       f"{money(discount)}\t{money(quantity * unit - discount)}\n")
        return chunked(lines())

    def _inventory(self) -> Iterator[str]:
        return chunked(
            copy_line((self.stores[r[0].strip()], self.products[r[1].strip()], int(r[2]),
                       int(r[3])))
            for r in self._rows("inventory.csv"))


def read_file_set(directory: Path, existing: Existing) -> tuple[FileSet, Problems]:
    """Check every row of every file present (at least one must be); nothing is loaded."""
    problems = Problems()
    files = FileSet(directory, existing, stores=dict(existing.store_ids),
                    products=dict(existing.product_ids))
    if not directory.is_dir():
        problems.add(str(directory), 0, "directory", "not a directory; accepted: a directory"
                     " holding " + ", ".join(FILES))
        return files, problems
    present = [name for name in FILES if (directory / name).exists()]
    if not present:
        problems.add(str(directory), 0, "files", "none of the expected files is there;"
                     " accepted: " + ", ".join(FILES))
        return files, problems
    checks = {
        "stores.csv": _check_store, "products.csv": _check_product,
        "customers.csv": _check_customer, "orders.csv": _check_order,
        "order_items.csv": _check_order_item, "inventory.csv": _check_inventory,
    }
    for name in present:
        files.counts[name] = _check_file(directory / name, name, checks[name], files, problems)
    return files, problems


Check = Callable[["Row", FileSet], None]


@dataclass
class Row:
    file: str
    line: int
    values: dict[str, str]
    problems: Problems
    seen: dict[str, set[object]]

    def __getitem__(self, column: str) -> str:
        return self.values[column].strip()

    def bad(self, column: str, text: str) -> None:
        self.problems.add(self.file, self.line, column, text)

    def unique(self, column: str, key: object, what: str) -> bool:
        seen = self.seen.setdefault(column, set())
        if key in seen:
            self.bad(column, f"{what} {key!r} appears twice in {self.file}; accepted: each once")
            return False
        seen.add(key)
        return True


def _check_file(path: Path, name: str, check: Check, files: FileSet, problems: Problems) -> int:
    expected = FILES[name]
    rows = 0
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = [h.strip() for h in next(reader, [])]
            if tuple(header) != expected:
                problems.add(name, 1, "header", f"columns are {','.join(header) or '(none)'};"
                             f" accepted: exactly {','.join(expected)}")
                return 0
            seen: dict[str, set[object]] = {}
            for number, values in enumerate(reader, start=2):
                if not values:
                    continue
                rows += 1
                if len(values) != len(expected):
                    problems.add(name, number, "row", f"{len(values)} values; accepted:"
                                 f" {len(expected)} ({','.join(expected)})")
                    continue
                check(Row(name, number, dict(zip(expected, values, strict=True)), problems,
                          seen), files)
    except UnicodeDecodeError as e:
        problems.add(name, rows + 2, "file", f"not UTF-8 ({e.reason}); accepted: UTF-8 text")
    except csv.Error as e:
        problems.add(name, rows + 2, "file", f"not CSV ({e}); accepted: comma-separated values"
                     " with a header row")
    return rows


def _check_store(row: Row, files: FileSet) -> None:
    code = row["code"]
    if not _CODE.fullmatch(code):
        row.bad("code", f"{code!r} is not a store code; accepted: 1-64 characters without"
                " spaces or commas")
        return
    if row.unique("code", code, "store code") and code in files.existing.store_ids:
        row.bad("code", f"store {code!r} is already in the database; accepted: a new code,"
                " or --replace to replace the data")
    name = row["name"]
    if not name:
        row.bad("name", "empty; accepted: the store's name")
    elif row.unique("name", name, "store name") and name in files.existing.store_names:
        row.bad("name", f"a store named {name!r} is already in the database; accepted: a"
                " new name, or --replace")
    for column in ("city", "region"):
        if not row[column]:
            row.bad(column, f"empty; accepted: the store's {column}")
    if row["is_online"].lower() not in TRUE + FALSE:
        row.bad("is_online", f"{row['is_online']!r} is not a truth value; accepted: true or"
                " false")
    region = row["region"]
    if region and region not in files.existing.region_ids and region not in files.regions:
        files.regions[region] = derived_id("region", region)
    files.stores[code] = files.existing.kept_store_ids.get(code) or derived_id("store", code)


def _check_product(row: Row, files: FileSet) -> None:
    sku = row["sku"]
    if not _CODE.fullmatch(sku):
        row.bad("sku", f"{sku!r} is not a SKU; accepted: 1-64 characters without spaces or"
                " commas")
        return
    if row.unique("sku", sku, "SKU") and sku in files.existing.product_ids:
        row.bad("sku", f"{sku!r} is already in the database; accepted: a new SKU, or"
                " --replace to replace the data")
    for column in ("name", "category", "product_type"):
        if not row[column]:
            row.bad(column, f"empty; accepted: the product's {column.replace('_', ' ')}")
    cost, price = _money_column(row, "cost"), _money_column(row, "price")
    if cost is not None and price is not None and price < cost:
        row.bad("price", f"{row['price']} is below the cost {row['cost']}; accepted: a price"
                " at or above the cost")
    category, kind = row["category"], row["product_type"]
    if category and category not in files.existing.category_ids:
        files.categories.setdefault(category, derived_id("category", category))
    if category and kind and (category, kind) not in files.existing.type_ids:
        files.types.setdefault((category, kind), derived_id("type", f"{category}/{kind}"))
    if sku not in files.existing.product_ids:
        files.new_products += 1
    files.products[sku] = (files.existing.kept_product_ids.get(sku)
                           or derived_id("product", sku))


def _check_customer(row: Row, files: FileSet) -> None:
    code = row["code"]
    if not _CODE.fullmatch(code):
        row.bad("code", f"{code!r} is not a customer code; accepted: 1-64 characters without"
                " spaces or commas")
        return
    row.unique("code", code, "customer code")
    store = _store_ref(row, files, "store_code")
    _timestamp_column(row, "created_at")
    files.store_of_customer[code] = store or ""
    files.customer_ids[code] = derived_id("customer", code)


def _check_order(row: Row, files: FileSet) -> None:
    code = row["code"]
    if not _CODE.fullmatch(code):
        row.bad("code", f"{code!r} is not an order code; accepted: 1-64 characters without"
                " spaces or commas")
        return
    row.unique("code", code, "order code")
    store = _store_ref(row, files, "store_code")
    customer = row["customer_code"]
    home = files.store_of_customer.get(customer)
    if home is None:
        row.bad("customer_code", f"{customer!r} is not in customers.csv; accepted: a code"
                " from customers.csv")
    elif store and home and home != store:
        row.bad("customer_code", f"customer {customer!r} belongs to store {home!r}, the"
                f" order to {store!r}; accepted: a customer of the order's store")
    _timestamp_column(row, "ordered_at")
    if row["status"].lower() not in STATUSES:
        row.bad("status", f"{row['status']!r}; accepted: {', '.join(STATUSES)}")
    files.order_store[code] = store or ""
    files.order_ids[code] = derived_id("order", code)


def _check_order_item(row: Row, files: FileSet) -> None:
    code = row["order_code"]
    store = files.order_store.get(code)
    if store is None:
        row.bad("order_code", f"{code!r} is not in orders.csv; accepted: a code from"
                " orders.csv (an item belongs to its order's store)")
    sku = row["sku"]
    if sku not in files.products:
        row.bad("sku", f"{sku!r} is neither in products.csv nor in the database; accepted:"
                " a known SKU")
    quantity = _count_column(row, "quantity", minimum=1)
    unit = _money_column(row, "unit_price")
    discount = _money_column(row, "discount", empty_is_zero=True)
    if quantity is None or unit is None or discount is None:
        return
    total = quantity * unit - discount
    if total < 0:
        row.bad("discount", f"{row['discount']} exceeds the line's {money(quantity * unit)};"
                " accepted: at most quantity x unit_price")
    elif store is not None:
        files.order_total[code] = files.order_total.get(code, 0) + total


def _check_inventory(row: Row, files: FileSet) -> None:
    store = _store_ref(row, files, "store_code")
    sku = row["sku"]
    if sku not in files.products:
        row.bad("sku", f"{sku!r} is neither in products.csv nor in the database; accepted:"
                " a known SKU")
    elif store:
        row.unique("store_code", (store, sku), "stock of")
    _count_column(row, "quantity", minimum=0)
    _count_column(row, "reorder_point", minimum=0)


def _store_ref(row: Row, files: FileSet, column: str) -> str | None:
    code = row[column]
    if code not in files.stores:
        row.bad(column, f"{code!r} is neither in stores.csv nor in the database; accepted:"
                " a known store code")
        return None
    return code


def _money_column(row: Row, column: str, *, empty_is_zero: bool = False) -> int | None:
    text = row[column] or ("0" if empty_is_zero else "")
    cents = _cents(text)
    if cents is None:
        row.bad(column, f"{row[column]!r} is not an amount; accepted: a number >= 0 with at"
                " most 2 decimals (e.g. 12.50)")
    return cents


def _count_column(row: Row, column: str, *, minimum: int) -> int | None:
    text = row[column]
    try:
        value = int(text)
    except ValueError:
        row.bad(column, f"{text!r} is not a whole number; accepted: a whole number >="
                f" {minimum}")
        return None
    if value < minimum:
        row.bad(column, f"{value} is {'negative' if value < 0 else 'too small'}; accepted: a"
                f" whole number >= {minimum}")
        return None
    return value


def _timestamp_column(row: Row, column: str) -> None:
    if not _TIMESTAMP.fullmatch(row[column]) or _parse_time(row[column]) is None:
        row.bad(column, f"{row[column]!r} is not a date-time; accepted: ISO 8601, e.g."
                " 2025-03-01T14:30:00Z (no zone means UTC)")


def _parse_time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _cents(text: str) -> int | None:
    text = text.strip()
    if not _MONEY.fullmatch(text):
        return None
    whole, _, fraction = text.partition(".")
    return int(whole) * 100 + int((fraction + "00")[:2])
