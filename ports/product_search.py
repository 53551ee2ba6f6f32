"""Ports of product search: the searchable catalogue and the store of product vectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.model import ProductCandidate, ProductEmbedding, ProductText, SearchFilters, UserId


@dataclass(frozen=True)
class CandidateQuery:
    """What to fetch for one search.

    `embedding`/`model_id`: the query vector and the model that made it; only vectors of that
    model are compared. `vector_limit` nearest products by cosine distance (0 = none);
    `text` and `text_limit`: best full-text matches of any of the query's words (0 = none).
    Filters apply to both lists, before the limits.
    """

    embedding: tuple[float, ...]
    model_id: str
    text: str
    filters: SearchFilters
    vector_limit: int
    text_limit: int


@dataclass(frozen=True)
class Candidates:
    """`model_has_vectors` is False when no product has a vector of the query's model (the
    lists are then empty): the caller explains how to re-embed."""

    by_vector: tuple[ProductCandidate, ...]
    by_text: tuple[ProductCandidate, ...]
    model_has_vectors: bool


class ProductSearchRepository(Protocol):
    async def candidates(self, user_id: UserId, query: CandidateQuery) -> Candidates:
        """Nearest and full-text candidates, read under the caller's identity (stock counts
        only the caller's stores). Raises UnknownUserError for an id that is not a user."""
        ...

    async def categories(self) -> tuple[str, ...]:
        """The catalogue's category names."""
        ...

    async def stored_models(self) -> Mapping[str, int]:
        """How many product vectors each model id has."""
        ...


class ProductEmbeddingStore(Protocol):
    async def product_texts(self) -> list[ProductText]:
        """Every product with the model id and content hash of its stored vector (if any)."""
        ...

    async def save(self, embeddings: Sequence[ProductEmbedding]) -> None:
        """Insert or replace these vectors durably (one batch, one transaction)."""
        ...

    async def maintain_index(self, rewritten_vectors: int) -> str | None:
        """Keep the search index fit for the stored vectors after a build wrote
        `rewritten_vectors` distinct vectors (0: only check it). Says what was done, or None."""
        ...
