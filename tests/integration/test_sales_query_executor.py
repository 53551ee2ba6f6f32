"""The executor's own guarantees, independent of the SQL guard."""

from __future__ import annotations

import psycopg
import pytest

from adapters.demodata.reference import USERS
from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import make_query_pool
from adapters.postgres.sales_query import PsycopgSalesQueryExecutor
from adapters.postgres.startup_checks import QUERY_ROLE_TEMP_FILE_LIMIT
from domain.errors import AuthorizationError, DatabaseError, QueryTimeoutError, ValidationError
from domain.model import UserId
from ports.database_server import DatabaseEndpoints
from tests.support.temp_disk import SPILLING_SORT, lowered_temp_file_limit
from tests.support.unguarded import AcceptEverythingGuard

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

GUARD = AcceptEverythingGuard()
SEATTLE = UserId(USERS[0].user_id)
HEAD_OFFICE = UserId(USERS[-1].user_id)


async def run(executor: PsycopgSalesQueryExecutor, sql: str, max_rows: int = 100, user=SEATTLE):
    return await executor.run(user, GUARD.check(sql), max_rows)


async def test_row_cap_sets_truncated(executor: PsycopgSalesQueryExecutor) -> None:
    capped = await run(executor, "SELECT order_id FROM orders", max_rows=7)
    assert capped.row_count == 7
    assert capped.truncated
    exact = await run(executor, "SELECT * FROM generate_series(1, 7)", max_rows=7)
    assert exact.row_count == 7
    assert not exact.truncated


async def test_result_size_cap(gateway) -> None:
    small = PsycopgSalesQueryExecutor(gateway, max_result_bytes=2_000)
    result = await run(small, "SELECT description FROM products", max_rows=1000)
    assert result.truncated
    assert 0 < result.row_count < 50


async def test_statement_timeout(query_pool, signer) -> None:
    short = DatabaseGateway(query_pool, signer, statement_timeout_s=0.2)
    quick = PsycopgSalesQueryExecutor(short)
    with pytest.raises(QueryTimeoutError, match=r"0\.2 s limit"):
        await run(quick, "SELECT pg_sleep(5)")


async def test_stacked_statements_are_refused_by_the_protocol(
    executor: PsycopgSalesQueryExecutor,
) -> None:
    for sql in ("SELECT 1; DELETE FROM orders", "COMMIT; DROP SCHEMA retail CASCADE"):
        with pytest.raises(ValidationError):
            await run(executor, sql)


async def test_percent_signs_and_dollar_quotes_are_plain_sql(
    executor: PsycopgSalesQueryExecutor,
) -> None:
    result = await run(
        executor, "SELECT count(*) FROM products WHERE name LIKE '%a%' AND $$x%s$$ = 'x%s'"
    )
    assert result.rows[0][0] > 0


async def test_values_are_json_ready(executor: PsycopgSalesQueryExecutor) -> None:
    result = await run(
        executor,
        "SELECT store_id, order_date, total_amount, status, 1.5::float8, NULL,"
        " ARRAY[1,2], interval '1 hour' FROM orders LIMIT 1",
    )
    store_id, order_date, total, _status, flt, null, arr, hour = result.rows[0]
    assert store_id == str(USERS[0].store_ids[0])
    assert isinstance(order_date, str)
    assert order_date.endswith("+00:00")
    assert isinstance(total, float | str)
    assert (flt, null, arr, hour) == (1.5, None, [1, 2], 3600.0)
    assert result.columns[:4] == ("store_id", "order_date", "total_amount", "status")


async def test_errors_carry_no_internals(executor: PsycopgSalesQueryExecutor,
                                         database: DatabaseEndpoints) -> None:
    with pytest.raises(ValidationError) as info:
        await run(executor, "SELECT no_such_column FROM orders")
    message = info.value.message
    assert "no_such_column" in message
    assert "postgresql://" not in message
    assert "Traceback" not in message
    assert database.query_url not in message
    with pytest.raises(AuthorizationError):
        await run(executor, "SELECT * FROM access.app_users")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE orders SET status = 'cancelled'",
        "WITH gone AS (DELETE FROM orders RETURNING 1) SELECT count(*) FROM gone",
        "SELECT * FROM orders FOR UPDATE",
    ],
)
async def test_writes_never_run(
    executor: PsycopgSalesQueryExecutor, database: DatabaseEndpoints, sql: str
) -> None:
    census = "SELECT count(*), count(*) FILTER (WHERE status = 'cancelled') FROM retail.orders"
    with psycopg.connect(database.admin_url) as conn:
        before = conn.execute(census).fetchone()
    # a server-side cursor accepts only SELECT/VALUES, the transaction is read-only, and the
    # role has no write privilege: whichever refuses first, nothing changes
    with pytest.raises((AuthorizationError, ValidationError)):
        await run(executor, sql)
    with psycopg.connect(database.admin_url) as conn:
        assert conn.execute(census).fetchone() == before


