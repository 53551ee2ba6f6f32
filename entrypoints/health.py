"""Health of the three things a call depends on, reported separately: the database
(`SELECT 1` through the serving pool; "failed" at once while it refuses connections), the
embedding provider and the cache.

Only the database decides readiness: without it nothing works. A failed embedding provider
only stops semantic search, and a cache on its fallback still answers, so both make the status
"degraded" but the server stays ready.

The embedding provider is checked with one short query embedding, in the background: a probe
reports the last known state and waits at most EMBEDDINGS_PROBE_WAIT_S for a check it finds
under way. /health used to wait for the embedding, up to HEALTH_TIMEOUT_S, and a local model
takes 0.3-0.6 s to embed on a loaded machine and seconds to load after a start (one check per
worker; 25-40 s with two workers on two busy cores): a load balancer's or Kubernetes' 1-2 s
probe timeout would have marked a starting server down. A success is reported for
EMBEDDINGS_PROBE_TTL_S after the check that found it began, never longer (so a provider that
breaks is reported within that window), and re-checked once it is EMBEDDINGS_REFRESH_AFTER_S
old so that probes every few seconds keep seeing a fresh one; frequent probes do not call a
paid API each time. A failure is reported until a later check succeeds, and each probe that
finds one starts that check. While the database is down no check is started: the answer is
503 whatever the provider says. A check first waits for the provider's warm_up (a local
model's load; probes say "loading" meanwhile), outside the query embedding's timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import anyio

from entrypoints.container import Container
from ports.embeddings import EmbeddingProvider

log = logging.getLogger("zava.health")

HEALTH_TIMEOUT_S = 3.0
EMBEDDINGS_PROBE_TTL_S = 60.0
EMBEDDINGS_REFRESH_AFTER_S = 45.0
EMBEDDINGS_CHECK_TIMEOUT_S = 30.0  # one query embedding once loaded; a remote API's own timeout
# A local model's first load (warm_up) is waited for apart from the check's timeout: on a busy
# machine importing its libraries alone has taken 1-3 min, and a load that outlasted the check's
# 30 s used to be reported as a failed provider
EMBEDDINGS_LOAD_TIMEOUT_S = 600.0
EMBEDDINGS_PROBE_WAIT_S = 0.1  # a provider that answers this fast is reported by this probe


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


@dataclass(frozen=True)
class EmbeddingsCheck:
    """A finished check of the embedding provider: `ok (MODEL_ID)` or `failed (WHY)`."""

    state: str
    started: float  # time.monotonic(): an ok is as old as the moment it was asked

    def reportable(self, now: float) -> bool:
        """A failure until a later check replaces it, a success within its window."""
        return not self.state.startswith("ok") or now - self.started < EMBEDDINGS_PROBE_TTL_S

    def due(self, now: float) -> bool:
        """Whether a probe should start the next check."""
        return not self.state.startswith("ok") or now - self.started >= EMBEDDINGS_REFRESH_AFTER_S


class HealthChecker:
    def __init__(self, container: Container) -> None:
        self._container = container
        self._last_check: EmbeddingsCheck | None = None
        self._running: asyncio.Task[None] | None = None
        self._running_since = 0.0
        self._loading = False  # the check under way waits for the provider's warm_up

    async def check(self, *, wait_for_embeddings: bool = False) -> Health:
        """The report a probe gets. `wait_for_embeddings` (the one-shot `zava-mcp health`):
        wait for the embeddings check to finish instead of reporting it as under way."""
        database = await self.database()
        if database_ready(database):
            embeddings = await self.embeddings(
                None if wait_for_embeddings else EMBEDDINGS_PROBE_WAIT_S)
        else:
            embeddings = self._embeddings_not_asked()
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

    async def embeddings(self, wait_s: float | None = EMBEDDINGS_PROBE_WAIT_S) -> str:
        """The last known state, after starting a check if one is due and waiting up to
        `wait_s` (None: until it ends, at most EMBEDDINGS_CHECK_TIMEOUT_S) for the check
        under way."""
        provider = embedding_provider_of(self._container)
        if provider is None:
            return "not configured"
        last = self._last_check
        if self._running is None and (last is None or last.due(time.monotonic())):
            self._running_since = time.monotonic()
            self._running = asyncio.get_running_loop().create_task(
                self._check_embeddings(provider))
        if self._running is not None:
            await asyncio.wait({self._running}, timeout=wait_s)  # the check goes on regardless
        return self._known_embeddings() or self._under_way()

    def _embeddings_not_asked(self) -> str:
        """While the database is down: the last known state, else not checked."""
        if embedding_provider_of(self._container) is None:
            return "not configured"
        return self._known_embeddings() or "not checked (the database is down)"

    def _known_embeddings(self) -> str | None:
        last = self._last_check
        return last.state if last is not None and last.reportable(time.monotonic()) else None

    def _under_way(self) -> str:
        asked_s = time.monotonic() - self._running_since
        if self._loading:
            return f"loading (the model is loading, asked {asked_s:.0f} s ago)"
        return f"checking (no answer yet, asked {asked_s:.0f} s ago)"

    async def _check_embeddings(self, provider: EmbeddingProvider) -> None:
        started = time.monotonic()
        try:
            state = await self._loaded(provider)
            if state is None:
                started = time.monotonic()  # an ok is as old as its query, not the load
                with anyio.fail_after(EMBEDDINGS_CHECK_TIMEOUT_S):
                    await provider.embed_query("health check")
                state = f"ok ({provider.model_id})"
        except TimeoutError:
            state = f"failed (no answer within {EMBEDDINGS_CHECK_TIMEOUT_S:.0f} s)"
        except Exception as e:
            log.warning("health check: embeddings failed (%s)", type(e).__name__)
            state = f"failed ({type(e).__name__})"
        finally:
            self._running = None
        self._last_check = EmbeddingsCheck(state, started)

    async def _loaded(self, provider: EmbeddingProvider) -> str | None:
        """Wait for the provider's warm_up (a local model's load; nothing for a remote API, and
        at once once loaded): None when it is done, else the failure to report."""
        self._loading = True
        try:
            with anyio.fail_after(EMBEDDINGS_LOAD_TIMEOUT_S):
                await provider.warm_up()
        except TimeoutError:
            return f"failed (the model did not load within {EMBEDDINGS_LOAD_TIMEOUT_S:.0f} s)"
        finally:
            self._loading = False
        return None

    async def cache(self) -> str:
        try:
            with anyio.fail_after(HEALTH_TIMEOUT_S):
                return await self._container.cache_store().health()
        except Exception as e:
            log.warning("health check: cache failed (%s)", type(e).__name__)
            return f"failed ({type(e).__name__})"
