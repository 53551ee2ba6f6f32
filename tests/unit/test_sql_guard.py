"""The SQL guard for execute_sales_query (no database): what it accepts, what it refuses and why.

The attack corpus lives in tests/data/attack_corpus.py so integration tests can replay the same
SQL against PostgreSQL with the guard switched off.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pglast
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.sqlguard import (
    ALLOWED_FUNCTIONS,
    EXPOSED_RETAIL_RELATIONS,
    PglastSqlGuard,
    pglast_guard,
)
from domain.errors import ConfigurationError, ValidationError
from ports.sql_guard import GuardedQuery, SqlGuard
from tests.data.attack_corpus import (
    ATTACKS,
    BENIGN_QUERIES,
    CATALOG,
    CONTEXT,
    DANGEROUS_FUNCTION,
    EXPLAIN,
    FILTER_EVASION,
    GUARD_ACCEPTED_ABUSE,
    LOCKING,
    RESOURCE,
    SELECT_INTO,
    STACKED,
    WRITABLE_CTE,
    WRITES,
    AttackCase,
)


@pytest.fixture(scope="module")
def guard() -> PglastSqlGuard:
    return PglastSqlGuard()


def _rejection(guard: PglastSqlGuard, sql: str) -> str:
    with pytest.raises(ValidationError) as caught:
        guard.check(sql)
    assert caught.value.code == "VALIDATION_ERROR"
    return caught.value.message


def _literal_values(sql: str) -> list[str]:
    """The text of every string/number literal libpg_query sees in `sql`."""
    literal_tokens = {"SCONST", "USCONST", "BCONST", "XCONST", "ICONST", "FCONST"}
    return [
        sql[token.start : token.end + 1]
        for token in pglast.parser.scan(sql)
        if token.name in literal_tokens
    ]


# --------------------------------------------------------------------------- accepted
def test_the_adapter_satisfies_the_port() -> None:
    guard: SqlGuard = PglastSqlGuard()
    assert isinstance(guard.check("SELECT 1"), GuardedQuery)


@pytest.mark.parametrize("sql", BENIGN_QUERIES, ids=lambda sql: " ".join(sql.split())[:50])
def test_realistic_analytics_are_accepted(guard: PglastSqlGuard, sql: str) -> None:
    result = guard.check(sql)

    assert result.sql == result.sql.strip()
    assert not result.sql.endswith(";")
    assert "--" not in result.sql  # comments are blanked
    assert "/*" not in result.sql
    assert result.relations <= {f"retail.{name}" for name in EXPOSED_RETAIL_RELATIONS}


@pytest.mark.parametrize("sql", BENIGN_QUERIES, ids=lambda sql: " ".join(sql.split())[:50])
def test_fingerprints_carry_no_literal_values(guard: PglastSqlGuard, sql: str) -> None:
    fingerprint = guard.check(sql).fingerprint

    for literal in _literal_values(sql):
        if len(literal) > 1:  # single digits also occur as "$1"
            assert literal not in fingerprint
    assert "--" not in fingerprint
    assert "/*" not in fingerprint


@pytest.mark.parametrize("case", GUARD_ACCEPTED_ABUSE, ids=lambda case: case.name)
def test_abuse_left_to_the_database_layers_is_accepted(guard: PglastSqlGuard, case: Any) -> None:
    """Documented decisions: ordinary SELECT syntax whose cost or reach only the database can
    bound (statement_timeout, row/byte caps, RLS)."""
    guard.check(case.sql)


def test_relations_are_reported_schema_qualified(guard: PglastSqlGuard) -> None:
    result = guard.check(
        "WITH totals AS (SELECT store_id, sum(total_amount) AS t FROM orders GROUP BY 1)"
        " SELECT s.name, totals.t FROM retail.stores s JOIN totals USING (store_id)"
        " WHERE EXISTS (SELECT 1 FROM retail.inventory i WHERE i.store_id = s.store_id)"
    )
    assert result.relations == {"retail.orders", "retail.stores", "retail.inventory"}


def test_statement_text_is_kept_with_comments_blanked(guard: PglastSqlGuard) -> None:
    result = guard.check(
        "  /* report */ SELECT name -- the store\nFROM retail.stores WHERE city = 'Kent';  -- x\n"
    )
    assert result.sql == "SELECT name  \nFROM retail.stores WHERE city = 'Kent'"
    assert result.fingerprint == "SELECT name FROM retail.stores WHERE city = $1"


def test_comment_markers_inside_literals_are_text_not_comments(guard: PglastSqlGuard) -> None:
    result = guard.check("SELECT '--not a comment', $$/* nor this */$$ FROM retail.stores")
    assert result.sql == "SELECT '--not a comment', $$/* nor this */$$ FROM retail.stores"
    assert result.fingerprint == "SELECT $1, $2 FROM retail.stores"


def test_fingerprint_is_the_same_for_different_literals(guard: PglastSqlGuard) -> None:
    first = guard.check("SELECT * FROM retail.orders WHERE status = 'completed' LIMIT 5")
    second = guard.check("SELECT * FROM retail.orders WHERE status = 'returned' LIMIT 50")
    assert first.fingerprint == second.fingerprint
    assert first.sql != second.sql


def test_every_literal_form_is_replaced_in_the_fingerprint(guard: PglastSqlGuard) -> None:
    result = guard.check(
        "SELECT 'secret', E'tab\\t', $tag$dollar secret$tag$, U&'d\\0061ta', B'1010', X'FF',"
        " 42, 3.14, 1e9, interval '7 days', DATE '2025-01-01' FROM retail.customers"
        " WHERE email = 'alice@example.com'"
    )
    for secret in ("secret", "tab", "dollar", "d\\0061ta", "1010", "FF", "42", "3.14", "1e9",
                   "7 days", "2025", "alice"):  # fmt: skip
        assert secret not in result.fingerprint
    assert result.fingerprint.count("$") == 12


def test_non_ascii_text_keeps_positions_right(guard: PglastSqlGuard) -> None:
    result = guard.check("/* çà */ SELECT 'Zürich' AS \"ville\", name FROM stores -- ü\n;")
    assert result.sql == "SELECT 'Zürich' AS \"ville\", name FROM stores"
    assert result.fingerprint == 'SELECT $1 AS "ville", name FROM stores'
    assert result.relations == {"retail.stores"}


def test_every_allowed_function_is_accepted(guard: PglastSqlGuard) -> None:
    # Quoted, so SQL keywords among the names (position, overlay, ...) parse as plain calls.
    for name in sorted(ALLOWED_FUNCTIONS):
        guard.check(f'SELECT "{name}"(1), pg_catalog."{name}"(1)')


def test_recursive_ctes_see_each_other(guard: PglastSqlGuard) -> None:
    guard.check("WITH RECURSIVE a AS (SELECT * FROM b), b AS (SELECT 1 AS n) SELECT * FROM a")


def test_cte_names_shadow_tables_only_where_postgres_would(guard: PglastSqlGuard) -> None:
    guard.check("WITH pg_roles AS (SELECT 1 AS x) SELECT * FROM pg_roles")
    # Without RECURSIVE a CTE's body does not see its own name: this reads the real catalog.
    message = _rejection(guard, "WITH pg_roles AS (SELECT * FROM pg_roles) SELECT * FROM pg_roles")
    assert "relation pg_roles is not available" in message
    result = guard.check("WITH orders AS (SELECT * FROM orders) SELECT * FROM orders")
    assert result.relations == {"retail.orders"}
    # A CTE defined inside a subquery is not visible outside it.
    message = _rejection(
        guard, "SELECT * FROM (WITH secret AS (SELECT 1) SELECT * FROM secret) s, secret"
    )
    assert "relation secret is not available" in message
    # A WITH attached to one UNION branch is not visible in the other branch.
    message = _rejection(guard, "(WITH a AS (SELECT 1) SELECT * FROM a) UNION ALL SELECT * FROM a")
    assert "relation a is not available" in message
    # Qualified names are tables, never CTEs.
    message = _rejection(guard, "WITH secret AS (SELECT 1) SELECT * FROM retail.secret")
    assert "relation retail.secret" in message


def test_allowed_relations_can_be_narrowed() -> None:
    guard = PglastSqlGuard({"stores": "Zava stores", "regions": "Regions"}, max_length=500)
    assert guard.check("SELECT * FROM stores JOIN regions USING (region_id)").relations == {
        "retail.stores",
        "retail.regions",
    }
    message = _rejection(guard, "SELECT * FROM retail.orders")
    assert "relation retail.orders is not available" in message
    assert "retail.regions, retail.stores" in message


def test_constructor_accepts_retail_qualified_names() -> None:
    assert PglastSqlGuard(["retail.orders"]).allowed_relations == {"orders"}
    assert PglastSqlGuard("stores").allowed_relations == {"stores"}


@pytest.mark.parametrize("relations", [["access.app_users"], ["a.b.c"], []])
def test_constructor_refuses_other_schemas_and_empty_lists(relations: list[str]) -> None:
    with pytest.raises(ConfigurationError):
        PglastSqlGuard(relations)


# --------------------------------------------------------------------------- rejected corpus
def test_attack_corpus_is_broad() -> None:
    assert len(ATTACKS) >= 80
    assert len({case.name for case in ATTACKS}) == len(ATTACKS)
    classes = Counter(case.attack_class for case in ATTACKS)
    for attack_class in (STACKED, CONTEXT, FILTER_EVASION, WRITABLE_CTE, DANGEROUS_FUNCTION,
                         EXPLAIN, CATALOG, RESOURCE, WRITES, LOCKING, SELECT_INTO):  # fmt: skip
        assert classes[attack_class] >= 3, attack_class


@pytest.mark.parametrize("case", ATTACKS, ids=lambda case: case.name)
def test_attacks_are_rejected_naming_the_construct(guard: PglastSqlGuard, case: AttackCase) -> None:
    message = _rejection(guard, case.sql)
    assert case.expected_reject_fragment.lower() in message.lower(), message


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("-- just a comment\n/* and another */", "only comments"),
        (";", "no statement"),
        ("SELECT FROM WHERE", "SQL syntax error"),
        ("SELECT 1 FROM retail.orders WHERE status = 'open", "unterminated quoted string"),
        ("SELECT 1 /* never closed", "unterminated /* comment"),
    ],
)
def test_empty_and_malformed_input(guard: PglastSqlGuard, sql: str, fragment: str) -> None:
    assert fragment in _rejection(guard, sql)


def test_syntax_errors_point_at_line_and_column(guard: PglastSqlGuard) -> None:
    message = _rejection(guard, "SELECT name\nFROM retail.stores\nWHER city = 'Kent'")
    assert 'syntax error at or near "city"' in message
    assert "(line 3, column 6)" in message


def test_over_long_queries_are_rejected_before_parsing() -> None:
    guard = PglastSqlGuard(max_length=100)
    message = _rejection(guard, "SELECT 1 AS " + "x" * 200)
    assert "limit is 100" in message


def test_non_text_is_rejected(guard: PglastSqlGuard) -> None:
    with pytest.raises(ValidationError):
        guard.check(b"SELECT 1")  # type: ignore[arg-type]


def test_deep_nesting_is_a_validation_error_not_a_crash(guard: PglastSqlGuard) -> None:
    guard.check("SELECT " + " + ".join(["total_amount"] * 100) + " FROM retail.orders")
    message = _rejection(guard, "SELECT " + "+".join(["1"] * 5000))
    assert "nested too deeply" in message


def test_several_problems_are_reported_in_text_order(guard: PglastSqlGuard) -> None:
    message = _rejection(
        guard, "SELECT pg_sleep(1), version() FROM pg_roles WHERE set_config('a', 'b', true)"
    )
    assert message.index("pg_sleep") < message.index("version") < message.index("pg_roles")
    assert message.index("pg_roles") < message.index("set_config")


def test_the_table_list_is_given_once(guard: PglastSqlGuard) -> None:
    message = _rejection(guard, "SELECT * FROM pg_roles, pg_authid, information_schema.tables")
    assert message.count("tables you can query:") == 1
    assert message.endswith("retail.regions, retail.stores")


def test_problem_list_is_capped(guard: PglastSqlGuard) -> None:
    calls = ", ".join(f"f{i}()" for i in range(12))
    message = _rejection(guard, f"SELECT {calls}")
    assert "(and 7 more)" in message


def test_quoted_names_are_case_sensitive(guard: PglastSqlGuard) -> None:
    # "COUNT" is a different function from count to PostgreSQL; do not fold it.
    assert "function COUNT is not allowed" in _rejection(guard, 'SELECT "COUNT"(*) FROM stores')


def test_schema_qualified_allowed_names_only_from_pg_catalog(guard: PglastSqlGuard) -> None:
    assert "function public.lower" in _rejection(guard, "SELECT public.lower('A')")
    assert "function retail.count" in _rejection(guard, "SELECT retail.count(*)")


# --------------------------------------------------------------------------- completeness
_NOT_VISITED_AS_NODES = {
    # value/name leaves the guard reads through their parent, and wrappers it unpacks inline
    "String", "Integer", "Float", "Boolean", "BitString", "Alias", "WithClause", "RawStmt",
}  # fmt: skip


def _ast_node_kinds(sql: str) -> Counter[str]:
    """Every node kind in pglast's full Python AST, walked independently of the guard."""
    kinds: Counter[str] = Counter()
    stack: list[Any] = list(pglast.parse_sql(sql))
    while stack:
        node = stack.pop()
        if isinstance(node, tuple):
            stack.extend(node)
        elif isinstance(node, pglast.ast.Node):
            kinds[type(node).__name__] += 1
            stack.extend(getattr(node, attribute) for attribute in node)
    return kinds - Counter({kind: 10**9 for kind in _NOT_VISITED_AS_NODES})


