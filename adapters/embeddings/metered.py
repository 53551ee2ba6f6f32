"""An embedding provider that reports the latency of every call of the one it wraps.

The composition root wraps whichever provider it chose (local, openai, azure, or the fake), so
`zava_embedding_duration_seconds{provider}` counts query embeddings (each search, the health
probe) and document embeddings alike, and neither the domain nor the providers know about
metrics. A call counts once however many texts it carries (a provider's own batches are its
business); failed calls count too, with the time they took to fail.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ports.embeddings import Embedding, EmbeddingProvider
from ports.metrics import Metrics


class MeteredEmbeddingProvider(EmbeddingProvider):
    def __init__(self, inner: EmbeddingProvider, metrics: Metrics, provider: str) -> None:
        self.inner = inner
        self._metrics = metrics
        self._provider = provider

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimensions(self) -> int:
        return self.inner.dimensions

    async def embed_query(self, text: str) -> Embedding:
        started = time.perf_counter()
        try:
            return await self.inner.embed_query(text)
        finally:
            self._metrics.embedding(self._provider, time.perf_counter() - started)

    async def embed_documents(self, texts: Sequence[str]) -> list[Embedding]:
        started = time.perf_counter()
        try:
            return await self.inner.embed_documents(texts)
        finally:
            self._metrics.embedding(self._provider, time.perf_counter() - started)

    async def warm_up(self) -> None:
        await self.inner.warm_up()

    async def aclose(self) -> None:
        await self.inner.aclose()
