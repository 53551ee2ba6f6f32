"""Product search in PostgreSQL: a pgvector index for meaning, tsvector for words.

Every search runs in the caller's own read-only RLS transaction, so the stock it reports and
the `in_stock_only` filter count only the caller's stores. Per transaction it sets the search
knobs of both index kinds (adapters/postgres/vector_index.py; the kind not in use ignores
its own): ivfflat.probes and hnsw.ef_search (recall against speed, measured in
bench/vector_search.py), and iterative_scan = relaxed_order (pgvector 0.8): when filters
reject the first candidates, the scan goes on instead of returning too few rows; the outer
query restores the exact order. On Citus the vector scan may run on a worker's placement of the
reference table, which set_config() never reaches: there the knobs are also SET LOCAL, which
Citus replays on every worker connection of the transaction (citus.propagate_set_commands).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from psycopg import sql

from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import AsyncConn, context_binding
from adapters.postgres.vector_index import (
    HNSW_EF_SEARCH,
    IVFFLAT_FILTERED_PROBES,
    IVFFLAT_PROBES,
)
from domain.errors import UnknownUserError
from domain.model import ProductCandidate, SearchFilters, UserId
from ports.product_search import CandidateQuery, Candidates, ProductSearchRepository

_PREPARE_SQL = """
SELECT EXISTS (SELECT 1 FROM access.current_user_profile()),
       EXISTS (SELECT 1 FROM retail.product_description_embeddings WHERE model_id = %(model)s),
       set_config('ivfflat.probes', %(probes)s, true),
       set_config('ivfflat.iterative_scan', 'relaxed_order', true),
       set_config('hnsw.ef_search', %(ef_search)s, true),
       set_config('hnsw.iterative_scan', 'relaxed_order', true)
"""


def search_knobs(probes: str, ef_search: str) -> sql.Composed:
    """The knobs as SET LOCAL statements (one simple-protocol round trip), for Citus workers."""
    return sql.SQL("; ").join(
        sql.SQL("SET LOCAL {} = {}").format(sql.Identifier(*name.split(".")), sql.Literal(value))
        for name, value in (("ivfflat.probes", probes), ("ivfflat.iterative_scan", "relaxed_order"),
                            ("hnsw.ef_search", ef_search), ("hnsw.iterative_scan", "relaxed_order"))
    )


# Product details and the stock at the caller's stores (inventory is under RLS) for the hits.
# On a single PostgreSQL the stock is a correlated subquery per hit; on Citus, which refuses
# correlated subqueries over a distributed table here, one aggregate over the hits' ids, joined.
_DETAILS_SQL = """
SELECT p.product_id::text, p.sku, p.name, p.description, c.name, t.name, p.base_price,
       {stock}::integer, h.distance, h.rank