@pytest.mark.parametrize("sql", [
    "SELECT no_such_column FROM orders",  # fails at planning
    "SELECT 1 / 0",  # fails at execution
    "SELECT 1 / (quantity - quantity) FROM order_items",
    "SELECT pg_sleep(5)",  # the statement timeout
    "SELECT 1; SELECT 2",  # refused by the protocol
])
async def test_a_users_bad_sql_logs_no_driver_warning(
    query_pool, signer, sql: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A user's SQL error is the user's answer, not a warning in the operator's log (psycopg
    logged "error ignored terminating AsyncPipeline" when the error left the pipeline block)."""
    short = PsycopgSalesQueryExecutor(
        DatabaseGateway(query_pool, signer, statement_timeout_s=0.3))
    with caplog.at_level("WARNING"), pytest.raises((ValidationError, QueryTimeoutError)):
        await run(short, sql)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("psycopg")] == []


async def test_values_and_names_are_untouched_by_the_in_database_size_cap(
    executor: PsycopgSalesQueryExecutor,
) -> None:
    """The query runs inside bounded_sql's wrapper: same columns (duplicates and all), same
    types, same order."""
    result = await run(executor, (
        "SELECT 1.25::numeric AS n, 1 AS n, DATE '2026-06-30' AS d, interval '90 minutes' AS i,"
        " ARRAY[1, 2] AS a, '{\"k\": [1, null]}'::jsonb AS j, '[1,2,3]'::vector AS v,"
        " true AS b, NULL::text AS z, 'it''s (a) test' AS s"))
    assert result.columns == ("n", "n", "d", "i", "a", "j", "v", "b", "z", "s")
    assert result.rows == ((1.25, 1, "2026-06-30", 5400.0, [1, 2], {"k": [1, None]},
                            "[1,2,3]", True, None, "it's (a) test"),)
    assert not result.truncated
    assert result.truncated_reason is None
    ordered = await run(executor, "WITH g AS (SELECT x FROM generate_series(1, 9) AS x)"
                                  " SELECT x FROM g ORDER BY x DESC LIMIT 4")
    assert ordered.rows == ((9,), (8,), (7,), (6,))
    union = await run(executor, "VALUES (2), (1) UNION ALL SELECT 3")
    assert union.rows == ((2,), (1,), (3,))
    no_columns = await run(executor, "SELECT FROM generate_series(1, 3)")
    assert no_columns.columns == ()
    assert no_columns.rows == ((), (), ())


async def test_columns_named_like_the_wrappers_own_names_are_plain_columns(
    executor: PsycopgSalesQueryExecutor,
) -> None:
    """The size-capping wrapper's aliases (q, b, s, w, v, small, z) are also column names a
    model may pick; a column called q used to break the single node's wrapper."""
    names = ("q", "b", "s", "w", "v", "small", "z", "q0")
    result = await run(executor, "SELECT " + ", ".join(
        f"{i} AS {name}" for i, name in enumerate(names)))
    assert result.columns == names
    assert result.rows == (tuple(range(len(names))),)


# every name either wrapper gives a relation, a column or a row field, and the names of the
# wrappers' own leading columns
WRAPPER_NAMES = ("zava_q", "zava_row", "zava_bytes", "zava_row_bytes", "zava_b", "zava_v",
                 "q0", "small", "b", "s", "w", "v", "q", "f1", "f2")


@pytest.mark.parametrize("name", WRAPPER_NAMES)
async def test_a_column_named_like_any_wrapper_name_is_a_plain_column(
    executor: PsycopgSalesQueryExecutor, name: str,
) -> None:
    """Whatever a column is called, the wrappers measure the whole row and read their own
    running total: a column called zava_q made the single node's wrapper measure that column
    ("type integer is not composite"), one called zava_bytes made Citus's total ambiguous."""
    alone = await run(executor, f"SELECT 1 AS {name}")
    assert (alone.columns, alone.rows) == ((name,), ((1,),))
    first = await run(executor, f"SELECT 'x' AS {name}, 2 AS other, 3 AS {name}")
    assert (first.columns, first.rows) == ((name, "other", name), (("x", 2, 3),))


