"""semantic_search_products over stdio against the `zava-mcp serve` subprocess: the local model
loads inside the server process and the JSON-RPC wire on stdout stays clean."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from adapters.demodata.reference import USERS
from ports.database_server import DatabaseEndpoints

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def test_search_over_stdio(database: DatabaseEndpoints, data_dir: Path) -> None:
    env = {**os.environ, "ZAVA_DATA_DIR": str(data_dir), "ZAVA_USER_ID": str(USERS[0].user_id),
           "ZAVA_LOG_LEVEL": "WARNING"}
    env.pop("ZAVA_DATABASE_URL", None)
    params = StdioServerParameters(command=sys.executable, args=["-m", "entrypoints.cli", "serve"],
                                   env=env)
    async with Client(params, read_timeout_seconds=300) as client:
        result = await client.call_tool("semantic_search_products", {
            "query_description": "something to cut branches", "max_rows": 3})
        prompt = await client.get_prompt("find_products", {"need": "cut branches"})
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["products"][0]["product_type"] == "Pruning Tools"
    assert "semantic_search_products" in prompt.messages[0].content.text  # type: ignore[union-attr]
