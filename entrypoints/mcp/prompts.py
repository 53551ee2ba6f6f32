"""The MCP prompts: `analyze_store_performance` (the analytics tools in order) and
`find_products` (product search for a need in plain words).

No `from __future__ import annotations` here: the SDK reads the prompt signatures at runtime.
"""

from mcp.server.mcpserver import MCPServer

from domain.time_period import accepted_forms


def register_prompts(server: MCPServer) -> None:
    @server.prompt(title="Analyze store performance")
    def analyze_store_performance(store: str, time_period: str = "last_30_days") -> str:
        """Analyse how a store is doing over a period and recommend actions."""
        return (
            f"Analyse the performance of the Zava store \"{store}\" over the period "
            f"\"{time_period}\".\n\n"
            f"1. Call get_store_performance with store=\"{store}\" and"
            f" time_period=\"{time_period}\"."
            " Report revenue, orders, average order value and gross margin with their change"
            " vs the previous period, and explain the insights it lists.\n"
            f"2. Call get_sales_trend for the same store and period (granularity week, or day"
            " for periods under a month) and describe the shape: steady, rising, falling,"
            " spikes.\n"
            "3. Call get_top_products (by revenue, then by margin) and name what drives the"
            " results.\n"
            "4. Call get_inventory_alerts for the store and flag best sellers that may run out.\n"
            "5. If compare_stores shows more than one store, place this store among them.\n\n"
            "Finish with three concrete recommendations. Quote figures exactly as the tools"
            " return them (USD, completed orders only) and say which period they cover. If a"
            " tool answers AUTHORIZATION_ERROR, say the store is not one the user may see;"
            " if VALIDATION_ERROR, correct the argument as the message suggests. Accepted"
            f" periods: {accepted_forms()}."
        )

    @server.prompt(title="Find products for a need")
    def find_products(need: str) -> str:
        """Find the Zava products that fit a need described in plain words."""
        return (
            f"A customer needs: {need}\n\n"
            "Find the products in the Zava catalogue that fit this need. Call "
            "semantic_search_products with a short description of the need (add category, "
            "max_price or in_stock_only if the need implies them). Recommend the best two or "
            "three matches with their price, what each is for and the stock at my stores; if "
            "none fits well (low similarity), say so rather than forcing a match, and suggest "
            "how to rephrase."
        )
