"""The embedding pipeline on fakes: batched, resumable, re-embeds only what is stale."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from adapters.memory.access import InMemoryAccessDirectory
from adapters.memory.embeddings import HashingEmbeddingProvider
from adapters.memory.product_search import InMemoryProductSearchRepository
from domain.errors import EmbeddingServiceError
from domain.model import ProductText
from domain.services.embedding_index import (
    EmbeddingIndexService,
    content_sha256,
    product_document,
)
from ports.embeddings import Embedding

pytestmark = pytest.mark.anyio


@pytest.fixture
def store() -> InMemoryProductSearchRepository:
    return InMemoryProductSearchRepository.from_demo_data(InMemoryAccessDirectory.from_demo_data())


class FailingAfter(HashingEmbeddingProvider):
    """Fails on the n-th batch, like a provider that goes down mid-build."""

    def __init__(self, batches: int) -> None:
        super().__init__()
        self.batches = batches

    async def embed_documents(self, texts: Sequence[str]) -> list[Embedding]:
        if self.calls >= self.batches:
            raise EmbeddingServiceError("provider down")
        return await super().embed_documents(texts)


async def test_builds_in_batches_then_has_nothing_to_do(
    store: InMemoryProductSearchRepository,
) -> None:
    embedder = HashingEmbeddingProvider()
    progress: list[tuple[str, int, int]] = []
    report = await EmbeddingIndexService(embedder, store, batch_size=100).build(
        lambda label, done, total: progress.append((label, done, total)))
    assert (report.products, report.embedded, report.up_to_date) == (405, 405, 0)
    # variants of a product line share their text: each distinct text is embedded once
    texts = {product_document(p) for p in await store.product_texts()}
    assert report.texts == len(texts) < 405
    assert embedder.calls == -(-len(texts) // 100)
    assert progress[0][1:] == (0, 405)
    assert progress[-1][1:] == (405, 405)
    assert "fake/hashing@384" in progress[0][0]
    again = await EmbeddingIndexService(embedder, store, batch_size=100).build()
    assert again.embedded == 0
    assert embedder.calls == -(-len(texts) // 100)  # nothing embedded the second time


async def test_an_interrupted_build_resumes_where_it_stopped(
    store: InMemoryProductSearchRepository,
) -> None:
    with pytest.raises(EmbeddingServiceError):
        await EmbeddingIndexService(FailingAfter(2), store, batch_size=100).build()
    saved = sum((await store.stored_models()).values())
    assert 200 <= saved < 405  # the first two batches of 100 texts, with all their products
    report = await EmbeddingIndexService(HashingEmbeddingProvider(), store,
                                         batch_size=100).build()
    assert report.embedded == 405 - saved


async def test_only_changed_texts_and_other_models_are_re_embedded(
    store: InMemoryProductSearchRepository,
) -> None:
    embedder = HashingEmbeddingProvider()
    await EmbeddingIndexService(embedder, store).build()
    first = next(iter(store._items.values()))
    store._items[first.product.product_id] = type(first)(
        ProductText(first.product.product_id, first.product.name,
                    "A brand new description. Second sentence.", first.product.category,
                    first.product.product_type, None, None),
        first.sku, first.base_price, first.stock,
    )
    assert (await EmbeddingIndexService(embedder, store).build()).embedded == 1
    other = HashingEmbeddingProvider(name="other")
    assert (await EmbeddingIndexService(other, store).build()).embedded == 405


async def test_vectors_of_the_wrong_size_are_refused(
    store: InMemoryProductSearchRepository,
) -> None:
    class WrongSize(HashingEmbeddingProvider):
        @property
        def dimensions(self) -> int:
            return 1536

    with pytest.raises(EmbeddingServiceError, match="1536-dimensional"):
        await EmbeddingIndexService(WrongSize(), store).build()


def test_the_document_is_the_type_and_the_first_sentence() -> None:
    product = ProductText("p", "Acme 16 oz Hammer", "Drives nails. Has a 1.5 in. face. Red.",
                          "Hand Tools", "Hammers & Mallets", None, None)
    assert product_document(product) == "Hammers & Mallets: Drives nails."
    single = ProductText("p", "n", "No full stop at the end", "c", "T", None, None)
    assert product_document(single) == "T: No full stop at the end"
    assert content_sha256("x") == content_sha256("x") != content_sha256("y")


class IndexRecordingStore(InMemoryProductSearchRepository):
    """The in-memory store, noting what the build tells the index after each run."""

    maintained: list[int]

    async def maintain_index(self, rewritten_vectors: int) -> str | None:
        self.maintained.append(rewritten_vectors)
        return f"rebuilt after {rewritten_vectors}"


async def test_every_build_asks_the_store_to_maintain_its_index() -> None:
    store = IndexRecordingStore.from_demo_data(InMemoryAccessDirectory.from_demo_data())
    store.maintained = []
    embedder = HashingEmbeddingProvider()
    first = await EmbeddingIndexService(embedder, store, batch_size=100).build()
    second = await EmbeddingIndexService(embedder, store, batch_size=100).build()
    # the distinct vectors written (what the index holds), not the products that share them
    assert store.maintained == [first.texts, 0]
    assert first.index == f"rebuilt after {first.texts}"
    assert second.embedded == 0
