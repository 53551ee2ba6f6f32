"""The sentences of entrypoints/mcp/argument_errors.py from a JSON schema, without a server."""

from __future__ import annotations

from entrypoints.mcp.argument_errors import describe_problems

SCHEMA = {
    "type": "object",
    "properties": {
        "query_description": {"type": "string", "minLength": 1,
                              "description": "what the customer needs"},
        "max_rows": {"type": "integer", "minimum": 1, "maximum": 50},
        "mode": {"anyOf": [{"enum": ["vector", "hybrid"]}, {"type": "null"}]},
    },
    "required": ["query_description"],
}


def test_every_problem_is_named_with_what_is_accepted() -> None:
    problems = describe_problems(SCHEMA, {"query": "x", "max_rows": 99, "mode": "fast"})
    assert problems == [
        "'query' is not an argument of this tool (did you mean 'query_description'?);"
        " its arguments: query_description, max_rows, mode",
        "'query_description' is required: string (length >= 1): what the customer needs",
        "max_rows = 99 is not accepted; accepted: integer (>= 1, <= 50)",
        "mode = 'fast' is not accepted; accepted: one of 'vector', 'hybrid' (or null)",
    ]


def test_fitting_arguments_have_no_problems() -> None:
    assert describe_problems(SCHEMA, {"query_description": "hose", "max_rows": 5}) == []


def test_long_values_are_shortened() -> None:
    (problem,) = describe_problems(SCHEMA, {"query_description": "x", "max_rows": "9" * 200})
    assert len(problem) < 130
    assert "..." in problem


def test_every_missing_argument_is_named_once() -> None:
    schema = {**SCHEMA, "required": ["query_description", "max_rows"]}
    assert describe_problems(schema, {}) == [
        "'query_description' is required: string (length >= 1): what the customer needs",
        "'max_rows' is required: integer (>= 1, <= 50)",
    ]
