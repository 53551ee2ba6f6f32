"""Clear errors for tool arguments that do not fit the tool's input schema.

The SDK validates tools/call arguments with pydantic and, when they do not fit, answers with
pydantic's report ("1 validation error for semantic_search_productsArguments ... Field
required [type=missing, ...] For further information visit https://errors.pydantic.dev/..."):
the names of internal models and a library's documentation link, and nothing about what the
tool accepts. This middleware leaves every other answer alone and replaces that one with a
VALIDATION_ERROR, like the tools' own: each problem, what the argument accepts, and for an
unknown name the closest argument the tool has (every tool's schema rejects unknown names:
edge.strict). It runs only after a call failed validation,
so a valid call pays nothing.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult

from entrypoints.mcp.edge import CallerResolver, Outcome, error_answer
from entrypoints.mcp.tool_calls import ToolCallRunner

_SDK_PREFIX = "Error executing tool "
_PYDANTIC_MARK = "validation error"


class ArgumentErrors:
    """Server middleware (see the module docstring)."""

    def __init__(self, server: MCPServer, runner: ToolCallRunner, caller: CallerResolver) -> None:
        self._server = server
        self._runner = runner
        self._caller = caller

    async def __call__(self, ctx: ServerRequestContext[Any, Any],
                       call_next: CallNext) -> HandlerResult:
        started = time.perf_counter()
        result = await call_next(ctx)
        if ctx.method != "tools/call" or not _is_argument_failure(result):
            return result
        params = ctx.params or {}
        name = str(params.get("name", ""))
        arguments = params.get("arguments") or {}
        schema = await self._input_schema(name)
        if schema is None or not isinstance(arguments, Mapping):
            return result
        problems = describe_problems(schema, arguments)
        if not problems:
            return result  # nothing the schema can name: keep the SDK's answer
        outcome = Outcome("rejected", "VALIDATION_ERROR", "; ".join(problems))
        # counted, logged and audited like a refusal by the tool itself
        return error_answer(
            await self._runner.refused(name, self._caller(), arguments, outcome, started))

    async def _input_schema(self, name: str) -> Mapping[str, Any] | None:
        for tool in await self._server.list_tools():
            if tool.name == name:
                return tool.input_schema
        return None


def _is_argument_failure(result: HandlerResult) -> bool:
    if isinstance(result, CallToolResult):
        is_error, content = result.is_error, [c.text for c in result.content if c.type == "text"]
    elif isinstance(result, Mapping):
        is_error = bool(result.get("isError"))
        content = [c.get("text", "") for c in result.get("content", []) if isinstance(c, Mapping)]
    else:
        return False
    text = content[0] if content else ""
    return is_error and text.startswith(_SDK_PREFIX) and _PYDANTIC_MARK in text


def describe_problems(schema: Mapping[str, Any], arguments: Mapping[str, Any]) -> list[str]:
    """One sentence per problem: unknown names (with the closest known one), then what the
    schema rejects, each with what the argument accepts."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    problems = []
    for unknown in sorted(set(arguments) - set(properties)):
        close = _closest(unknown, list(properties))
        hint = f" (did you mean {close!r}?)" if close else ""
        known = f"its arguments: {', '.join(properties)}" if properties else "it takes none"
        problems.append(f"{unknown!r} is not an argument of this tool{hint}; {known}")
    validator = Draft202012Validator(dict(schema))
    errors = sorted(validator.iter_errors(dict(arguments)), key=lambda e: [str(p) for p in e.path])
    seen: set[str] = set()
    for error in errors:
        if error.validator == "additionalProperties":
            continue  # the unknown names, said above with the name meant
        for field, sentence in _sentences(error, properties):
            if field not in seen:  # one sentence per argument (7 fails both type and enum)
                seen.add(field)
                problems.append(sentence)
    return problems


def _closest(unknown: str, names: list[str]) -> str | None:
    """The argument a misspelt or shortened name most likely meant ("query" for
    "query_description", "max_row" for "max_rows")."""
    folded = unknown.lower()
    containing = [n for n in names if folded in n.lower() or n.lower() in folded]
    if containing:
        return min(containing, key=len)
    close = difflib.get_close_matches(unknown, names, n=1, cutoff=0.6)
    return close[0] if close else None


def _sentences(error: SchemaError, properties: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(argument, sentence) pairs for one schema error."""
    if error.validator == "required":
        given = error.instance if isinstance(error.instance, Mapping) else {}
        pairs = []
        for name in (str(n) for n in error.validator_value if n not in given):
            accepted = _accepted(properties.get(name, {}))
            pairs.append((name, f"{name!r} is required" + (f": {accepted}" if accepted else "")))
        return pairs
    field = ".".join(str(p) for p in error.path) or "arguments"
    top = str(error.path[0]) if error.path else ""
    accepted = _accepted(properties.get(top, {}))
    got = _shown(error.instance)
    return [(field, f"{field} = {got} is not accepted"
             + (f"; accepted: {accepted}" if accepted else ""))]


def _accepted(prop: Mapping[str, Any]) -> str:
    """What a property accepts, from its schema: type, bounds, choices, length."""
    options = prop.get("anyOf") or [prop]
    kinds = []
    for option in options:
        if option.get("type") == "null":
            continue
        kind = str(option.get("type", "value"))
        if "enum" in option:
            kind = "one of " + ", ".join(repr(v) for v in option["enum"])
        bounds = [f"{label} {option[key]}" for key, label in (
            ("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
            ("exclusiveMaximum", "<"), ("minLength", "length >="), ("maxLength", "length <="),
        ) if key in option]
        kinds.append(kind + (f" ({', '.join(bounds)})" if bounds else ""))
    text = " or ".join(kinds)
    if any(o.get("type") == "null" for o in options):
        text += " (or null)"
    description = str(prop.get("description", "")).strip()
    return f"{text}: {description}" if description else text


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
