"""A deterministic embedding provider for tests and the offline in-memory wiring.

Bag of words hashed into `dimensions` buckets with a sign (the "hashing trick"), unit length:
the same text always gives the same vector, texts that share words are similar and texts that
share none are orthogonal. No model, no network, no randomness.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

from ports.embeddings import Embedding, EmbeddingProvider

_WORD = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


class HashingEmbeddingProvider(EmbeddingProvider):
    def __init__(self, dimensions: int = 384, *, name: str = "hashing") -> None:
        self._dimensions = dimensions
        self._name = name
        self.calls = 0  # embedding requests served (tests check batching and laziness)
        self.closed = False

    @property
    def model_id(self) -> str:
        return f"fake/{self._name}@{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def vector(self, text: str) -> Embedding:
        values = [0.0] * self._dimensions
        for word in _WORD.findall(text.lower()):
            digest = hashlib.sha256(_stem(word).encode()).digest()
            bucket = int.from_bytes(digest[:4], "big") % self._dimensions
            values[bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in values))
        if norm == 0:
            values[0], norm = 1.0, 1.0
        return tuple(v / norm for v in values)

    async def embed_query(self, text: str) -> Embedding:
        self.calls += 1
        return self.vector(text)

    async def embed_documents(self, texts: Sequence[str]) -> list[Embedding]:
        self.calls += 1
        return [self.vector(t) for t in texts]

    async def warm_up(self) -> None:
        return None

    async def aclose(self) -> None:
        self.closed = True
