"""The edge every tool call passes: timing, metrics, the log line, audit, the answer and the one
error translation (edge.outcome_of).

A domain error becomes an is_error answer the model can act on ("VALIDATION_ERROR: ..."); anything
unexpected is logged with its traceback under the call's incident id and reported without
internals. Every call, successful or rejected, is counted, logged in one INFO line and appended
to the audit log, and its Outcome is published for the client's log notification.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TypeVar

from mcp.types import CallToolResult
from pydantic import BaseModel

from domain.errors import ZavaError
from domain.model import QueryResult, ToolCallRecord, UserId
from entrypoints.mcp.edge import (
    DEFAULT_ANSWER_MAX_BYTES,
    OK,
    Outcome,
    compact_answer,
    error_answer,
    new_incident_id,
    outcome_of,
    publish_outcome,
    with_truncation,
)
from ports.audit import AuditLog
from ports.metrics import Metrics

log = logging.getLogger("zava.tools")
T = TypeVar("T")


def argument_digest(arguments: Mapping[str, object]) -> str:
    canonical = json.dumps(arguments, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class ToolCallRunner:
    def __init__(self, audit: AuditLog, metrics: Metrics | None = None,
                 answer_max_bytes: int = DEFAULT_ANSWER_MAX_BYTES) -> None:
        self._audit = audit
        self._metrics = metrics
        self._answer_max_bytes = answer_max_bytes

    def reply(self, answer: BaseModel) -> CallToolResult:
        """An answer that needs no service call (and no audit): compact, within the budget."""
        return compact_answer(answer, self._answer_max_bytes)[0]

    async def answer(
        self,
        tool: str,
        user_id: UserId | None,
        arguments: Mapping[str, object],
        call: Callable[[], Awaitable[T]],
        present: Callable[[T], BaseModel],
    ) -> CallToolResult:
        """Ask the service (`call`), write its result as the tool's answer (`present`), and
        account for the call; a failure is an is_error answer, never an exception."""
        started = time.perf_counter()
        incident = new_incident_id()
        outcome, result = OK, None
        try:
            result = await call()
            answer, cut = compact_answer(present(result), self._answer_max_bytes)
            outcome = with_truncation(outcome, cut or getattr(result, "truncated", False) is True)
        except Exception as e:
            outcome = outcome_of(e, incident)
            answer = error_answer(outcome)
        except BaseException:  # cancelled: still counted, logged and audited
            publish_outcome(outcome)
            await self._account(tool, user_id, arguments, incident, started, outcome, result)
            raise
        unaudited = await self._account(tool, user_id, arguments, incident, started, outcome,
                                        result)
        if unaudited is not None:
            outcome, answer = unaudited, error_answer(unaudited)
        publish_outcome(outcome)
        return answer

    async def refused(self, tool: str, user_id: UserId | None, arguments: Mapping[str, object],
                      outcome: Outcome, started: float) -> Outcome:
        """A call refused before its tool ran (its arguments did not fit the schema): counted,
        logged, audited and published like any other. Returns the outcome to answer with: the
        refusal, or why it could not be audited."""
        unaudited = await self._account(tool, user_id, arguments, new_incident_id(), started,
                                        outcome, None)
        outcome = unaudited or outcome
        publish_outcome(outcome)
        return outcome

    async def _account(self, tool: str, user_id: UserId | None, arguments: Mapping[str, object],
                       incident: str, started: float, outcome: Outcome, result: object
                       ) -> Outcome | None:
        """Count, log and audit the call; None once audited, else the outcome to answer with
        instead: a call the audit log could not take is not answered (it would be an answered
        call missing from the trail), and says why without internals."""
        duration_s = time.perf_counter() - started
        if self._metrics is not None:
            self._metrics.tool_call(tool, outcome.status, outcome.error_code, duration_s)
        if log.isEnabledFor(logging.INFO):
            _log_call(incident, user_id, tool, duration_s, outcome, result)
        query = result if isinstance(result, QueryResult) else None
        try:
            await self._record(tool, user_id, arguments, duration_s, outcome, query)
        except ZavaError as e:
            return outcome_of(e, incident)
        return None

    async def _record(self, tool: str, user_id: UserId | None, arguments: Mapping[str, object],
                      duration_s: float, outcome: Outcome, query: QueryResult | None) -> None:
        await self._audit.record(
            ToolCallRecord(
                called_at=datetime.now(UTC),
                user_id=user_id,
                tool=tool,
                argument_digest=argument_digest(arguments),
                sql_fingerprint=None if query is None else query.fingerprint,
                row_count=None if query is None else query.row_count,
                duration_ms=round(duration_s * 1000, 3),
                outcome=outcome.status,
                error_code=outcome.error_code,
            )
        )


def _log_call(request_id: str, user_id: UserId | None, tool: str, duration_s: float,
              outcome: Outcome, result: object) -> None:
    """The one INFO line per tool call. SQL only as its fingerprint (literals replaced)."""
    duration_ms = round(duration_s * 1000, 3)
    error_code = outcome.error_code
    fields: dict[str, object] = {
        "request_id": request_id, "user_id": None if user_id is None else str(user_id),
        "tool": tool, "duration_ms": duration_ms, "outcome": outcome.status,
        "error_code": error_code,
    }
    if isinstance(result, QueryResult):
        fields["sql_fingerprint"] = result.fingerprint
        fields["row_count"] = result.row_count
    log.info("%s %s %.1f ms user=%s request=%s%s", tool, outcome.status, duration_ms, user_id,
             request_id, f" error={error_code}" if error_code else "", extra=fields)
