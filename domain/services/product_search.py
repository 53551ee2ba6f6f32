"""semantic_search_products: products that fit a need described in plain language.

The query is embedded first (no database connection is held while a model or a remote API
works), then the repository returns the nearest products by cosine distance and the best
full-text matches, both already filtered and read under the caller's identity. The service
ranks them:

- `vector`: by cosine distance alone;
- `full_text`: by PostgreSQL's full-text rank alone;
- `hybrid` (default): reciprocal rank fusion of the two lists, score = sum of 1 / (60 + rank),
  which rewards products both the meaning and the words agree on without comparing their
  incomparable scores.

`similarity` is always 1 - cosine distance, clipped to [0, 1]; results below the threshold are
dropped in every mode, so an off-topic request returns nothing rather than the least bad
products. The default threshold is calibrated per embedding model on the evaluation set
(tests/data/search_eval.json, bench/search_quality.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from domain.errors import EmbeddingModelMismatchError, ValidationError
from domain.model import (
    ProductCandidate,
    ProductMatch,
    ProductSearchResult,
    SearchFilters,
    SearchMode,
    UserId,
)
from ports.embeddings import EmbeddingProvider
from ports.product_search import CandidateQuery, ProductSearchRepository

MAX_QUERY_CHARS = 500
MAX_ROWS_CAP = 100
RRF_K = 60  # the constant of Cormack et al. (2009); robust across collections
HYBRID_DEPTH = 50  # candidates taken from each list before fusion

# Default similarity thresholds per embedding model, calibrated with bench/search_quality.py on
# the evaluation set: the highest value that keeps the expected first hit of (nearly) every
# evaluation query while off-topic requests find nothing. See README "Product search".
CALIBRATED_THRESHOLDS: Mapping[str, float] = {
    "sentence-transformers/all-MiniLM-L6-v2@384": 0.30,
    # Not calibrated here (no API access in CI): text-embedding-3 similarities run lower than
    # MiniLM's; 0.25 is a conservative start. Override with ZAVA_SEARCH_THRESHOLD.
    "openai/text-embedding-3-small@384": 0.25,
}
FALLBACK_THRESHOLD = 0.25


class ProductSearchService:
    def __init__(
        self,
        embedder: EmbeddingProvider,
        repository: ProductSearchRepository,
        *,
        default_mode: SearchMode = SearchMode.HYBRID,
        threshold: float | None = None,
        thresholds: Mapping[str, float] = CALIBRATED_THRESHOLDS,
    ) -> None:
        self._embedder = embedder
        self._repository = repository
        self._default_mode = default_mode
        self._threshold = threshold
        self._thresholds = thresholds
        self._categories: tuple[str, ...] | None = None

    @property
    def model_id(self) -> str:
        return self._embedder.model_id

    @property
    def default_mode(self) -> SearchMode:
        return self._default_mode

    @property
    def default_threshold(self) -> float:
        return default_threshold(self._embedder.model_id, self._threshold, self._thresholds)

    async def search(
        self,
        user_id: UserId,
        query_description: str,
        *,
        max_rows: int = 20,
        similarity_threshold: float | None = None,
        category: str | None = None,
        max_price: float | Decimal | None = None,
        in_stock_only: bool = False,
        mode: SearchMode | None = None,
    ) -> ProductSearchResult:
        text = _query_text(query_description)
        if not 1 <= max_rows <= MAX_ROWS_CAP:
            raise ValidationError(f"max_rows must be between 1 and {MAX_ROWS_CAP}, got {max_rows}")
        threshold = self.default_threshold if similarity_threshold is None else similarity_threshold
        if not (isinstance(threshold, int | float) and 0.0 <= threshold <= 1.0):
            raise ValidationError(
                f"similarity_threshold must be between 0 and 1, got {similarity_threshold!r}"
            )
        filters = SearchFilters(
            category=await self._category(category),
            max_price=_price(max_price),
            in_stock_only=bool(in_stock_only),
        )
        mode = mode or self._default_mode
        embedding = await self._embedder.embed_query(text)
        depth = max(max_rows, HYBRID_DEPTH)
        candidates = await self._repository.candidates(user_id, CandidateQuery(
            embedding=embedding,
            model_id=self._embedder.model_id,
            text=text,
            filters=filters,
            vector_limit={SearchMode.VECTOR: max_rows, SearchMode.HYBRID: depth}.get(mode, 0),
            text_limit={SearchMode.FULL_TEXT: max_rows, SearchMode.HYBRID: depth}.get(mode, 0),
        ))
        if not candidates.model_has_vectors:
            raise await self._mismatch()
        if mode is SearchMode.VECTOR:
            ranked = list(candidates.by_vector)
        elif mode is SearchMode.FULL_TEXT:
            ranked = list(candidates.by_text)
        else:
            ranked = reciprocal_rank_fusion(candidates.by_vector, candidates.by_text)
        matches = [m for m in map(_match, ranked) if m.similarity >= threshold]
        return ProductSearchResult(
            query=text,
            mode=mode,
            model_id=self._embedder.model_id,
            threshold=threshold,
            products=tuple(matches[:max_rows]),
        )

    async def _category(self, raw: str | None) -> str | None:
        if raw is None or not raw.strip():
            return None
        if self._categories is None:
            self._categories = tuple(await self._repository.categories())
        wanted = " ".join(raw.split()).casefold()
        for name in self._categories:
            if name.casefold() == wanted:
                return name
        raise ValidationError(
            f"unknown category {raw!r}; categories: {', '.join(sorted(self._categories))}"
        )

    async def _mismatch(self) -> EmbeddingModelMismatchError:
        wanted = self._embedder.model_id
        stored = dict(await self._repository.stored_models())
        if not stored:
            return EmbeddingModelMismatchError(
                "no product has a vector yet: run `zava-mcp embeddings build` to embed the"
                f" catalogue with {wanted}"
            )
        found = ", ".join(f"{model} ({count} products)" for model, count in sorted(stored.items()))
        return EmbeddingModelMismatchError(
            f"the product vectors were made by {found}, but this server embeds queries with"
            f" {wanted}; vectors of different models are not comparable. Re-embed the"
            " catalogue with `zava-mcp embeddings build --provider <ZAVA_EMBEDDINGS of this"
            " server>`, or set ZAVA_EMBEDDINGS back to the provider the vectors were made with"
        )


def default_threshold(
    model_id: str,
    override: float | None = None,
    thresholds: Mapping[str, float] = CALIBRATED_THRESHOLDS,
) -> float:
    """The similarity threshold used when a search names none."""
    if override is not None:
        return override
    return thresholds.get(model_id, FALLBACK_THRESHOLD)


def reciprocal_rank_fusion(*ranked_lists: tuple[ProductCandidate, ...]) -> list[ProductCandidate]:
    """Fuse ranked lists: score = sum over lists of 1 / (RRF_K + rank), rank from 1. Ties go to
    the higher cosine similarity, then the SKU (deterministic)."""
    scores: dict[str, float] = {}
    by_id: dict[str, ProductCandidate] = {}
    for ranked in ranked_lists:
        for rank, candidate in enumerate(ranked, start=1):
            scores[candidate.product_id] = scores.get(candidate.product_id, 0.0) + 1.0 / (
                RRF_K + rank
            )
            by_id.setdefault(candidate.product_id, candidate)
    return sorted(
        by_id.values(),
        key=lambda c: (-scores[c.product_id], -similarity_of(c.cosine_distance), c.sku),
    )


def similarity_of(cosine_distance: float | None) -> float:
    """1 - cosine distance, clipped to [0, 1]; 0 for a product without a vector."""
    if cosine_distance is None or math.isnan(cosine_distance):
        return 0.0
    return min(1.0, max(0.0, 1.0 - cosine_distance))


def _match(candidate: ProductCandidate) -> ProductMatch:
    return ProductMatch(
        product_id=candidate.product_id,
        sku=candidate.sku,
        name=candidate.name,
        description=candidate.description,
        category=candidate.category,
        product_type=candidate.product_type,
        base_price=candidate.base_price,
        stock_units=candidate.stock_units,
        similarity=round(similarity_of(candidate.cosine_distance), 4),
    )


def _query_text(raw: str) -> str:
    if not isinstance(raw, str):
        raise ValidationError("query_description must be text")
    text = " ".join(raw.split())
    if not text:
        raise ValidationError(
            "query_description is empty; describe the need, e.g. \"something to cut branches\""
        )
    if len(text) > MAX_QUERY_CHARS:
        raise ValidationError(
            f"query_description is {len(text)} characters; at most {MAX_QUERY_CHARS}:"
            " describe the need in a sentence or two"
        )
    return text


def _price(raw: float | Decimal | None) -> Decimal | None:
    if raw is None:
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ValidationError(f"max_price must be a number, got {raw!r}") from None
    if not value.is_finite() or value <= 0:
        raise ValidationError(f"max_price must be a positive amount in USD, got {raw!r}")
    return value
