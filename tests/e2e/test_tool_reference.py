"""The README's tool reference is what the server answers: each tool, resource and prompt with its
arguments and an example answer from a real call on the real database (tests/support/
tool_reference.py). ZAVA_WRITE_TOOL_REFERENCE=1 rewrites the README section instead."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dependency_injector import providers
from mcp import Client

from adapters.memory.clock import FixedClock
from domain.model import UserId
from entrypoints.container import Container
from entrypoints.mcp.server import build_server
from entrypoints.settings import Settings
from ports.database_server import DatabaseEndpoints
from tests.conftest import DEMO_ANCHOR
from tests.support.tool_reference import (
    CALLER,
    README,
    in_readme,
    without_timings,
    write_reference,
)

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def test_the_readme_tool_reference_is_what_the_server_answers(
    database: DatabaseEndpoints, tmp_path: Path
) -> None:
    container = Container(settings=Settings(data_dir=tmp_path, pool_min=1, pool_max=2))
    container.database_endpoints.override(providers.Object(database))
    container.clock.override(providers.Object(
        FixedClock(datetime.combine(DEMO_ANCHOR, datetime.min.time(), tzinfo=UTC)
                   .replace(hour=14, minute=5))))
    async with Client(build_server(container, caller=lambda: UserId(CALLER.user_id))) as client:
        generated = await write_reference(client)
    readme = README.read_text()
    if os.environ.get("ZAVA_WRITE_TOOL_REFERENCE") == "1":
        README.write_text(readme.replace(in_readme(readme), generated))
        return
    assert without_timings(in_readme(readme)) == without_timings(generated), (
        "the README's tool reference is out of date: run ZAVA_WRITE_TOOL_REFERENCE=1"
        " .venv/bin/python -m pytest tests/e2e/test_tool_reference.py"
    )
