"""When the vector index is rebuilt (adapters/postgres/vector_index.py), without a database:
the statements themselves run in tests/integration/test_product_search.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.postgres.vector_index import (
    IndexState,
    index_comment,
    index_summary,
    ivfflat_lists,
    rebuild_reason,
)


@pytest.mark.parametrize(("rows", "lists"), [(0, 1), (1, 1), (203, 14), (99_798, 316)])
def test_lists_are_the_square_root_of_the_rows(rows: int, lists: int) -> None:
    assert ivfflat_lists(rows) == lists


def test_a_missing_index_or_another_kind_is_built() -> None:
    assert rebuild_reason(IndexState(None, None, 203), "ivfflat", 0) == "there was none"
    assert rebuild_reason(IndexState("hnsw", None, 203), "ivfflat", 0) == (
        "the old one was hnsw; ZAVA_VECTOR_INDEX asks for ivfflat")
    assert rebuild_reason(IndexState("ivfflat", 14, 203), "hnsw", 0) is not None


def test_an_ivfflat_index_built_on_an_empty_table_is_rebuilt_once_there_are_vectors() -> None:
    assert rebuild_reason(IndexState("ivfflat", 1, 0), "ivfflat", 0) is None
    assert rebuild_reason(IndexState("ivfflat", 1, 203), "ivfflat", 0) == (
        "the old one had 1 list, sized for a much smaller catalogue")
    assert rebuild_reason(IndexState("ivfflat", 316, 203), "ivfflat", 0) == (
        "the old one had 316 lists, sized for a much larger catalogue")


def test_ivfflat_is_rebuilt_when_a_quarter_of_its_vectors_changed() -> None:
    state = IndexState("ivfflat", 14, 200)
    assert rebuild_reason(state, "ivfflat", 49) is None
    assert rebuild_reason(state, "ivfflat", 50) == (
        "50 of its 200 vectors were rewritten since it was built")


def test_hnsw_is_kept_whatever_was_rewritten() -> None:
    assert rebuild_reason(IndexState("hnsw", None, 200), "hnsw", 200) is None


@given(st.integers(min_value=1, max_value=10_000_000), st.integers(min_value=0, max_value=100))
def test_a_freshly_built_ivfflat_index_is_kept_until_it_changes(rows: int, rewritten: int) -> None:
    """Right after a rebuild the index fits; small builds leave it alone."""
    state = IndexState("ivfflat", ivfflat_lists(rows), rows)
    expected = (None if rewritten < 0.25 * rows
                else f"{rewritten} of its {rows} vectors were rewritten since it was built")
    assert rebuild_reason(state, "ivfflat", rewritten) == expected


def test_the_log_line_says_what_the_index_is() -> None:
    assert index_summary("ivfflat", 203) == "IVFFlat with 14 lists over 203 vectors"
    assert index_summary("ivfflat", 1) == "IVFFlat with 1 list over 1 vector"
    assert index_summary("hnsw", 203) == "HNSW (m = 16) over 203 vectors"


def test_the_comment_documents_the_parameters() -> None:
    assert "lists = 316" in index_comment("ivfflat", 99_798)
    assert "ivfflat.probes = 5" in index_comment("ivfflat", 99_798)
    assert "m = 16, ef_construction = 200" in index_comment("hnsw", 99_798)
