"""Cache adapters: in memory, Redis, and Redis with an in-memory fallback."""
