"""Smoke test of the composition root: every provider of the in-memory wiring resolves, without
a database, a network or a model download."""

from __future__ import annotations

from pathlib import Path

import pytest
from dependency_injector import providers

from entrypoints.container import in_memory_container
from entrypoints.settings import Settings


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
