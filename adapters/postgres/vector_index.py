"""The approximate-nearest-neighbour index over the product vectors, and when to rebuild it.

Two pgvector index kinds, chosen with ZAVA_VECTOR_INDEX (measured side by side in
bench/vector_search.py, bench/results/vector_search.md):

- `ivfflat` (default): k-means lists over the vectors, lists = round(sqrt(rows)); a query
  scans the IVFFLAT_PROBES nearest lists. The demo catalogue is ~180 tight families of
  near-identical texts; the lists follow the families, so a few probes find the exact top 10
  (IVFFLAT_FILTERED_PROBES when filters apply).
  IVFFlat learns its lists when it is built, so it is rebuilt when the vectors change a lot
  (another model, a catalogue grown or shrunk past the lists it was built for).
- `hnsw`: a proximity graph, m = HNSW_M, ef_construction = HNSW_EF_CONSTRUCTION, queries with
  hnsw.ef_search = HNSW_EF_SEARCH. It keeps up with inserts without rebuilding, but on a
  catalogue of tight families the graph barely links the families, and queries that enter the
  wrong one never leave it (bench/results/vector_search_tuning.md).

Either index holds one representative row per distinct text (sql/007); queries set the search
knobs of both kinds (the other kind's are ignored) and pgvector 0.8 iterative scans, so a
filtered search keeps scanning until enough rows pass.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

import psycopg
from psycopg import sql

VectorIndexKind = Literal["ivfflat", "hnsw"]

INDEX_NAME = "product_description_embeddings_ann_idx"
_TABLE = "retail.product_description_embeddings"

IVFFLAT_PROBES = 5
# A filtered search (category, price, in stock) probes more lists: its cost is the filters'
# checks on each candidate, not the lists, and its nearest matches may sit in lists far from
# the query. At 100k: recall@10 0.81 with 5 probes, 0.98 with 40, p50 about the same
# (bench/results/vector_search.md).
IVFFLAT_FILTERED_PROBES = 40
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 100

# IVFFlat lists are rebuilt when the row count leaves [lists^2 / 4, lists^2 * 4] (lists off by
# more than 2x from sqrt(rows)) or when a build rewrote at least this share of the vectors.
_REBUILD_CHANGED_SHARE = 0.25
# one index build at a time (two concurrent `embeddings build` would race on the rename)
_LOCK_KEY = 0x7A617661_0005


def ivfflat_lists(rows: int) -> int:
    """round(sqrt(rows)), at least 1: ~sqrt(rows) vectors per list, so a query compares about
    sqrt(rows) centroids plus probes x sqrt(rows) vectors."""
    return max(1, round(math.sqrt(rows)))


@dataclass(frozen=True)
class IndexState:
    kind: str | None  # access method of the index now there; None: no index
    lists: int | None  # IVFFlat lists it was built with
    rows: int  # representative rows (what the index holds)


def rebuild_reason(state: IndexState, wanted: VectorIndexKind, changed_rows: int) -> str | None:
    """Why the index must be (re)built now, in words for the log line, or None to keep it."""
    if state.kind is None:
        return "there was none"
    if state.kind != wanted:
        return f"the old one was {state.kind}; ZAVA_VECTOR_INDEX asks for {wanted}"
    if wanted != "ivfflat":
        return None  # HNSW inserts new vectors into its graph as they come
    target = ivfflat_lists(state.rows)
    if state.lists is None:
        return "the old one's list count was unreadable"
    if not target / 2 <= state.lists <= target * 2:
        size = "smaller" if state.lists < target else "larger"
        return f"the old one had {_plural(state.lists, 'list')}, sized for a much {size} catalogue"
    if state.rows and changed_rows >= _REBUILD_CHANGED_SHARE * state.rows:
        return f"{changed_rows} of its {state.rows} vectors were rewritten since it was built"
    return None


def index_summary(kind: VectorIndexKind, rows: int) -> str:
    """What the index is, for a person: "IVFFlat with 14 lists over 203 vectors"."""
    if kind == "ivfflat":
        return f"IVFFlat with {_plural(ivfflat_lists(rows), 'list')} over {_plural(rows, 'vector')}"
    return f"HNSW (m = {HNSW_M}) over {_plural(rows, 'vector')}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def index_statement(kind: VectorIndexKind, rows: int, name: str) -> sql.Composed:
    if kind == "ivfflat":
        method = sql.SQL("ivfflat (embedding vector_cosine_ops) WITH (lists = {})").format(
            sql.Literal(ivfflat_lists(rows)))
    else:
        method = sql.SQL(
            "hnsw (embedding vector_cosine_ops) WITH (m = {}, ef_construction = {})"
        ).format(sql.Literal(HNSW_M), sql.Literal(HNSW_EF_CONSTRUCTION))
    return sql.SQL("CREATE INDEX CONCURRENTLY {} ON {} USING {} WHERE is_representative").format(
        sql.Identifier(name), sql.SQL(_TABLE), method)


def index_comment(kind: VectorIndexKind, rows: int) -> str:
    if kind == "ivfflat":
        return (f"IVFFlat, cosine distance, lists = {ivfflat_lists(rows)} (sqrt of the {rows}"
                f" representative rows at build time); queries set ivfflat.probes ="
                f" {IVFFLAT_PROBES} ({IVFFLAT_FILTERED_PROBES} with filters) and"
                " ivfflat.iterative_scan = relaxed_order.")
    return (f"HNSW, cosine distance, m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION};"
            f" queries set hnsw.ef_search = {HNSW_EF_SEARCH} and hnsw.iterative_scan ="
            " relaxed_order.")


_STATE_SQL = """
SELECT am.amname,
       (SELECT substring(o from '^lists=(\\d+)$')::integer
        FROM unnest(i.reloptions) AS o WHERE o LIKE 'lists=%%'),
       (SELECT count(*) FROM retail.product_description_embeddings WHERE is_representative)
