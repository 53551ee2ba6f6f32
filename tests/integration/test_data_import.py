"""`db import` without --replace into a database that already holds rows of the same codes
(or stock of the same product in the same store): each is a problem of its file and line,
and nothing is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.postgres import provisioning
from adapters.postgres.data_import import ImportRefused, import_directory
from ports.database_server import DatabaseEndpoints
from tests.support.db_state import database_state

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cascade-hardware"
CUSTOMERS = "code,store_code,first_name,last_name,email,created_at\n"
ORDERS = "code,store_code,customer_code,ordered_at,status\n"
ITEMS = "order_code,sku,quantity,unit_price,discount\n"


def test_codes_already_in_the_database_are_problems_of_their_file_and_line(
    scratch: DatabaseEndpoints, tmp_path: Path,
) -> None:
    provisioning.initialise(scratch, None)
    import_directory(scratch.admin_url, EXAMPLE, replace=False)
    more = tmp_path / "more"
    more.mkdir()
    # the next month's files of the same chain, which repeat two customers and an order
    (more / "customers.csv").write_text(
        CUSTOMERS + "C9001,PDX,Cy,New,cy.new@example.com,2026-07-01T10:00:00Z\n"
        "C0001,PDX,Ava,Ng,ava.ng0@example.com,2025-01-01T10:00:00Z\n"
        "C0002,SLM,Ben,Olsen,ben.olsen1@example.com,2025-02-02T10:00:00Z\n")
    (more / "orders.csv").write_text(
        ORDERS + "O00001,PDX,C0001,2026-01-01T17:47:00Z,completed\n"
        "O90001,PDX,C9001,2026-07-02T09:00:00Z,completed\n")
    (more / "order_items.csv").write_text(
        ITEMS + "O00001,CH-HAM-01,1,19.99,2.00\nO90001,CH-HAM-01,2,19.99,0\n")
    (more / "inventory.csv").write_text(
        "store_code,sku,quantity,reorder_point\nPDX,CH-HAM-01,20,10\n")
    before = database_state(scratch.admin_url)

    with pytest.raises(ImportRefused) as refused:
        import_directory(scratch.admin_url, more, replace=False)

    assert refused.value.problems.first == [
        "customers.csv:3: code: customer 'C0001' is already in the database; accepted: a new"
        " code, or --replace to replace the data",
        "customers.csv:4: code: customer 'C0002' is already in the database; accepted: a new"
        " code, or --replace to replace the data",
        "orders.csv:2: code: order 'O00001' is already in the database; accepted: a new code,"
        " or --replace to replace the data",
        "inventory.csv:2: sku: stock of 'CH-HAM-01' in store 'PDX' is already in the database;"
        " accepted: a store and product without stock yet, or --replace to replace the data",
    ]
    assert refused.value.message == "4 problem(s) in the files; nothing was loaded"
    assert database_state(scratch.admin_url) == before
    # the new codes alone load
    (more / "inventory.csv").unlink()
    for name, header in (("customers.csv", CUSTOMERS), ("orders.csv", ORDERS),
                         ("order_items.csv", ITEMS)):
        lines = (more / name).read_text().splitlines(keepends=True)
        (more / name).write_text(header + "".join(x for x in lines[1:] if "9001" in x))
    report = import_directory(scratch.admin_url, more, replace=False)
    assert report.rows["retail.orders"] == 1
