"""Smoke test of the composition root: every provider of the in-memory wiring resolves, without
a database, a network or a model download."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dependency_injector import providers

from adapters.demodata.reference import USERS
from domain.model import UserId
from entrypoints.container import in_memory_container
from entrypoints.settings import Settings

SEATTLE_MANAGER = UserId(USERS[0].user_id)


@pytest.mark.anyio
async def test_every_provider_resolves(tmp_path: Path) -> None:
    container = in_memory_container(Settings(data_dir=tmp_path))
    resolved = {}
    for name, provider in container.providers.items():
        if isinstance(provider, providers.Dependency):
            continue
        resolved[name] = provider()
    assert resolved["metrics"] is container.metrics()  # singletons
    assert resolved["sales_query_service"] is not None
    assert resolved["query_pool"] is None  # no database in this wiring
    await container.cache_store().close()


@pytest.mark.anyio
async def test_embedding_calls_are_timed_through_the_metrics(tmp_path: Path) -> None:
    container = in_memory_container(Settings(data_dir=tmp_path))
    await container.product_search_service().search(SEATTLE_MANAGER, "something to cut branches")
    body, _ = container.metrics().exposition()
    counts = re.findall(
        rb'^zava_embedding_duration_seconds_count\{provider="hashing"\} (\S+)$', body, re.M)
    assert counts == [b"1.0"]  # the query's embedding
    await container.cache_store().close()