def _guard_node_kinds(guard: PglastSqlGuard, sql: str) -> Counter[str]:
    visited: Counter[str] = Counter()
    original = pglast_guard._Walk._visit

    def spy(walk: Any, kind: str, fields: dict[str, Any], scope: frozenset[str]) -> None:
        visited[kind] += 1
        original(walk, kind, fields, scope)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pglast_guard._Walk, "_visit", spy)
        guard.check(sql)
    return visited - Counter({kind: 10**9 for kind in _NOT_VISITED_AS_NODES})


@pytest.mark.parametrize("sql", BENIGN_QUERIES, ids=lambda sql: " ".join(sql.split())[:50])
def test_the_guard_visits_every_node_of_the_full_ast(sql: str) -> None:
    """The JSON walk must reach exactly the nodes pglast's object AST holds: nothing hidden."""
    assert _guard_node_kinds(PglastSqlGuard(remembered=0), sql) == _ast_node_kinds(sql)


def test_an_accepted_text_is_remembered_and_a_rejected_one_is_checked_again() -> None:
    guard = PglastSqlGuard(remembered=2)
    accepted = "SELECT name FROM retail.stores"
    first = guard.check(accepted)
    assert not _guard_node_kinds(guard, accepted)  # the same text: no second walk
    assert guard.check(accepted) is first
    assert _guard_node_kinds(guard, accepted + " ")  # another text is walked
    for _ in range(2):  # a rejection is never remembered
        with pytest.raises(ValidationError, match="pg_read_file"):
            guard.check("SELECT pg_read_file('/etc/passwd')")
    with pytest.raises(ValidationError, match="must be SQL text"):
        guard.check(["SELECT 1"])  # type: ignore[arg-type]  # unhashable: refused, not cached


