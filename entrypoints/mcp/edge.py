"""What every tool, resource and prompt of the MCP edge shares: who the caller is, how a tool is
registered (read-only, strict arguments), the one way an error becomes an answer (`outcome_of`),
what became of a tool call as data (`Outcome`, heard by the client-logging middleware), and how an
answer is written (`compact_answer`: compact JSON within the byte budget).

No `from __future__ import annotations` here: the SDK reads the signatures at runtime.
"""

import json
import logging
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal, TypeVar

from mcp.server.mcpserver.exceptions import ResourceError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from domain.errors import AuthorizationError, ValidationError, ZavaError
from domain.model import UserId

log = logging.getLogger("zava.tools")
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

CallerResolver = Callable[[], UserId | None]

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
DEFAULT_ANSWER_MAX_BYTES = 32_768


class StoreInfo(BaseModel):
    store_id: str
    store: str = Field(description="the store's name, as the tools' store argument takes it and"
                       " as their answers name it")
    city: str
    is_online: bool
    region: str


class ToolShelf:
    """The tools of one server, collected before it is built (`MCPServer(tools=...)`): every
    tool is read-only and strict about its arguments."""

    def __init__(self) -> None:
        self.tools: list[Tool] = []

    def add(self, fn: F) -> F:
        self.tools.append(strict(Tool.from_function(fn, annotations=READ_ONLY)))
        return fn


def strict(tool: Tool) -> Tool:
    """The tool with an input schema that rejects unknown names (`additionalProperties: false`)
    and arguments validated the same way. The SDK's argument model ignores names it does not
    know, so a misspelt optional argument ("timeperiod") used to be dropped silently and the call
    answered for the default; now it fails validation, and ArgumentErrors names the argument
    meant."""
    loose = tool.fn_metadata.arg_model
    forbidding: type[ArgModelBase] = type(loose.__name__, (loose,), {
        "model_config": ConfigDict(extra="forbid"), "__module__": loose.__module__,
    })
    tool.fn_metadata.arg_model = forbidding
    tool.parameters = forbidding.model_json_schema(by_alias=True)
    return tool


def known(user_id: UserId | None) -> UserId:
    """The caller, or an AuthorizationError (reported like any other refusal) if there is none."""
    if user_id is None:
        raise AuthorizationError("no authenticated user")
    return user_id


# --- outcomes: what became of a call, as data ---------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """What became of one tool call or resource read. The audit record, the metrics, the log line
    and the client's log notification all read these fields; nothing parses them back from the
    answer's text."""

    status: Literal["ok", "rejected", "error"]
    error_code: str | None = None
    message: str | None = None
    truncated: bool = False

    @property
    def text(self) -> str:
        """What the client reads for a failure: "CODE: message"."""
        return f"{self.error_code}: {self.message}"


OK = Outcome("ok")


def outcome_of(error: Exception, incident: str) -> Outcome:
    """The one translation of an error for the client, for tools and resources alike: a domain
    error keeps its code and message (the caller's mistake or refusal is "rejected"); anything
    else is logged with its traceback under the incident id and reported without internals."""
    if isinstance(error, ZavaError):
        rejected = isinstance(error, ValidationError | AuthorizationError)
        return Outcome("rejected" if rejected else "error", error.code, error.message)
    log.error("incident %s: %s", incident, type(error).__name__, exc_info=error)
    return Outcome("error", "MCP_ERROR", f"internal error (incident {incident})")


def new_incident_id() -> str:
    return os.urandom(6).hex()  # 12 random hex digits, as uuid4().hex[:12] without the UUID


class OutcomeListener:
    """Receives the outcome of the tool call made while it listens (see `listen_for_outcome`)."""

    outcome: Outcome | None = None


_listener: ContextVar[OutcomeListener | None] = ContextVar("zava_outcome_listener", default=None)


@contextmanager
def listen_for_outcome() -> Iterator[OutcomeListener]:
    """Hear the outcome that `publish_outcome` reports during this block (a middleware wraps the
    tools/call it passes on). The listener is one object shared with any task the call starts."""
    listener = OutcomeListener()
    token = _listener.set(listener)
    try:
        yield listener
    finally:
        _listener.reset(token)


def publish_outcome(outcome: Outcome) -> None:
    listener = _listener.get()
    if listener is not None:
        listener.outcome = outcome


def error_answer(outcome: Outcome) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=outcome.text)], is_error=True)


async def read_resource(call: Callable[[], Awaitable[T]]) -> T:
    """A resource's answer, or its failure translated like a tool's (`outcome_of`)."""
    try:
        return await call()
    except Exception as e:
        raise ResourceError(outcome_of(e, new_incident_id()).text) from e


# --- answers: compact JSON within a byte budget -------------------------------------------------

class Rows(BaseModel):
    """An answer built around one list (`ROWS`) that is cut when the answer would not fit the byte
    budget, with `NARROW` telling the model how to ask for less."""

    ROWS: ClassVar[str]
    NARROW: ClassVar[str]
    # fields written after the rows, and only when set (no "note":null in every answer)
    TAIL: ClassVar[tuple[str, ...]] = ("note",)

    truncated: bool = Field(False, description="true if rows were left out; the note says why")
    note: str | None = Field(None, description="present when rows were left out: why, and how to"
                             " narrow the question")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def compact_answer(model: BaseModel, max_bytes: int) -> tuple[CallToolResult, bool]:
    """The tool result for an answer: its structured content, and the same JSON written compactly
    as the text the model reads. A `Rows` answer longer than `max_bytes` keeps as many rows as fit,
    with truncated=true and a note; returns whether rows were cut."""
    data = model.model_dump(mode="json")
    if isinstance(model, Rows):
        # after the rows (Rows' own fields would come first), and the note only when rows were
        # cut: no "note":null in every answer
        tail = {"truncated": data.pop("truncated"), **{k: data.pop(k) for k in model.TAIL}}
        data.update((k, v) for k, v in tail.items() if v is not None)
    text = _json(data)
    cut = False
    if isinstance(model, Rows) and len(text.encode()) > max_bytes:
        data, text = _cut_rows(data, type(model), max_bytes)
        cut = True
    return CallToolResult(content=[TextContent(type="text", text=text)],
                          structured_content=data), cut


def _cut_rows(data: dict[str, Any], answer: type[Rows],
              max_bytes: int) -> tuple[dict[str, Any], str]:
    rows: list[Any] = data[answer.ROWS]
    total = len(rows)

    def note(shown: int) -> str:
        return (f"{shown} of {total} {answer.ROWS} shown: answers are limited to {max_bytes} bytes"
                f" (ZAVA_ANSWER_MAX_BYTES). {answer.NARROW}")

    head = {**data, answer.ROWS: [], "truncated": True, "note": note(total)}
    room = max_bytes - len(_json(head).encode())
    shown = 0
    for row in rows:
        room -= len(_json(row).encode()) + (1 if shown else 0)  # the comma between rows
        if room < 0:
            break
        shown += 1
    cut = {**head, answer.ROWS: rows[:shown], "note": note(shown)}
    if "row_count" in cut:
        cut["row_count"] = shown
    return cut, _json(cut)


def with_truncation(outcome: Outcome, truncated: bool) -> Outcome:
    return replace(outcome, truncated=truncated) if truncated else outcome
