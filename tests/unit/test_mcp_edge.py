"""The MCP edge's shared parts without a server: the answer written as compact JSON within the
byte budget, the one error translation, and the outcome heard as data."""

from __future__ import annotations

import json
from typing import Any

from domain.errors import AuthorizationError, DatabaseError, ValidationError
from entrypoints.mcp.edge import (
    Outcome,
    Rows,
    compact_answer,
    listen_for_outcome,
    outcome_of,
    publish_outcome,
)


class Listing(Rows):
    ROWS = "rows"
    NARROW = "Ask for fewer rows (max_rows)."

    rows: list[dict[str, Any]]
    row_count: int


def _listing(n: int) -> Listing:
    return Listing(rows=[{"id": i, "name": f"row number {i}"} for i in range(n)], row_count=n)


def test_the_text_is_the_structured_content_as_compact_json() -> None:
    result, cut = compact_answer(_listing(3), 32_768)
    text = result.content[0].text  # type: ignore[union-attr]
    assert not cut
    assert json.loads(text) == result.structured_content
    assert text == json.dumps(result.structured_content, separators=(",", ":"))
    assert result.structured_content == {
        "rows": [{"id": i, "name": f"row number {i}"} for i in range(3)], "row_count": 3,
        "truncated": False,  # after the rows; no note when nothing was cut
    }


def test_an_answer_over_the_budget_keeps_the_rows_that_fit_and_says_how_to_narrow() -> None:
    result, cut = compact_answer(_listing(1000), 4096)
    text = result.content[0].text  # type: ignore[union-attr]
    data = result.structured_content
    assert cut
    assert data is not None
    assert len(text.encode()) <= 4096
    assert json.loads(text) == data
    shown = len(data["rows"])
    assert 50 < shown < 1000
    assert data["rows"] == _listing(1000).model_dump()["rows"][:shown]  # the first ones, in order
    assert data["row_count"] == shown
    assert data["truncated"] is True
    assert data["note"] == (f"{shown} of 1000 rows shown: answers are limited to 4096 bytes"
                            " (ZAVA_ANSWER_MAX_BYTES). Ask for fewer rows (max_rows).")
    one_more = {**data, "rows": _listing(1000).model_dump()["rows"][:shown + 1]}
    assert len(json.dumps(one_more, separators=(",", ":")).encode()) > 4096


def test_a_budget_smaller_than_one_row_keeps_none() -> None:
    result, cut = compact_answer(_listing(50), 150)
    assert cut
    assert result.structured_content is not None
    assert result.structured_content["rows"] == []
    assert result.structured_content["note"].startswith("0 of 50 rows shown")


def test_one_translation_of_errors() -> None:
    assert outcome_of(ValidationError("bad"), "i1") == Outcome("rejected", "VALIDATION_ERROR",
                                                               "bad")
    assert outcome_of(AuthorizationError("no"), "i1").status == "rejected"
    assert outcome_of(DatabaseError("down"), "i1") == Outcome("error", "DATABASE_ERROR", "down")
    crash = outcome_of(RuntimeError("password=secret"), "abc123")
    assert crash == Outcome("error", "MCP_ERROR", "internal error (incident abc123)")
    assert "secret" not in crash.text


def test_an_outcome_is_heard_only_while_listening() -> None:
    publish_outcome(Outcome("ok"))  # nobody listens: nothing happens
    with listen_for_outcome() as heard:
        assert heard.outcome is None
        publish_outcome(Outcome("rejected", "VALIDATION_ERROR", "x"))
    assert heard.outcome == Outcome("rejected", "VALIDATION_ERROR", "x")
    publish_outcome(Outcome("ok"))
    assert heard.outcome.status == "rejected"