FROM (SELECT 1) AS one
LEFT JOIN pg_class AS i ON i.oid = to_regclass(%(name)s)
LEFT JOIN pg_am AS am ON am.oid = i.relam
"""


def read_state(conn: psycopg.Connection) -> IndexState:
    row = conn.execute(_STATE_SQL, {"name": f"retail.{INDEX_NAME}"}).fetchone()
    assert row is not None
    return IndexState(kind=row[0], lists=row[1], rows=int(row[2]))


def maintain_index(admin_url: str, wanted: VectorIndexKind, changed_rows: int) -> str | None:
    """Rebuild the index when `rebuild_reason` says so, without blocking searches: the new
    index is built concurrently beside the old one, which is then swapped out. Returns what
    was done, or None when the index was kept."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        locked = conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,)).fetchone()
        if not (locked and locked[0]):
            return "another process is rebuilding the vector index; left to it"
        try:
            state = read_state(conn)
            reason = rebuild_reason(state, wanted, changed_rows)
            if reason is None:
                return None
            started = time.perf_counter()
            _rebuild(conn, wanted, state.rows)
            verb = "built" if state.kind is None else "rebuilt"
            return (f"{verb} the vector index as {index_summary(wanted, state.rows)} ({reason})"
                    f" in {time.perf_counter() - started:.1f} s")
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))


def _rebuild(conn: psycopg.Connection, kind: VectorIndexKind, rows: int) -> None:
    staging = INDEX_NAME + "_new"
    conn.execute("SET maintenance_work_mem = '512MB'")  # k-means / graph build in memory
    # a build interrupted before the swap leaves an invalid staging index behind
    conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS retail.{}").format(
        sql.Identifier(staging)))
    conn.execute(index_statement(kind, rows, staging))
    conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS retail.{}").format(
        sql.Identifier(INDEX_NAME)))
    conn.execute(sql.SQL("ALTER INDEX retail.{} RENAME TO {}").format(
        sql.Identifier(staging), sql.Identifier(INDEX_NAME)))
    conn.execute(sql.SQL("COMMENT ON INDEX retail.{} IS {}").format(
        sql.Identifier(INDEX_NAME), sql.Literal(index_comment(kind, rows))))