def test_remembering_can_be_turned_off() -> None:
    guard = PglastSqlGuard(remembered=0)
    accepted = "SELECT name FROM retail.stores"
    guard.check(accepted)
    assert _guard_node_kinds(guard, accepted)


# --------------------------------------------------------------------------- properties
HOLE = "<<HOLE>>"
SLOT = "<<SLOT>>"

_LEAVES = [
    "o.total_amount", "o.status", "s.name", "o.order_date", "1", "2.5", "'text'", "TRUE",
    "NULL", "CURRENT_DATE", "now()", "interval '1 day'", "E'it''s'", "$$dollar$$",
]  # fmt: skip

_FORMS = [
    "({0} + {1})", "({0} * {1})", "({0} = {1})", "({0} AND {1})", "(NOT {0})",
    "coalesce({0}, {1})", "nullif({0}, {1})", "greatest({0}, {1})", "least({0}, {1})",
    "lower({0})", "abs({0})", "round({0}, 2)", "length({0})", "date_trunc('month', {0})",
    "to_char({0}, 'YYYY')", "concat_ws('-', {0}, {1})", "jsonb_build_object('k', {0})",
    "CASE WHEN {0} THEN {1} ELSE {2} END", "CAST({0} AS text)", "({0})::numeric(12, 2)",
    "({0} IS NULL)", "({0} IN ({1}, {2}))", "({0} BETWEEN {1} AND {2})",
    "(SELECT max({0}) FROM retail.products AS p2)",
    "EXISTS (SELECT 1 FROM retail.stores AS s2 WHERE {0})",
    "({0} IN (SELECT {1} FROM retail.order_items AS oi2))",
    "(ARRAY[{0}, {1}])[1]", "sum({0}) OVER (PARTITION BY {1} ORDER BY {2})",
    "count(*) FILTER (WHERE {0})", "string_agg({0}, ',' ORDER BY {1})",
    "percentile_cont(0.5) WITHIN GROUP (ORDER BY {0})", "({0} LIKE 'a%')",
    "row_to_json(ROW({0}, {1}))", "extract(year FROM {0})", "substring({0} FROM 1 FOR 2)",
    "trim(BOTH ' ' FROM {0})", "position('a' IN {0})", "({0} AT TIME ZONE 'UTC')",
    "json_object('a': {0})", "make_interval(days => {0})",
]  # fmt: skip

