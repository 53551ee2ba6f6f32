"""Bearer-token adapters: JWT verification and local token minting (pure pyjwt, no MCP)."""
