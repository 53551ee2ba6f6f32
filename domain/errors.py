"""Domain errors: the seed's error hierarchy. Each carries a stable machine-readable code.

Messages are written for the model (and the human) reading them: they say what was wrong and
what is accepted, and never carry connection strings, stack traces or another tenant's data.
"""

from __future__ import annotations


class ZavaError(Exception):
    """Base of every error the product reports to a client."""

    code = "MCP_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(ZavaError):
    """The caller's input is malformed or outside what is accepted."""

    code = "VALIDATION_ERROR"


class AuthorizationError(ZavaError):
    """The caller may not see what they asked for (or is not a known user)."""

    code = "AUTHORIZATION_ERROR"


class UnknownUserError(AuthorizationError):
    """The identity presented is not a user of this server."""


class DatabaseError(ZavaError):
    """The database refused or failed the request."""

    code = "DATABASE_ERROR"


class QueryTimeoutError(DatabaseError):
    """The query ran longer than the configured statement timeout."""

    code = "QUERY_TIMEOUT"


class ServiceUnavailableError(DatabaseError):
    """The database is unreachable or the server has no free connection: temporary, so the
    message says so and when to retry (`retry_after_s`)."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str, *, retry_after_s: float = 1.0) -> None:
        super().__init__(f"{message}; this is temporary: retry in {retry_after_s:g} s")
        self.retry_after_s = retry_after_s


class RateLimitedError(ZavaError):
    """The caller already has as much database work in flight as one user may: their other
    calls go on; this one may be retried once one of them finished (`retry_after_s`)."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_s: float = 1.0) -> None:
        super().__init__(f"{message}; retry in {retry_after_s:g} s")
        self.retry_after_s = retry_after_s


class ConfigurationError(ZavaError):
    """A setting, CLI flag or deployment fact is wrong; the message names it."""

    code = "CONFIGURATION_ERROR"


class EmbeddingModelMismatchError(ConfigurationError):
    """The stored product vectors were made by another embedding model than the query's."""


class EmbeddingServiceError(ZavaError):
    """The embedding provider failed (after retries); retrying later may succeed."""