async def test_table_rows_under_the_wrappers_names_are_the_rows_under_plain_names(
    executor: PsycopgSalesQueryExecutor,
) -> None:
    """All the wrappers' names at once, over a table: the same rows, values and order as the
    same query with neutral names."""
    picked = ("order_id", "store_id", "order_date", "order_id::text", "store_id::text",
              "order_date + interval '1 day'", "order_id", "store_id", "order_date", "order_id",
              "store_id", "order_date", "order_id", "store_id", "order_date")
    query = ("SELECT " + ", ".join(f"{expr} AS {{}}" for expr in picked)
             + " FROM orders ORDER BY order_date DESC, order_id LIMIT 5")
    neutral = tuple(f"c{i}" for i in range(len(WRAPPER_NAMES)))
    plain = await run(executor, query.format(*neutral))
    named = await run(executor, query.format(*WRAPPER_NAMES))
    assert plain.row_count == 5
    assert named.columns == WRAPPER_NAMES
    assert named.rows == plain.rows


async def test_the_size_cap_holds_whatever_the_columns_are_called(gateway) -> None:
    """test_rows_past_the_size_cap_never_leave_the_database with columns named like the
    wrappers' whole row and running total."""
    small = PsycopgSalesQueryExecutor(gateway, max_result_bytes=10_000)
    # 5 MB rows past the cap, as in the test below
    result = await run(small, "SELECT g AS zava_bytes, repeat('x', CASE WHEN g < 4 THEN 4000"
                              " ELSE 5000000 END) AS zava_q, g AS zava_row FROM"
                              " generate_series(1, 6) AS g", max_rows=100)
    assert result.columns == ("zava_bytes", "zava_q", "zava_row")
    assert [(row[0], len(row[1]), row[2]) for row in result.rows] == [(1, 4000, 1), (2, 4000, 2)]
    assert result.truncated_reason is not None
    assert result.truncated_reason.startswith(
        "max_result_bytes: the result passes the 10,000-byte limit after 2 rows")


async def test_rows_past_the_size_cap_never_leave_the_database(gateway) -> None:
    """Each row is ~4 KB: two fit in 10 KB, the third would pass it. The database withholds it
    and every row after it (their values arrive as NULL), so even a 50 MB row is never sent."""
    small = PsycopgSalesQueryExecutor(gateway, max_result_bytes=10_000)
    # the rows past the cap are 5 MB each, 500 times the cap: three rows of 50 MB took the Citus
    # cluster past the gateway's 5 s statement timeout on a slow machine; the single row below
    # keeps its 50 MB
    result = await run(small, "SELECT g, repeat('x', CASE WHEN g < 4 THEN 4000 ELSE 5000000 END)"
                              " AS t FROM generate_series(1, 6) AS g", max_rows=100)
    assert [row[0] for row in result.rows] == [1, 2]
    assert result.truncated
    assert result.truncated_reason == (
        "max_result_bytes: the result passes the 10,000-byte limit after 2 rows; select fewer"
        " or narrower columns (left(text, 200) for long text), aggregate, or filter")
    alone = await run(small, "SELECT repeat('y', 50000000) AS t")
    assert alone.rows == ()
    assert alone.truncated
    assert alone.truncated_reason is not None
    assert "after 0 rows" in alone.truncated_reason


async def test_the_row_cap_says_so(executor: PsycopgSalesQueryExecutor) -> None:
    capped = await run(executor, "SELECT x FROM generate_series(1, 10) AS x", max_rows=3)
    assert capped.rows == ((1,), (2,), (3,))
    assert capped.truncated_reason == (
        "max_rows: the query returns more than max_rows=3 rows; these are the first. Aggregate,"
        " filter, or add ORDER BY ... LIMIT to get the rows that matter")


async def test_the_query_role_has_a_temp_file_limit_it_cannot_lift(
    executor: PsycopgSalesQueryExecutor,
) -> None:
    result = await run(executor, "SELECT current_setting('temp_file_limit')")
    assert result.rows == ((QUERY_ROLE_TEMP_FILE_LIMIT,),)
    with pytest.raises(AuthorizationError, match="temp_file_limit"):
        await run(executor, "SELECT set_config('temp_file_limit', '-1', true)")


async def test_a_query_beyond_the_temp_file_limit_is_told_to_narrow(
    database: DatabaseEndpoints, signer,
) -> None:
    with lowered_temp_file_limit(database.admin_url):
        pool = make_query_pool(database.query_url, min_size=1, max_size=1)  # new connections
        await pool.open(wait=True)
        try:
            executor = PsycopgSalesQueryExecutor(DatabaseGateway(pool, signer))
            with pytest.raises(DatabaseError) as raised:
                await run(executor, SPILLING_SORT)
        finally:
            await pool.close()
    error = raised.value
    assert type(error) is DatabaseError  # not SERVICE_UNAVAILABLE: a retry fails the same way
    assert error.message.startswith("the query needs more temporary disk than one query may use")
    assert "aggregate, or add LIMIT" in error.message
