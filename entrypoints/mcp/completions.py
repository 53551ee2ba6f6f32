"""`completion/complete` (MCP completions utility): argument suggestions for the resource template
and the prompts, registered by build_server (entrypoints/mcp/server.py).

- `zava://schema/{table}`, argument `table`: the retail tables a model may query;
- prompt `analyze_store_performance`, argument `store`: the stores the caller may see (never
  another tenant's: the caller is resolved per request, as for tools), and `time_period`: the named
  periods, or the year, quarter and month forms once a year is typed;
- anything else (free-text arguments such as `find_products`' `need`, unknown prompts): no
  suggestions, an empty list (not an error), as the protocol asks.

Values are matched case-insensitively on a prefix and capped at the protocol's 100.
"""

from collections.abc import Callable, Iterable, Sequence

from mcp.server.mcpserver import MCPServer
from mcp.types import (
    Completion,
    CompletionArgument,
    CompletionContext,
    PromptReference,
    ResourceTemplateReference,
)

from domain.errors import ZavaError
from domain.model import UserId
from domain.services.sales_analytics import normalise_store_text
from domain.time_period import NAMED_FORMS
from entrypoints.container import Container

MAX_VALUES = 100  # the protocol's cap per response
SCHEMA_TEMPLATE = "zava://schema/{table}"
STORE_PROMPT = "analyze_store_performance"


def completion_of(values: Sequence[str]) -> Completion:
    return Completion(values=list(values[:MAX_VALUES]), total=len(values),
                      has_more=len(values) > MAX_VALUES)


def complete_table(value: str, tables: Iterable[str]) -> list[str]:
    """Tables whose name starts with `value` (any case, "retail." prefix optional)."""
    key = value.strip().strip('"').casefold().removeprefix("retail.")
    return sorted(t for t in tables if t.startswith(key))


def complete_period(value: str) -> list[str]:
    """Named periods starting with `value`; after four digits, that year's forms (YYYY, YYYY-Qn,
    YYYY-MM). A range (`..`) is left to the user."""
    key = value.strip().casefold()
    year = key[:4]
    if len(year) == 4 and year.isdigit():
        forms = [year, *(f"{year}-q{q}" for q in range(1, 5)),
                 *(f"{year}-{m:02d}" for m in range(1, 13))]
        return [f.upper() if "-q" in f else f for f in forms if f.startswith(key)]
    return [p for p in NAMED_FORMS if p.startswith(key)]


def complete_store(value: str, stores: Iterable[tuple[str, str]]) -> list[str]:
    """Names of the `(name, city)` stores whose name (without "Zava Retail") or city starts with
    `value`, as the store argument accepts them."""
    key = normalise_store_text(value)
    return sorted(name for name, city in stores
                  if normalise_store_text(name).startswith(key)
                  or normalise_store_text(city).startswith(key))


def register_completions(
    server: MCPServer, container: Container, caller: Callable[[], UserId | None]
) -> None:
    async def visible_stores(value: str) -> list[str]:
        user_id = caller()
        if user_id is None:
            return []
        try:
            scope = await container.identity_service().whoami(user_id)
        except ZavaError:
            return []  # an unknown user completes nothing; the tools say why
        return complete_store(value, ((s.name, s.city) for s in scope.stores))

    @server.completion()  # type: ignore[no-untyped-call, untyped-decorator]  # unannotated in the SDK
    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        if isinstance(ref, ResourceTemplateReference):
            if ref.uri == SCHEMA_TEMPLATE and argument.name == "table":
                tables = container.schema_catalog().exposed_tables()
                return completion_of(complete_table(argument.value, tables))
            return None
        if ref.name == STORE_PROMPT:
            if argument.name == "store":
                return completion_of(await visible_stores(argument.value))
            if argument.name == "time_period":
                return completion_of(complete_period(argument.value))
        return None
