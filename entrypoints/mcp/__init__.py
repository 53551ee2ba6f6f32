"""The MCP edge: the server (`server.build_server`), the helpers every tool, resource and prompt
shares (`edge`), and one module per tool family."""
