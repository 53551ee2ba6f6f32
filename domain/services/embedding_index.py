"""The product-vector index: embeds what is missing or stale, batch by batch.

A product needs a (new) vector when it has none, when its vector was made by another model, or
when its text changed since (compared by the sha256 of the exact text embedded). Each distinct
text is embedded once for all the products that have it. Each batch is saved in its own
transaction, so an interrupted build resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from domain.errors import EmbeddingServiceError
from domain.model import ProductEmbedding, ProductText
from ports.embeddings import EmbeddingProvider
from ports.product_search import ProductEmbeddingStore

_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z0-9])")

# progress(label, done, total)
Progress = Callable[[str, int, int], object]  # its result is ignored


def product_document(product: ProductText) -> str:
    """The text embedded for a product: its type and the first sentence of its description,
    which says what the product is for ("Hand pruners ... that cut cleanly through branches").

    Chosen on the evaluation set (bench/results/search_quality.md): names add brands, sizes and
    pack counts that pull a small model's mean-pooled vector away from the product's purpose,
    and later sentences list features; the full-text side of hybrid search covers the names.
    """
    return f"{product.product_type}: {_first_sentence(product.description)}"


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = _SENTENCE_END.search(text)
    return text if match is None else text[:match.start() + 1]


def content_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PendingDocument:
    product_id: str
    text: str
    content_sha256: str


@dataclass(frozen=True)
class BuildReport:
    model_id: str
    products: int
    embedded: int
    texts: int = 0  # distinct texts embedded (products with the same text share one)
    index: str | None = None  # what was done to the search index, if anything

    @property
    def up_to_date(self) -> int:
        return self.products - self.embedded


class EmbeddingIndexService:
    def __init__(
        self, embedder: EmbeddingProvider, store: ProductEmbeddingStore, *, batch_size: int = 128
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        self._embedder = embedder
        self._store = store
        self._batch_size = batch_size

    async def pending(self) -> tuple[list[PendingDocument], int]:
        """The documents that need a vector of this model, and how many products there are."""
        model_id = self._embedder.model_id
        texts = await self._store.product_texts()
        pending = []
        for product in texts:
            text = product_document(product)
            digest = content_sha256(text)
            if product.stored_model_id != model_id or product.stored_content_sha256 != digest:
                pending.append(PendingDocument(product.product_id, text, digest))
        return pending, len(texts)

    async def build(self, progress: Progress | None = None) -> BuildReport:
        """Embed what is pending. Products with the same text share one embedding call (a
        catalogue's variants often share their copy), so a batch is `batch_size` distinct
        texts and all the products that have them."""
        model_id = self._embedder.model_id
        pending, total = await self.pending()
        by_text: dict[str, list[PendingDocument]] = {}
        for document in pending:
            by_text.setdefault(document.text, []).append(document)
        texts = list(by_text)
        label = f"embeddings ({model_id})"
        done = 0
        if progress is not None:
            progress(label, done, len(pending))
        for start in range(0, len(texts), self._batch_size):
            batch = texts[start:start + self._batch_size]
            vectors = await self._embedder.embed_documents(batch)
            if len(vectors) != len(batch) or any(
                len(v) != self._embedder.dimensions for v in vectors
            ):
                raise EmbeddingServiceError(
                    f"{model_id} returned {len(vectors)} vectors for {len(batch)} texts, or"
                    f" vectors that are not {self._embedder.dimensions}-dimensional"
                )
            rows = [
                ProductEmbedding(d.product_id, vector, model_id, d.content_sha256)
                for text, vector in zip(batch, vectors, strict=True) for d in by_text[text]
            ]
            await self._store.save(rows)
            done += len(rows)
            if progress is not None:
                progress(label, done, len(pending))
        index = await self.maintain_index(rewritten_vectors=len(texts))
        return BuildReport(model_id=model_id, products=total, embedded=len(pending),
                           texts=len(texts), index=index)

    async def maintain_index(self, rewritten_vectors: int = 0) -> str | None:
        """Let the store rebuild its search index if the vectors changed too much for it (an
        index that learnt its layout from other vectors) or it is missing."""
        return await self._store.maintain_index(rewritten_vectors)
