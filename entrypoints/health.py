"""Health of the three things a call depends on, reported separately: the database
(`SELECT 1` through the serving pool; "failed" at once while it refuses connections), the
embedding provider (one short query embedding, remembered for a minute so frequent probes
do not call a paid API each time) and the cache.

Only the database decides readiness: without it nothing works. A failed embedding provider
only stops semantic search, and a cache on its fallback still answers, so both make the status
"degraded" but the server stays ready. Hence, while the database is down, the embedding
provider is not asked: the answer is 503 whatever it says, and a local model takes 0.3-0.6 s
to embed on a loaded machine (1-3 s while it still loads after a start), which /health used
to wait for before answering 503 (bench/faults.py: 1.0-1.8 s instead of 0.06 s).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import anyio

from entrypoints.container import Container
from ports.embeddings import EmbeddingProvider

log = logging.getLogger("zava.health")

HEALTH_TIMEOUT_S = 3.0
EMBEDDINGS_PROBE_TTL_S = 60.0


@dataclass(frozen=True)
class Health:
    database: str
    embeddings: str
    cache: str

    @property
    def ready(self) -> bool:
        return database_ready(self.database)

    @property
    def status(self) -> str:
        parts = (self.database, self.embeddings, self.cache)
        if all(p in ("ok", "in-memory", "not configured") or p.startswith("ok ") for p in parts):
            return "ok"
        return "degraded" if self.ready else "failed"

    def as_dict(self) -> dict[str, str]:
        return {"status": self.status, "database": self.database,
                "embeddings": self.embeddings, "cache": self.cache}


def database_ready(state: str) -> bool:
    """Whether the database part of a report lets the server answer calls."""
    return state in ("ok", "in-memory")


def embedding_provider_of(container: Container) -> EmbeddingProvider | None:
    """The container's embedding provider, if this build wires one (product search)."""
    provider = getattr(container, "embedding_provider", None)
    return None if provider is None else provider()


class HealthChecker:
    def __init__(self, container: Container) -> None:
        self._container = container
        self._embeddings: tuple[float, str] | None = None

    async def check(self) -> Health:
        database = await self.database()
        embeddings = (await self.embeddings() if database_ready(database)
                      else self._embeddings_not_asked())
        return Health(database=database, embeddings=embeddings, cache=await self.cache())

    async def database(self) -> str:
        gateway = self._container.database_gateway()
        if gateway is None:
            return "in-memory"
        down_since = gateway.reachability.down_since
        if down_since is not None:  # known at once: no connection attempt to wait for
            return f"failed (refusing connections for {time.monotonic() - down_since:.0f} s)"
        try:
            with anyio.fail_after(HEALTH_TIMEOUT_S):
                await gateway.ping()
        except Exception as e:
            log.warning("health check: database failed (%s)", type(e).__name__)
            return "failed"
        return "ok"

    async def embeddings(self) -> str:
        now = time.monotonic()
        if self._embeddings is not None and self._embeddings[0] > now:
            return self._embeddings[1]
        provider = embedding_provider_of(self._container)
        if provider is None:
            return "not configured"
        try:
            with anyio.fail_after(HEALTH_TIMEOUT_S):
                await provider.embed_query("health check")
            answer = f"ok ({provider.model_id})"
        except TimeoutError:
            return "failed (no answer within 3 s; a local model may still be loading)"
        except Exception as e:
            log.warning("health check: embeddings failed (%s)", type(e).__name__)
            return f"failed ({type(e).__name__})"
        self._embeddings = (now + EMBEDDINGS_PROBE_TTL_S, answer)  # only successes are kept
        return answer

    def _embeddings_not_asked(self) -> str:
        """While the database is down: the last success if still fresh, else not checked."""
        if embedding_provider_of(self._container) is None:
            return "not configured"
        if self._embeddings is not None and self._embeddings[0] > time.monotonic():
            return self._embeddings[1]
        return "not checked (the database is down)"

    async def cache(self) -> str:
        try:
            with anyio.fail_after(HEALTH_TIMEOUT_S):
                return await self._container.cache_store().health()
        except Exception as e:
            log.warning("health check: cache failed (%s)", type(e).__name__)
            return f"failed ({type(e).__name__})"
