"""Where `zava-mcp embeddings build` reads product texts and writes vectors: the owner's
connection (the query role is read-only), one short transaction per batch. Each batch also
keeps exactly one representative row per (model, text), the rows the vector index holds
(sql/007); after a build, the vector index over them is rebuilt when it no longer fits
(adapters/postgres/vector_index.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import psycopg

from adapters.postgres.product_search import vector_literal
from adapters.postgres.vector_index import VectorIndexKind, maintain_index
from domain.model import ProductEmbedding, ProductText
from ports.product_search import ProductEmbeddingStore

_TEXTS_SQL = """
SELECT p.product_id::text, p.name, p.description, c.name, t.name, e.model_id, e.content_sha256
FROM retail.products AS p
JOIN retail.categories AS c ON c.category_id = p.category_id
JOIN retail.product_types AS t ON t.type_id = p.type_id
LEFT JOIN retail.product_description_embeddings AS e ON e.product_id = p.product_id
ORDER BY p.sku
"""

# one representative per (model, text): the smallest product id; touches only rows that change
_REPRESENTATIVES_SQL = """
UPDATE retail.product_description_embeddings AS e
SET is_representative = (e.product_id::text = g.representative)
FROM (SELECT model_id, content_sha256, min(product_id::text) AS representative
      FROM retail.product_description_embeddings GROUP BY 1, 2) AS g
WHERE g.model_id = e.model_id AND g.content_sha256 = e.content_sha256
  AND e.is_representative IS DISTINCT FROM (e.product_id::text = g.representative)
"""

# updated_at comes from the inserted row, not a now() in DO UPDATE: Citus refuses non-IMMUTABLE
# functions there ("functions used in the DO UPDATE SET clause of INSERTs on distributed tables
# must be marked IMMUTABLE"); the value is the same transaction timestamp either way.
_UPSERT_SQL = """
INSERT INTO retail.product_description_embeddings
    (product_id, embedding, model_id, content_sha256, updated_at)
VALUES (%s, %s::vector, %s, %s, now())
ON CONFLICT (product_id) DO UPDATE
SET embedding = EXCLUDED.embedding, model_id = EXCLUDED.model_id,
    content_sha256 = EXCLUDED.content_sha256, updated_at = EXCLUDED.updated_at
"""


class PsycopgProductEmbeddingStore(ProductEmbeddingStore):
    def __init__(self, admin_url: str, *, index_kind: VectorIndexKind = "ivfflat") -> None:
        self._admin_url = admin_url
        self._index_kind: VectorIndexKind = index_kind

    async def product_texts(self) -> list[ProductText]:
        async with await psycopg.AsyncConnection.connect(self._admin_url) as conn:
            rows = await (await conn.execute(_TEXTS_SQL)).fetchall()
        return [ProductText(*row) for row in rows]

    async def save(self, embeddings: Sequence[ProductEmbedding]) -> None:
        rows = [(e.product_id, vector_literal(e.embedding), e.model_id, e.content_sha256)
                for e in embeddings]
        async with (
            await psycopg.AsyncConnection.connect(self._admin_url) as conn,
            conn.cursor() as cur,
        ):
            await cur.executemany(_UPSERT_SQL, rows)
            await cur.execute(_REPRESENTATIVES_SQL)

    async def maintain_index(self, rewritten_vectors: int) -> str | None:
        # the concurrent index build needs autocommit statements and takes seconds: off the loop
        return await asyncio.to_thread(
            maintain_index, self._admin_url, self._index_kind, rewritten_vectors)
