"""Shared by the search benchmarks: the search stack on a benchmark database, with the local
model's vectors built first (resumable: a second run embeds nothing)."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import ROOT

from adapters.demodata.loader import rich_progress
from adapters.embeddings.local import LocalEmbeddingProvider
from adapters.postgres.embedding_store import PsycopgProductEmbeddingStore
from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import make_query_pool
from adapters.postgres.product_search import PsycopgProductSearchRepository
from adapters.postgres.request_context import ContextSigner, read_context_key
from domain.services.embedding_index import EmbeddingIndexService
from domain.services.product_search import ProductSearchService
from ports.database_server import DatabaseEndpoints

EVAL_SET = ROOT / "tests" / "data" / "search_eval.json"


@dataclass
class SearchStack:
    service: ProductSearchService
    embedder: LocalEmbeddingProvider
    repository: PsycopgProductSearchRepository
    database: DatabaseGateway


def load_eval_set(path: Path = EVAL_SET) -> dict[str, Any]:
    return json.loads(path.read_text())


async def ensure_local_embeddings(endpoints: DatabaseEndpoints) -> LocalEmbeddingProvider:
    embedder = LocalEmbeddingProvider()
    index = EmbeddingIndexService(embedder, PsycopgProductEmbeddingStore(endpoints.admin_url),
                                  batch_size=256)
    pending, total = await index.pending()
    if pending:
        print(f"embedding {len(pending)} of {total} products (once)…", file=sys.stderr)
        with rich_progress() as progress:
            await index.build(progress)
    return embedder


@asynccontextmanager
async def search_stack(endpoints: DatabaseEndpoints) -> AsyncIterator[SearchStack]:
    embedder = await ensure_local_embeddings(endpoints)
    await embedder.warm_up()
    pool = make_query_pool(endpoints.query_url, min_size=1, max_size=2)
    await pool.open(wait=True)
    try:
        database = DatabaseGateway(pool, ContextSigner(read_context_key(endpoints.admin_url)),
                               statement_timeout_s=120)
        repository = PsycopgProductSearchRepository(database)
        yield SearchStack(ProductSearchService(embedder, repository), embedder, repository,
                          database)
    finally:
        await pool.close()
