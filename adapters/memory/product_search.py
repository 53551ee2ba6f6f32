"""In-memory product search with the same contract as the PostgreSQL adapter.

Holds products, per-store stock and vectors; cosine distance is computed exactly, full text is
"any query word (crudely stemmed) in the name or description", ranked by matched words with the
name counting double. Unknown users are refused like the database refuses them.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from adapters.demodata.catalogue import build_catalogue, curated_size
from adapters.demodata.reference import CATEGORIES, STORES
from adapters.memory.embeddings import HashingEmbeddingProvider
from domain.model import (
    ProductCandidate,
    ProductEmbedding,
    ProductText,
    SearchFilters,
    StoreId,
    UserId,
)
from domain.services.embedding_index import content_sha256, product_document
from ports.access import AccessDirectory
from ports.product_search import (
    CandidateQuery,
    Candidates,
    ProductEmbeddingStore,
    ProductSearchRepository,
)

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset({
    "a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with", "my", "i", "me", "that",
    "it", "is",
})
_PRODUCT_NAMESPACE = uuid.UUID("6f1d2c3b-0a9e-4e57-9d44-5a7a00000001")


@dataclass(frozen=True)
class CatalogueItem:
    product: ProductText
    sku: str
    base_price: Decimal
    stock: Mapping[StoreId, int]


def _words(text: str) -> set[str]:
    return {w.rstrip("s") if len(w) > 3 else w for w in _WORD.findall(text.lower())} - _STOP


def _cosine_distance(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return 1.0 - dot / norms if norms else 1.0


class InMemoryProductSearchRepository(ProductSearchRepository, ProductEmbeddingStore):
    def __init__(self, items: Iterable[CatalogueItem], directory: AccessDirectory) -> None:
        self._items = {item.product.product_id: item for item in items}
        self._directory = directory
        self._vectors: dict[str, ProductEmbedding] = {}

    async def candidates(self, user_id: UserId, query: CandidateQuery) -> Candidates:
        visible = (await self._directory.scope_for(user_id)).store_ids
        has_model = any(v.model_id == query.model_id for v in self._vectors.values())
        if not has_model:
            return Candidates((), (), model_has_vectors=False)
        rows = [
            (item, self._distance(item, query), sum(n for s, n in item.stock.items()
                                                    if s in visible))
            for item in self._items.values()
        ]
        rows = [r for r in rows if self._passes(r[0], r[2], query.filters)]
        nearest = sorted((r for r in rows if r[1] is not None), key=lambda r: (r[1], r[0].sku))
        words = _words(query.text)
        ranked = sorted(
            ((r, self._text_rank(r[0], words)) for r in rows),
            key=lambda pair: (-pair[1], pair[0][0].sku),
        )
        return Candidates(
            by_vector=tuple(self._candidate(r, None) for r in nearest[:query.vector_limit]),
            by_text=tuple(self._candidate(r, rank) for r, rank in ranked[:query.text_limit]
                          if rank > 0),
            model_has_vectors=True,
        )

    async def categories(self) -> tuple[str, ...]:
        return tuple(CATEGORIES)

    async def stored_models(self) -> Mapping[str, int]:
        counts: dict[str, int] = {}
        for v in self._vectors.values():
            counts[v.model_id] = counts.get(v.model_id, 0) + 1
        return counts

    async def product_texts(self) -> list[ProductText]:
        texts = []
        for pid, item in self._items.items():
            stored = self._vectors.get(pid)
            texts.append(ProductText(
                pid, item.product.name, item.product.description, item.product.category,
                item.product.product_type, stored.model_id if stored else None,
                stored.content_sha256 if stored else None,
            ))
        return texts

    async def save(self, embeddings: Sequence[ProductEmbedding]) -> None:
        for e in embeddings:
            if e.product_id in self._items:
                self._vectors[e.product_id] = e

    async def maintain_index(self, rewritten_vectors: int) -> str | None:
        return None  # candidates() compares every vector: there is no index to keep

    def _distance(self, item: CatalogueItem, query: CandidateQuery) -> float | None:
        stored = self._vectors.get(item.product.product_id)
        if stored is None or stored.model_id != query.model_id:
            return None
        return _cosine_distance(stored.embedding, query.embedding)

    @staticmethod
    def _passes(item: CatalogueItem, stock: int, filters: SearchFilters) -> bool:
        return (
            (filters.category is None or item.product.category == filters.category)
            and (filters.max_price is None or item.base_price <= filters.max_price)
            and (not filters.in_stock_only or stock > 0)
        )

    @staticmethod
    def _text_rank(item: CatalogueItem, words: set[str]) -> float:
        return (2.0 * len(words & _words(item.product.name))
                + len(words & _words(item.product.description)))

    @staticmethod
    def _candidate(
        row: tuple[CatalogueItem, float | None, int], rank: float | None
    ) -> ProductCandidate:
        item, distance, stock = row
        return ProductCandidate(
            product_id=item.product.product_id, sku=item.sku, name=item.product.name,
            description=item.product.description, category=item.product.category,
            product_type=item.product.product_type,
            base_price=item.base_price, stock_units=stock,
            cosine_distance=distance, text_rank=rank,
        )

    @classmethod
    def from_demo_data(
        cls, directory: AccessDirectory, embedder: HashingEmbeddingProvider | None = None,
        *, seed: int = 42,
    ) -> InMemoryProductSearchRepository:
        """The curated demo catalogue with deterministic stock (each store is out of a third of
        the products, a different third per store) and, given a fake embedder, its vectors."""
        items = []
        for i, p in enumerate(build_catalogue(seed, curated_size())):
            pid = str(uuid.uuid5(_PRODUCT_NAMESPACE, p.sku))
            stock = {StoreId(s.store_id): (0 if (i + j) % 3 == 0 else 5 + (i + j) % 20)
                     for j, s in enumerate(STORES)}
            items.append(CatalogueItem(
                ProductText(pid, p.name, p.description, p.category, p.product_type, None, None),
                p.sku, p.base_price, stock,
            ))
        repo = cls(items, directory)
        if embedder is not None:
            for item in items:
                text = product_document(item.product)
                repo._vectors[item.product.product_id] = ProductEmbedding(
                    item.product.product_id, embedder.vector(text), embedder.model_id,
                    content_sha256(text),
                )
        return repo
