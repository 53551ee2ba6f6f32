"""Port: turns text into vectors (a local model, OpenAI, Azure OpenAI, or a fake)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

Embedding = tuple[float, ...]


class EmbeddingProvider(Protocol):
    @property
    def model_id(self) -> str:
        """Names the model and the vector size, e.g. `sentence-transformers/all-MiniLM-L6-v2@384`.
        Stored with every vector: vectors of different model ids are not comparable. Known
        without loading the model or calling a remote service."""
        ...

    @property
    def dimensions(self) -> int:
        ...

    async def embed_query(self, text: str) -> Embedding:
        """One unit-length vector for a search query. Raises domain.errors.EmbeddingServiceError
        when the provider fails (after its retries)."""
        ...

    async def embed_documents(self, texts: Sequence[str]) -> list[Embedding]:
        """Unit-length vectors for `texts`, in order; implementations batch internally."""
        ...

    async def warm_up(self) -> None:
        """Load what the first query would otherwise wait for (a local model); remote providers
        do nothing here."""
        ...

    async def aclose(self) -> None:
        """Release clients and connections."""
        ...
