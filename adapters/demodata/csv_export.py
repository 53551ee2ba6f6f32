"""The demo chain as the six CSV files `zava-mcp db import` reads (README "Your own data").

Used to prove the import against data whose answers are known (the analytics contract suite
runs on an imported copy of the demo) and to make large file sets for bench/import.py.
Customer and order codes are the demo's UUIDs; `max_order_lines` cuts the orders off once
that many lines were written (whole orders only).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from adapters.csvimport.files import FILES
from adapters.demodata.generator import DemoDataset

# the column lists the import reads: one definition of the file format
HEADERS = FILES


def export_csv(dataset: DemoDataset, directory: Path, max_order_lines: int | None = None
               ) -> dict[str, int]:
    """Write the six files into `directory`; returns the rows written per file."""
    directory.mkdir(parents=True, exist_ok=True)
    regions = {r[0]: r[1] for r in dataset.table("retail.regions").rows()}
    stores = {r[0]: r for r in dataset.table("retail.stores").rows()}
    codes = {sid: str(r[1]) for sid, r in stores.items()}
    categories = {r[0]: r[1] for r in dataset.table("retail.categories").rows()}
    types = {r[0]: r[2] for r in dataset.table("retail.product_types").rows()}
    products = list(dataset.table("retail.products").rows())
    skus = {p[0]: p[1] for p in products}

    orders: dict[str, tuple[str, ...]] = {}
    lines: list[tuple[object, ...]] = []
    for c in _columns(dataset, "retail.order_items"):
        if max_order_lines is not None and len(lines) >= max_order_lines and c[2] not in orders:
            break
        orders.setdefault(c[2], ())
        lines.append((c[2], skus[c[3]], c[4], c[5], c[6]))
    counts = {
        "stores.csv": _write(directory, "stores.csv", (
            (r[1], r[2], r[3], regions[r[5]], "true" if r[4] == "t" else "false")
            for r in stores.values())),
        "products.csv": _write(directory, "products.csv", (
            (p[1], p[2], categories[p[4]], types[p[5]], p[3], p[6], p[7]) for p in products)),
    }
    wanted_customers: set[str] = set()
    order_rows = []
    for c in _columns(dataset, "retail.orders"):
        if c[1] in orders:
            wanted_customers.add(c[2])
            order_rows.append((c[1], codes[c[0]], c[2], _iso(c[3]), c[4]))
    counts["customers.csv"] = _write(directory, "customers.csv", (
        (c[1], codes[c[0]], c[2], c[3], c[4], _iso(c[5]))
        for c in _columns(dataset, "retail.customers") if c[1] in wanted_customers))
    counts["orders.csv"] = _write(directory, "orders.csv", order_rows)
    counts["order_items.csv"] = _write(directory, "order_items.csv", lines)
    counts["inventory.csv"] = _write(directory, "inventory.csv", (
        (codes[c[0]], skus[c[1]], c[2], c[3]) for c in _columns(dataset, "retail.inventory")))
    return counts


def _columns(dataset: DemoDataset, table: str) -> Iterator[list[str]]:
    for chunk in dataset.table(table).chunks():
        for line in chunk.splitlines():
            yield line.split("\t")


def _iso(copy_timestamp: str) -> str:
    # COPY text "2026-06-29 13:45:12+00" -> ISO 8601 "2026-06-29T13:45:12+00:00"
    day, _, rest = copy_timestamp.partition(" ")
    return f"{day}T{rest}:00" if rest.endswith("+00") else f"{day}T{rest}"


def _write(directory: Path, name: str, rows: object) -> int:
    count = 0
    with (directory / name).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADERS[name])
        for row in rows:  # type: ignore[attr-defined]
            writer.writerow(row)
            count += 1
    return count
