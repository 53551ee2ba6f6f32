"""The MCP tool of product search, `semantic_search_products`, and the embedding model's
lifetime in the server (loaded in the background at start, closed at stop).

No `from __future__ import annotations` here: the SDK reads the tool signatures at runtime.
"""

import asyncio
import contextlib
import gc
import logging
from typing import Annotated

from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from domain.model import ProductSearchResult
from domain.services.product_search import MAX_QUERY_CHARS, MAX_ROWS_CAP, default_threshold
from entrypoints.container import Container
from entrypoints.mcp.edge import CallerResolver, Rows, ToolShelf, known
from entrypoints.mcp.tool_calls import ToolCallRunner
from ports.embeddings import EmbeddingProvider

log = logging.getLogger("zava.search")

CATEGORIES_HINT = (
    "Hand Tools, Power Tools, Paint & Finishes, Hardware, Lumber & Building Materials, "
    "Electrical, Plumbing, Garden & Outdoor, Storage & Organization"
)


class ProductHit(BaseModel):
    rank: int = Field(description="1 = best match; the products are listed in this order, the"
                      " search mode's ranking (see mode)")
    sku: str
    name: str
    category: str
    product_type: str
    price: float = Field(description="list price, USD")
    similarity: float = Field(description="vector similarity of the product's description to the"
                              " request (1 - cosine distance of their embeddings), 0..1; in"
                              " hybrid mode the rank also weighs matching words, so a product"
                              " can rank above one with a higher similarity")
    stock_at_your_stores: int = Field(description="units in stock at the stores you may see")
    description: str


class ProductSearchResults(Rows):
    ROWS = "products"
    NARROW = "Ask for fewer products (max_rows) or raise similarity_threshold."

    products: list[ProductHit] = Field(description="in rank order, best match first")
    row_count: int
    mode: str = Field(description="how the products are ranked: hybrid (reciprocal rank fusion"
                      " of the vector and the full-text ranking), vector (similarity alone) or"
                      " full_text (word matches alone)")
    similarity_threshold: float = Field(description="products below this similarity are left"
                                        " out")


def to_product_search_results(result: ProductSearchResult) -> ProductSearchResults:
    return ProductSearchResults(
        products=[
            ProductHit(rank=rank, sku=p.sku, name=p.name, category=p.category,
                       product_type=p.product_type, price=float(p.base_price),
                       similarity=p.similarity, stock_at_your_stores=p.stock_units,
                       description=p.description)
            for rank, p in enumerate(result.products, start=1)
        ],
        row_count=result.row_count,
        mode=result.mode.value,
        similarity_threshold=result.threshold,
    )


class EmbeddingLifetime:
    """Loads the embedding model in the background when the server starts (so the first search
    does not wait for it) and closes the provider's clients when it stops."""

    def __init__(self, provider: EmbeddingProvider) -> None:
        self._provider = provider
        self._warm_up = asyncio.get_running_loop().create_task(self._load())

    async def _load(self) -> None:
        try:
            await self._provider.warm_up()
        except Exception:  # the first search reports it to the client
            log.warning("could not load the embedding model", exc_info=True)
        # Start-up is over (imports, wiring, pool, model): what exists now lives as long as the
        # process. The local model alone brings ~500k Python objects that every full
        # collection would walk (~270 ms with the event loop stopped, the p99 of a busy
        # server); frozen, the collector skips them all from now on.
        gc.freeze()

    async def close(self) -> None:
        self._warm_up.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._warm_up
        await self._provider.aclose()


def add_search_tools(
    tools: ToolShelf, container: Container, caller: CallerResolver, runner: ToolCallRunner
) -> None:
    embedding = container.embedding_settings()
    model_id = container.embedding_provider().model_id
    threshold = default_threshold(model_id, embedding.search_threshold)

    @tools.add
    async def semantic_search_products(
        query_description: Annotated[str, Field(
            description="What is needed, in plain words (a need, a use or a product), e.g. "
            "\"something to cut branches\" or \"paint for a steamy bathroom\"; at most "
            f"{MAX_QUERY_CHARS} characters.")],
        max_rows: Annotated[int, Field(
            description=f"Most products to return (1..{MAX_ROWS_CAP}).")] = 20,
        similarity_threshold: Annotated[float | None, Field(
            description="Minimum similarity 0..1 of a product to the request. Default "
            f"{threshold:g}, calibrated for the embedding model; lower it to see weaker "
            "matches, raise it for only close ones.")] = None,
        category: Annotated[str | None, Field(
            description=f"Only this category: {CATEGORIES_HINT}.")] = None,
        max_price: Annotated[float | None, Field(
            description="Only products whose list price is at most this, in USD.")] = None,
        in_stock_only: Annotated[bool, Field(
            description="Only products with stock at one of the stores you may see.")] = False,
    ) -> Annotated[CallToolResult, ProductSearchResults]:
        """Find Zava products by what they are for, not only by their exact name: "something
        to cut branches" finds pruning shears and loppers. Combines meaning (vector
        embeddings) with keywords. Products come in rank order (rank 1 first), each with its
        vector similarity in [0, 1], its list price and the stock at the stores the signed-in
        user may see. Use it before writing SQL about a kind of product, to learn the exact
        product names and SKUs."""
        user_id = caller()
        arguments = {
            "query_description": query_description, "max_rows": max_rows,
            "similarity_threshold": similarity_threshold, "category": category,
            "max_price": max_price, "in_stock_only": in_stock_only,
        }
        service = container.product_search_service()
        return await runner.answer(
            "semantic_search_products", user_id, arguments,
            lambda: service.search(
                known(user_id), query_description, max_rows=max_rows,
                similarity_threshold=similarity_threshold, category=category,
                max_price=max_price, in_stock_only=in_stock_only,
            ),
            to_product_search_results,
        )