_ALLOWED_PAYLOADS = [
    "abs(-1)", "lower('X')", "(SELECT count(*) FROM retail.orders)", "now()", "7",
    "pg_catalog.upper('y')", "(WITH w AS (SELECT 1 AS v) SELECT v FROM w)",
]  # fmt: skip

_DENIED_PAYLOADS = [
    ("pg_sleep(1)", "function pg_sleep"),
    ("pg_read_file('/etc/passwd')", "function pg_read_file"),
    ("set_config('zava.context', '" + "5ba86bc5-6c7d-4d93-9337-3175bdc44ad8" + "', true)",
     "function set_config"),
    ("pg_catalog.current_setting('zava.context')", "function pg_catalog.current_setting"),
    ("access.visible_store_ids()", "function access.visible_store_ids"),
    ('U&"pg_sl\\0065ep"(1)', "function pg_sleep"),
    ("(SELECT count(*) FROM pg_roles)", "relation pg_roles"),
    ("(SELECT query FROM pg_catalog.pg_stat_activity LIMIT 1)", "pg_catalog.pg_stat_activity"),
    ("'pg_authid'::regclass", "type regclass"),
    ("current_user", "CURRENT_USER"),
    ("(SELECT 1 FROM retail.orders FOR UPDATE)", "locking clause FOR UPDATE"),
    ("(SELECT max(x) FROM (VALUES (txid_current())) AS t(x))", "function txid_current"),
]  # fmt: skip


