"""The edge every tool call passes: timing, metrics, the log line, audit and error translation.

Domain errors become a ToolError the model can act on ("VALIDATION_ERROR: ..."); anything
unexpected is logged with its traceback under the call's request id and reported without
internals. Every call, successful or rejected, is counted, logged in one INFO line and appended
to the audit log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TypeVar

from mcp.server.mcpserver.exceptions import ToolError

from domain.errors import AuthorizationError, ValidationError, ZavaError
from domain.model import QueryResult, ToolCallRecord, UserId
from ports.audit import AuditLog
from ports.metrics import Metrics

log = logging.getLogger("zava.tools")
T = TypeVar("T")


def argument_digest(arguments: Mapping[str, object]) -> str:
    canonical = json.dumps(arguments, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class ToolCallRunner:
    def __init__(self, audit: AuditLog, metrics: Metrics | None = None) -> None:
        self._audit = audit
        self._metrics = metrics

    async def run(
        self,
        tool: str,
        user_id: UserId | None,
        arguments: Mapping[str, object],
        call: Callable[[], Awaitable[T]],
    ) -> T:
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:12]
        outcome, error_code, result = "error", "MCP_ERROR", None
        try:
            result = await call()
            outcome, error_code = "ok", None
            return result
        except ZavaError as e:
            rejected = isinstance(e, ValidationError | AuthorizationError)
            outcome, error_code = ("rejected" if rejected else "error"), e.code
            raise ToolError(f"{e.code}: {e.message}") from e
        except Exception:
            log.exception("tool %s failed (incident %s)", tool, request_id)
            raise ToolError(f"MCP_ERROR: internal error (incident {request_id})") from None
        finally:
            duration_s = time.perf_counter() - started
            if self._metrics is not None:
                self._metrics.tool_call(tool, outcome, error_code, duration_s)
            if log.isEnabledFor(logging.INFO):
                _log_call(request_id, user_id, tool, duration_s, outcome, error_code, result)
            await self._audit.record(
                ToolCallRecord(
                    called_at=datetime.now(UTC),
                    user_id=user_id,
                    tool=tool,
                    argument_digest=argument_digest(arguments),
                    sql_fingerprint=result.fingerprint if isinstance(result, QueryResult) else None,
                    row_count=result.row_count if isinstance(result, QueryResult) else None,
                    duration_ms=round(duration_s * 1000, 3),
                    outcome=outcome,
                    error_code=error_code,
                )
            )


def _log_call(request_id: str, user_id: UserId | None, tool: str, duration_s: float,
              outcome: str, error_code: str | None, result: object) -> None:
    """The one INFO line per tool call. SQL only as its fingerprint (literals replaced)."""
    duration_ms = round(duration_s * 1000, 3)
    fields: dict[str, object] = {
        "request_id": request_id, "user_id": None if user_id is None else str(user_id),
        "tool": tool, "duration_ms": duration_ms, "outcome": outcome, "error_code": error_code,
    }
    if isinstance(result, QueryResult):
        fields["sql_fingerprint"] = result.fingerprint
        fields["row_count"] = result.row_count
    log.info("%s %s %.1f ms user=%s request=%s%s", tool, outcome, duration_ms, user_id,
             request_id, f" error={error_code}" if error_code else "", extra=fields)
