"""semantic_search_products and the find_products prompt through a real MCP client (in
process), on the real database with the local model and on the in-memory wiring."""

from __future__ import annotations

from pathlib import Path

import pytest
from dependency_injector import providers
from mcp import Client

from adapters.demodata.reference import USERS
from domain.model import UserId
from entrypoints.container import Container, in_memory_container
from entrypoints.mcp.server import build_server
from entrypoints.settings import Settings
from ports.database_server import DatabaseEndpoints

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SEATTLE_MANAGER = UserId(USERS[0].user_id)
ARGUMENTS = {"query_description", "max_rows", "similarity_threshold", "category", "max_price",
             "in_stock_only"}


@pytest.fixture(params=["postgres", "memory"])
def container(request: pytest.FixtureRequest, tmp_path: Path) -> Container:
    settings = Settings(data_dir=tmp_path, pool_min=1, pool_max=2)
    if request.param == "memory":
        return in_memory_container(settings)
    database: DatabaseEndpoints = request.getfixturevalue("database")
    container = Container(settings=settings)
    container.database_endpoints.override(providers.Object(database))
    return container


async def test_the_tool_is_documented_with_the_spec_arguments(container: Container) -> None:
    async with Client(build_server(container, caller=lambda: SEATTLE_MANAGER)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    tool = tools["semantic_search_products"]
    assert set(tool.input_schema["properties"]) == ARGUMENTS
    assert tool.input_schema["required"] == ["query_description"]
    assert tool.annotations is not None
    assert tool.annotations.read_only_hint
    assert "cut branches" in (tool.description or "")
    assert "calibrated" in tool.input_schema["properties"]["similarity_threshold"]["description"]


async def test_searching_through_a_client(container: Container) -> None:
    async with Client(build_server(container, caller=lambda: SEATTLE_MANAGER)) as client:
        result = await client.call_tool("semantic_search_products", {
            "query_description": "pruning shears to cut branches", "max_rows": 5,
            "in_stock_only": True})
    assert not result.is_error, result.content
    content = result.structured_content
    assert content is not None
    assert 0 < content["row_count"] <= 5
    first = content["products"][0]
    assert first["product_type"] == "Pruning Tools"
    assert all(0 <= p["similarity"] <= 1 for p in content["products"])
    assert all(p["stock_at_your_stores"] > 0 for p in content["products"])
    assert content["mode"] == "hybrid"
    # listed in the order of the rank each carries (hybrid: not necessarily by similarity)
    assert [p["rank"] for p in content["products"]] == list(range(1, content["row_count"] + 1))


async def test_the_answer_says_what_similarity_and_rank_are(container: Container) -> None:
    async with Client(build_server(container, caller=lambda: SEATTLE_MANAGER)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    schema = tools["semantic_search_products"].output_schema
    assert schema is not None
    hit = schema["$defs"]["ProductHit"]["properties"]
    assert "cosine distance" in hit["similarity"]["description"]
    assert "rank also weighs matching words" in hit["similarity"]["description"]
    assert "1 = best match" in hit["rank"]["description"]
    assert next(iter(hit)) == "rank"


async def test_bad_input_is_a_validation_error(container: Container) -> None:
    async with Client(build_server(container, caller=lambda: SEATTLE_MANAGER)) as client:
        empty = await client.call_tool("semantic_search_products", {"query_description": " "})
        category = await client.call_tool("semantic_search_products", {
            "query_description": "hammer", "category": "Toys"})
    assert empty.is_error
    assert "VALIDATION_ERROR: query_description is empty" in empty.content[0].text
    assert category.is_error
    assert "unknown category 'Toys'" in category.content[0].text


async def test_find_products_prompt(container: Container) -> None:
    async with Client(build_server(container, caller=lambda: SEATTLE_MANAGER)) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        prompt = await client.get_prompt("find_products", {"need": "keep my basement dry"})
    assert prompts["find_products"].description
    text = prompt.messages[0].content.text  # type: ignore[union-attr]
    assert "keep my basement dry" in text
    assert "semantic_search_products" in text