FROM hits AS h
JOIN retail.products AS p ON p.product_id = h.product_id
JOIN retail.categories AS c ON c.category_id = p.category_id
JOIN retail.product_types AS t ON t.type_id = p.type_id {stock_join}
"""
_STOCK = {
    False: (sql.SQL("(SELECT coalesce(sum(i.stock_level), 0) FROM retail.inventory AS i"
                    " WHERE i.product_id = p.product_id)"), sql.SQL("")),
    True: (sql.SQL("coalesce(s.stock, 0)"), sql.SQL(
        "LEFT JOIN (SELECT i.product_id, sum(i.stock_level) AS stock FROM retail.inventory AS i"
        " WHERE i.product_id IN (SELECT product_id FROM hits) GROUP BY 1) AS s"
        " ON s.product_id = p.product_id")),
}

# The index holds one representative row per distinct text (sql/007): find the nearest texts
# that have a product passing the filters, then expand them to their products, nearest first.
_VECTOR_SQL = """
WITH nearest AS MATERIALIZED (
    SELECT e.content_sha256, e.embedding <=> %(embedding)s::vector AS distance
    FROM retail.product_description_embeddings AS e
    WHERE e.is_representative AND e.model_id = %(model)s {text_filters}
    ORDER BY distance
    LIMIT %(limit)s
), hits AS MATERIALIZED (
    SELECT x.product_id, n.distance, NULL::real AS rank
    FROM nearest AS n
    CROSS JOIN LATERAL (
        SELECT m.product_id
        FROM retail.product_description_embeddings AS m
        JOIN retail.products AS p ON p.product_id = m.product_id
        WHERE m.model_id = %(model)s AND m.content_sha256 = n.content_sha256 {filters}
        ORDER BY m.product_id  -- index order: reads only as many rows as it keeps
        LIMIT %(limit)s
    ) AS x
    ORDER BY n.distance, x.product_id
    LIMIT %(limit)s
)
""" + _DETAILS_SQL + " ORDER BY h.distance, p.sku"

# Full-text candidates: products matching at least two of the query's words (any pair of its
# first 12 distinct lexemes), or any word when it has fewer than three. Pairs keep precision
# for conversational requests ("something to cut branches": cut & branch) and keep the matched
# set small on a large catalogue, where ranking every product that has one common word costs
# hundreds of milliseconds. ts_rank weighs name (A) over description (B).
_TEXT_SQL = """
WITH words AS (
    SELECT DISTINCT lexeme FROM unnest(to_tsvector('english', %(text)s)) LIMIT 12
), query AS (
    SELECT CASE WHEN (SELECT count(*) FROM words) < 3
                THEN replace(plainto_tsquery('english', %(text)s)::text, '&', '|')::tsquery
                ELSE (SELECT string_agg(format('(%%s & %%s)', quote_literal(a.lexeme),
                                               quote_literal(b.lexeme)), ' | ')
                      FROM words AS a JOIN words AS b ON a.lexeme < b.lexeme)::tsquery
           END AS q
), hits AS MATERIALIZED (
    SELECT p.product_id, e.embedding <=> %(embedding)s::vector AS distance,
           ts_rank(p.search_document, query.q) AS rank
    FROM query, retail.products AS p
    LEFT JOIN retail.product_description_embeddings AS e
           ON e.product_id = p.product_id AND e.model_id = %(model)s
    WHERE p.search_document @@ query.q {filters}
    ORDER BY rank DESC, p.sku
    LIMIT %(limit)s
)
""" + _DETAILS_SQL + " ORDER BY h.rank DESC, p.sku"


def vector_literal(values: Sequence[float]) -> str:
    return "[" + ",".join(f"{v:.8g}" for v in values) + "]"


def filter_sql(filters: SearchFilters, product_id: str, distributed: bool = False
               ) -> sql.Composed:
    """AND-conditions on `p` (products) for the filters; stock through RLS'd inventory
    (`distributed`: on Citus, an uncorrelated IN it can plan)."""
    parts: list[sql.Composable] = []
    if filters.category is not None:
        parts.append(sql.SQL(
            "AND p.category_id = (SELECT category_id FROM retail.categories WHERE name = {})"
        ).format(sql.Literal(filters.category)))
    if filters.max_price is not None:
        parts.append(sql.SQL("AND p.base_price <= {}").format(sql.Literal(filters.max_price)))
    if filters.in_stock_only and distributed:
        parts.append(sql.SQL(
            "AND {} IN (SELECT i.product_id FROM retail.inventory AS i WHERE i.stock_level > 0)"
        ).format(sql.SQL(product_id)))
    elif filters.in_stock_only:
        parts.append(sql.SQL(
            "AND EXISTS (SELECT 1 FROM retail.inventory AS i"
            " WHERE i.product_id = {} AND i.stock_level > 0)"
        ).format(sql.SQL(product_id)))
    return sql.SQL(" ").join(parts)


def vector_query(filters: SearchFilters, distributed: bool = False) -> sql.Composed:
    product_filters = filter_sql(filters, "p.product_id", distributed)
    text_filters: sql.Composable = sql.SQL("")
    if filters != SearchFilters():
        # only texts with at least one product that passes (iterative scan goes on past the
        # texts whose products are all filtered out)
        text_filters = sql.SQL(
            "AND EXISTS (SELECT 1 FROM retail.product_description_embeddings AS m"
            " JOIN retail.products AS p ON p.product_id = m.product_id"
            " WHERE m.model_id = e.model_id AND m.content_sha256 = e.content_sha256 {})"
        ).format(product_filters)
    stock, stock_join = _STOCK[distributed]
    return sql.SQL(_VECTOR_SQL).format(text_filters=text_filters, filters=product_filters,
                                       stock=stock, stock_join=stock_join)


def text_query(filters: SearchFilters, distributed: bool = False) -> sql.Composed:
    stock, stock_join = _STOCK[distributed]
    return sql.SQL(_TEXT_SQL).format(filters=filter_sql(filters, "p.product_id", distributed),
                                     stock=stock, stock_join=stock_join)


class PsycopgProductSearchRepository(ProductSearchRepository):
    def __init__(self, gateway: DatabaseGateway, *,
                 probes: int = IVFFLAT_PROBES, filtered_probes: int = IVFFLAT_FILTERED_PROBES,
                 ef_search: int = HNSW_EF_SEARCH) -> None:
        self._gateway = gateway
        self._probes = probes
        self._filtered_probes = filtered_probes
        self._ef_search = ef_search

    async def candidates(self, user_id: UserId, query: CandidateQuery) -> Candidates:
        params = {
            "model": query.model_id,
            "probes": str(self._probes if query.filters == SearchFilters()
                          else self._filtered_probes),
            "ef_search": str(max(self._ef_search, query.vector_limit)),
            "embedding": vector_literal(query.embedding),
            "text": query.text,
        }

        async def search(conn: AsyncConn) -> Candidates:
            row = await (await conn.execute(_PREPARE_SQL, params)).fetchone()
            known, has_vectors = (bool(row[0]), bool(row[1])) if row else (False, False)
            if not known:
                raise UnknownUserError(
                    f"unknown user {user_id}; run `zava-mcp users` to list the users"
                )
            if not has_vectors:
                return Candidates((), (), model_has_vectors=False)
            distributed = context_binding(conn)[1]  # a Citus coordinator
            if distributed:
                await conn.execute(search_knobs(params["probes"], params["ef_search"]),
                                   prepare=False)
            by_vector = await _fetch(conn, vector_query(query.filters, distributed),
                                     {**params, "limit": query.vector_limit}, query.vector_limit)
            by_text = await _fetch(conn, text_query(query.filters, distributed),
                                   {**params, "limit": query.text_limit}, query.text_limit)
            return Candidates(by_vector, by_text, model_has_vectors=True)

        return await self._gateway.read("product_search.candidates", user_id, search)

    async def categories(self) -> tuple[str, ...]:
        rows = await self._read("product_search.categories",
                                "SELECT name FROM retail.categories ORDER BY name")
        return tuple(str(r[0]) for r in rows)

    async def stored_models(self) -> Mapping[str, int]:
        rows = await self._read(
            "product_search.stored_models",
            "SELECT model_id, count(*) FROM retail.product_description_embeddings GROUP BY 1"
        )
        return {str(r[0]): int(str(r[1])) for r in rows}

    async def _read(self, operation: str, query: str) -> list[tuple[object, ...]]:
        async def read(conn: AsyncConn) -> list[tuple[object, ...]]:
            return await (await conn.execute(query)).fetchall()

        return await self._gateway.read(operation, None, read)


async def _fetch(
    conn: AsyncConn, query: sql.Composed, params: dict[str, object], limit: int
) -> tuple[ProductCandidate, ...]:
    if limit <= 0:
        return ()
    rows = await (await conn.execute(query, params)).fetchall()
    return tuple(
        ProductCandidate(
            product_id=r[0], sku=r[1], name=r[2], description=r[3], category=r[4],
            product_type=r[5], base_price=r[6], stock_units=int(r[7]),
            cosine_distance=None if r[8] is None else float(r[8]),
            text_rank=None if r[9] is None else float(r[9]),
        )
        for r in rows
    )