@st.composite
def _expressions(draw: st.DrawFn, depth: int, hole: bool) -> str:
    """An expression of allowed constructs; with `hole`, exactly one leaf is HOLE."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return HOLE if hole else draw(st.sampled_from(_LEAVES))
    form = draw(st.sampled_from(_FORMS))
    arity = len(set(re.findall(r"\{(\d)\}", form)))
    hole_at = draw(st.integers(0, arity - 1)) if hole else -1
    args = [draw(_expressions(depth - 1, position == hole_at)) for position in range(arity)]
    return form.format(*args)


@st.composite
def _query_templates(draw: st.DrawFn) -> str:
    """A SELECT over the retail tables with one HOLE somewhere in one of its expressions."""
    parts: list[str] = []
    with_cte = draw(st.booleans())
    if with_cte:
        parts.append(f"WITH c AS (SELECT {SLOT} AS x, o.store_id FROM retail.orders AS o"
                     f" WHERE {SLOT}) ")  # fmt: skip
    parts.append(f"SELECT {SLOT}")
    parts.extend(f", {SLOT}" for _ in range(draw(st.integers(0, 2))))
    parts.append(" FROM retail.orders AS o JOIN retail.stores AS s"
                 f" ON s.store_id = o.store_id AND {SLOT}")  # fmt: skip
    if with_cte:
        parts.append(" JOIN c ON c.store_id = o.store_id")
    if draw(st.booleans()):
        parts.append(f", generate_series(1, {SLOT}) AS g")
    if draw(st.booleans()):
        parts.append(f" CROSS JOIN LATERAL (SELECT {SLOT} AS y) AS l")
    if draw(st.booleans()):
        parts.append(f", (VALUES ({SLOT})) AS v(z)")
    if draw(st.booleans()):
        parts.append(f" WHERE {SLOT}")
    if draw(st.booleans()):
        parts.append(f" GROUP BY {SLOT}")
        if draw(st.booleans()):
            parts.append(f" HAVING {SLOT}")
    if draw(st.booleans()):
        parts.append(f" UNION ALL SELECT {SLOT} FROM retail.products AS p")
    if draw(st.booleans()):
        parts.append(f" ORDER BY {SLOT}")
    if draw(st.booleans()):
        parts.append(f" LIMIT ({SLOT})")
    template = "".join(parts)
    slots = template.count(SLOT)
    hole_slot = draw(st.integers(0, slots - 1))
    pieces = template.split(SLOT)
    out = [pieces[0]]
    for index, piece in enumerate(pieces[1:]):
        out.append(draw(_expressions(depth=3, hole=index == hole_slot)))
        out.append(piece)
    return "".join(out)


def _fill(template: str, payload: str) -> str:
    assert template.count(HOLE) == 1
    return template.replace(HOLE, payload)


_PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@_PROPERTY_SETTINGS
@given(template=_query_templates(), payload=st.sampled_from(_ALLOWED_PAYLOADS))
def test_compositions_of_allowed_constructs_are_accepted(template: str, payload: str) -> None:
    result = PglastSqlGuard().check(_fill(template, payload))
    assert {"retail.orders", "retail.stores"} <= result.relations


@_PROPERTY_SETTINGS
@given(template=_query_templates(), denied=st.sampled_from(_DENIED_PAYLOADS))
def test_a_denied_construct_anywhere_is_rejected(template: str, denied: tuple[str, str]) -> None:
    payload, fragment = denied
    with pytest.raises(ValidationError) as caught:
        PglastSqlGuard().check(_fill(template, payload))
    assert fragment in caught.value.message


@_PROPERTY_SETTINGS
@given(template=_query_templates(), payload=st.sampled_from(_ALLOWED_PAYLOADS))
def test_generated_queries_are_walked_completely(template: str, payload: str) -> None:
    sql = _fill(template, payload)
    guard = PglastSqlGuard()
    assert _guard_node_kinds(guard, sql) == _ast_node_kinds(sql)


@_PROPERTY_SETTINGS
@given(template=_query_templates(), payload=st.sampled_from(_ALLOWED_PAYLOADS))
def test_fingerprints_of_generated_queries_hide_literals(template: str, payload: str) -> None:
    sql = _fill(template, payload)
    fingerprint = PglastSqlGuard().check(sql).fingerprint
    for literal in _literal_values(sql):
        if not literal.isdigit():
            assert literal not in fingerprint


def test_every_statement_kind_has_a_readable_name() -> None:
    kinds = [name for name in dir(pglast.ast) if name.endswith("Stmt")]
    assert len(kinds) > 100
    for kind in kinds:
        name = pglast_guard._statement_name(kind, {})
        assert name, kind
        assert "Stmt" not in name, kind
        assert "_" not in name, kind
