"""ProductSearchService on fakes: validation, similarity, thresholds, modes, filters, RLS'd
stock, model mismatch and the order of work (no connection held while embedding)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.memory.access import InMemoryAccessDirectory
from adapters.memory.embeddings import HashingEmbeddingProvider
from adapters.memory.product_search import InMemoryProductSearchRepository
from domain.errors import EmbeddingModelMismatchError, UnknownUserError, ValidationError
from domain.model import ProductCandidate, SearchMode, UserId
from domain.services.embedding_index import EmbeddingIndexService
from domain.services.product_search import (
    CALIBRATED_THRESHOLDS,
    FALLBACK_THRESHOLD,
    MAX_QUERY_CHARS,
    ProductSearchService,
    default_threshold,
    reciprocal_rank_fusion,
    similarity_of,
)
from ports.product_search import CandidateQuery, Candidates

pytestmark = pytest.mark.anyio

SEATTLE = UserId("f47ac10b-58cc-4372-a567-0e02b2c3d479")
HEAD_OFFICE = UserId("5ba86bc5-6c7d-4d93-9337-3175bdc44ad8")


@pytest.fixture
def embedder() -> HashingEmbeddingProvider:
    return HashingEmbeddingProvider()


@pytest.fixture
def repository(embedder: HashingEmbeddingProvider) -> InMemoryProductSearchRepository:
    return InMemoryProductSearchRepository.from_demo_data(
        InMemoryAccessDirectory.from_demo_data(), embedder
    )


@pytest.fixture
def service(
    embedder: HashingEmbeddingProvider, repository: InMemoryProductSearchRepository
) -> ProductSearchService:
    return ProductSearchService(embedder, repository)


@pytest.mark.parametrize(("query", "message"), [
    ("", "query_description is empty"),
    ("   \n\t ", "query_description is empty"),
    ("x" * (MAX_QUERY_CHARS + 1), f"at most {MAX_QUERY_CHARS}"),
])
async def test_empty_or_overlong_queries_are_validation_errors(
    service: ProductSearchService, embedder: HashingEmbeddingProvider, query: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        await service.search(SEATTLE, query)
    assert caught.value.code == "VALIDATION_ERROR"
    assert embedder.calls == 0  # rejected before any embedding work


@pytest.mark.parametrize("kwargs", [
    {"max_rows": 0}, {"max_rows": 101}, {"similarity_threshold": -0.1},
    {"similarity_threshold": 1.5}, {"similarity_threshold": math.nan}, {"max_price": 0},
    {"max_price": -5}, {"max_price": math.inf}, {"category": "Groceries"},
])
async def test_bad_arguments_are_validation_errors(
    service: ProductSearchService, kwargs: dict[str, object]
) -> None:
    with pytest.raises(ValidationError):
        await service.search(SEATTLE, "garden hose", **kwargs)  # type: ignore[arg-type]


async def test_unknown_category_lists_the_categories(service: ProductSearchService) -> None:
    with pytest.raises(ValidationError, match="categories: Electrical, Garden & Outdoor"):
        await service.search(SEATTLE, "garden hose", category="Gardening")


async def test_search_finds_by_words_and_reports_similarity_in_range(
    service: ProductSearchService,
) -> None:
    result = await service.search(SEATTLE, "bypass pruning shears for branches")
    assert result.products, "expected matches"
    assert result.products[0].product_type == "Pruning Tools"
    assert all(0.0 <= p.similarity <= 1.0 for p in result.products)
    assert all(p.similarity >= result.threshold for p in result.products)
    assert result.mode is SearchMode.HYBRID
    assert result.model_id == "fake/hashing@384"


async def test_threshold_drops_weak_matches(service: ProductSearchService) -> None:
    loose = await service.search(SEATTLE, "pruning shears", similarity_threshold=0.0,
                                 max_rows=100)
    strict = await service.search(SEATTLE, "pruning shears", similarity_threshold=0.4,
                                  max_rows=100)
    assert len(strict.products) < len(loose.products)
    assert all(p.similarity >= 0.4 for p in strict.products)
    nothing = await service.search(SEATTLE, "zzzz qqqq", similarity_threshold=0.5)
    assert nothing.products == ()


@pytest.mark.parametrize("mode", list(SearchMode))
async def test_every_mode_respects_max_rows_and_filters(
    service: ProductSearchService, mode: SearchMode
) -> None:
    result = await service.search(
        HEAD_OFFICE, "paint for walls and ceilings", max_rows=5, similarity_threshold=0.0,
        category="paint & finishes", max_price=30, mode=mode,
    )
    assert 0 < len(result.products) <= 5
    assert {p.category for p in result.products} == {"Paint & Finishes"}
    assert all(p.base_price <= Decimal(30) for p in result.products)


async def test_vector_mode_orders_by_similarity(service: ProductSearchService) -> None:
    result = await service.search(HEAD_OFFICE, "garden hose nozzle", mode=SearchMode.VECTOR,
                                  similarity_threshold=0.0)
    sims = [p.similarity for p in result.products]
    assert sims == sorted(sims, reverse=True)


async def test_in_stock_only_counts_only_the_callers_stores(
    service: ProductSearchService,
) -> None:
    everything = await service.search(SEATTLE, "hammer", similarity_threshold=0.0,
                                      max_rows=100, mode=SearchMode.VECTOR)
    in_stock = await service.search(SEATTLE, "hammer", similarity_threshold=0.0,
                                    max_rows=100, in_stock_only=True, mode=SearchMode.VECTOR)
    assert all(p.stock_units > 0 for p in in_stock.products)
    assert {p.sku for p in everything.products if p.stock_units == 0}, "fixture has stock-outs"
    # filtered before the limit: every in-stock product of the unfiltered top 100 is kept
    assert {p.sku for p in everything.products if p.stock_units > 0} <= {
        p.sku for p in in_stock.products
    }
    head_office = await service.search(HEAD_OFFICE, "hammer", similarity_threshold=0.0,
                                       max_rows=100)
    seattle_stock = {p.sku: p.stock_units for p in everything.products}
    assert any(p.stock_units > seattle_stock[p.sku] for p in head_office.products)


async def test_unknown_user_is_refused(service: ProductSearchService) -> None:
    with pytest.raises(UnknownUserError):
        await service.search(UserId("00000000-0000-0000-0000-000000000000"), "hammer")


async def test_vectors_of_another_model_are_a_clear_error(
    repository: InMemoryProductSearchRepository,
) -> None:
    other = HashingEmbeddingProvider(name="other")
    service = ProductSearchService(other, repository)
    with pytest.raises(EmbeddingModelMismatchError) as caught:
        await service.search(SEATTLE, "hammer")
    message = caught.value.message
    assert "fake/hashing@384 (405 products)" in message
    assert "fake/other@384" in message
    assert "zava-mcp embeddings build" in message
    assert caught.value.code == "CONFIGURATION_ERROR"


async def test_switching_providers_works_after_a_build(
    repository: InMemoryProductSearchRepository,
) -> None:
    other = HashingEmbeddingProvider(name="other")
    report = await EmbeddingIndexService(other, repository, batch_size=100).build()
    assert report.embedded == 405
    result = await ProductSearchService(other, repository).search(SEATTLE, "claw hammer")
    assert "Hammer" in result.products[0].name
    assert await repository.stored_models() == {"fake/other@384": 405}


async def test_empty_index_says_to_build(embedder: HashingEmbeddingProvider) -> None:
    empty = InMemoryProductSearchRepository.from_demo_data(
        InMemoryAccessDirectory.from_demo_data(), None
    )
    with pytest.raises(EmbeddingModelMismatchError, match="no product has a vector yet"):
        await ProductSearchService(embedder, empty).search(SEATTLE, "hammer")


class _RecordingRepository:
    """Records what the embedder had done when the repository was called."""

    def __init__(self, inner: InMemoryProductSearchRepository,
                 embedder: HashingEmbeddingProvider) -> None:
        self.inner = inner
        self.embedder = embedder
        self.embeddings_before_candidates: list[int] = []

    async def candidates(self, user_id: UserId, query: CandidateQuery) -> Candidates:
        self.embeddings_before_candidates.append(self.embedder.calls)
        return await self.inner.candidates(user_id, query)

    async def categories(self) -> tuple[str, ...]:
        return await self.inner.categories()

    async def stored_models(self) -> Mapping[str, int]:
        return await self.inner.stored_models()


async def test_the_query_is_embedded_before_the_database_is_asked(
    embedder: HashingEmbeddingProvider, repository: InMemoryProductSearchRepository
) -> None:
    recording = _RecordingRepository(repository, embedder)
    await ProductSearchService(embedder, recording).search(SEATTLE, "hammer")
    assert recording.embeddings_before_candidates == [1]


def test_thresholds_are_per_model() -> None:
    local = "sentence-transformers/all-MiniLM-L6-v2@384"
    assert default_threshold(local) == CALIBRATED_THRESHOLDS[local]
    assert default_threshold("unknown@3") == FALLBACK_THRESHOLD
    assert default_threshold(local, 0.5) == 0.5


@given(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)))
def test_similarity_is_always_in_the_unit_interval(distance: float | None) -> None:
    assert 0.0 <= similarity_of(distance) <= 1.0


def _candidate(sku: str, distance: float | None = 0.5) -> ProductCandidate:
    return ProductCandidate(sku, sku, sku, "", "c", "t", Decimal(1), 0, distance, None)


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    a, b, c, d = (_candidate(x) for x in "abcd")
    fused = reciprocal_rank_fusion((a, b, c), (c, d, a))
    # a: 1/61 + 1/63, c: 1/63 + 1/61 (tie, broken by similarity then sku), b: 1/62, d: 1/62
    assert [x.sku for x in fused] == ["a", "c", "b", "d"]
    assert reciprocal_rank_fusion((), ()) == []
