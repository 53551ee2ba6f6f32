"""The MCP server: its tools (one module per family), resources and prompts over the domain
services, the protocol utilities (completions, logging, argument errors) and the lifespan.

Tools are thin: resolve the caller, call a service through the ToolCallRunner (audit + error
translation), map the result. Identity never comes from tool arguments; the CallerResolver
decides it (the configured user on stdio, the verified bearer token over HTTP).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from mcp.server._otel import OpenTelemetryMiddleware
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from opentelemetry import trace

from entrypoints.container import Container
from entrypoints.mcp.analytics_tools import add_analytics_tools
from entrypoints.mcp.argument_errors import ArgumentErrors
from entrypoints.mcp.client_logging import register_client_logging
from entrypoints.mcp.completions import register_completions
from entrypoints.mcp.edge import CallerResolver, ToolShelf
from entrypoints.mcp.identity_tools import add_identity_tools
from entrypoints.mcp.prompts import register_prompts
from entrypoints.mcp.query_tools import add_query_tools
from entrypoints.mcp.resources import register_resources
from entrypoints.mcp.search_tools import EmbeddingLifetime, add_search_tools
from entrypoints.mcp.tool_calls import ToolCallRunner

INSTRUCTIONS = (
    "Zava Retail analytics over PostgreSQL. Every answer is limited by the database to the "
    "stores the signed-in user may see; call whoami to learn which. Before writing SQL for "
    "execute_sales_query, read the tables with get_multiple_table_schemas. Dates are UTC; use "
    "get_current_utc_date to anchor relative periods."
)


def _server_version() -> str:
    try:
        return version("zava-retail-mcp")
    except PackageNotFoundError:
        return "0.0.0"


def build_server(
    container: Container,
    caller: CallerResolver,
    *,
    auth: AuthSettings | None = None,
    token_verifier: TokenVerifier | None = None,
) -> MCPServer:
    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[Container]:
        gateway = container.database_gateway()
        if gateway is not None:
            await gateway.open(timeout_s=30)
            # the functions' volatility marks, which decide what the result cache may keep:
            # read once, at start, not on the first call that needs them
            await container.function_volatility().immutable_functions()
            # audit records a crashed predecessor spooled during an outage: written now
            await container.audit_log().flush()
        access_changes = container.access_change_listener()
        await access_changes.start()
        container.metrics().start()
        embeddings = EmbeddingLifetime(container.embedding_provider())
        try:
            yield container
        finally:
            await access_changes.stop()
            await embeddings.close()
            await container.audit_log().close()
            await container.cache_store().close()
            if gateway is not None:
                await gateway.close()
            await container.metrics().close()

    runner = ToolCallRunner(container.audit_log(), container.metrics(),
                            container.settings().answer_max_bytes)
    tools = ToolShelf()
    for add_family in (add_identity_tools, add_query_tools, add_analytics_tools, add_search_tools):
        add_family(tools, container, caller, runner)
    server = MCPServer(
        "zava-retail", version=_server_version(), instructions=INSTRUCTIONS, lifespan=lifespan,
        auth=auth, token_verifier=token_verifier, tools=tools.tools,
    )
    register_resources(server, container, caller)
    register_prompts(server)
    register_completions(server, container, caller)
    register_client_logging(server)
    # inside the outcome log (the last middleware added runs innermost), so it reports the
    # clear message
    server.middleware.append(ArgumentErrors(server, runner, caller))
    _drop_inert_tracing(server)
    return server


def _drop_inert_tracing(server: MCPServer) -> None:
    """The SDK wraps every request in an OpenTelemetry span (its first middleware). With no
    tracer provider configured when the server is built (only opentelemetry-api is installed,
    no SDK, no exporter), each span records nothing yet costs ~20-40 us of the request: a
    trace-context extraction, attribute dicts, context attach and detach. The SDK documents
    dropping the middleware as the way to opt out. A provider set before the server is built
    (`opentelemetry-instrument zava-mcp serve ...`) keeps the spans."""
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        server.middleware[:] = [
            m for m in server.middleware if not isinstance(m, OpenTelemetryMiddleware)
        ]

