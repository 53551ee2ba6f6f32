"""Domain model: who is asking and which stores they may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import NewType
from uuid import UUID

UserId = NewType("UserId", str)  # the identity provider's subject
StoreId = NewType("StoreId", UUID)


class Role(StrEnum):
    STORE_MANAGER = "store_manager"
    REGIONAL_MANAGER = "regional_manager"
    HEAD_OFFICE = "head_office"


@dataclass(frozen=True)
class Store:
    store_id: StoreId
    name: str
    city: str
    is_online: bool
    region: str


@dataclass(frozen=True)
class AccessScope:
    """The effective access of one user: the stores every answer is limited to.

    Stores are kept sorted by name so that equal scopes compare (and hash, e.g. in cache keys)
    equal whatever order the directory returned them in.
    """

    user_id: UserId
    display_name: str
    email: str
    role: Role
    stores: tuple[Store, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "stores", tuple(sorted(self.stores, key=lambda s: s.name)))

    @cached_property
    def store_ids(self) -> frozenset[StoreId]:
        # built once per scope: the scope is remembered and read by every call (cache keys)
        return frozenset(s.store_id for s in self.stores)

    def can_see(self, store_id: StoreId) -> bool:
        return store_id in self.store_ids


@dataclass(frozen=True)
class QueryResult:
    """Rows a read-only query returned, already limited to the caller's stores by the database.

    Values are JSON-ready (str, int, float, bool, None, lists/dicts of them). `truncated` is set
    when the row cap or the result-size cap cut the result short, and `truncated_reason` then
    says which, with the limit, and how to narrow the query.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    truncated: bool
    elapsed_ms: float
    fingerprint: str
    truncated_reason: str | None = None

    @property
    def row_count(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class ToolCallRecord:
    """One audited tool call, successful or not. Arguments are kept only as a digest."""

    called_at: datetime
    user_id: UserId | None
    tool: str
    argument_digest: str
    sql_fingerprint: str | None
    row_count: int | None
    duration_ms: float
    outcome: str  # ok | rejected | error
    error_code: str | None


@dataclass(frozen=True)
class ColumnSchema:
    name: str
    data_type: str
    nullable: bool
    description: str


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    references_table: str
    references_columns: tuple[str, ...]


@dataclass(frozen=True)
class TableSchema:
    """What a model needs to write SQL against one table. `valid_values` lists the values of
    categorical columns, limited to what the caller may see."""

    name: str
    description: str
    row_level_security: bool
    columns: tuple[ColumnSchema, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]
    valid_values: dict[str, tuple[str, ...]]


# ---------------------------------------------------------------- product search


class SearchMode(StrEnum):
    """How products are ranked: by meaning (vector), by words (full_text), or both fused."""

    VECTOR = "vector"
    FULL_TEXT = "full_text"
    HYBRID = "hybrid"


@dataclass(frozen=True)
class SearchFilters:
    """Optional product filters. `category` is a catalogue category name (canonical spelling);
    `in_stock_only` means stock above zero at one of the caller's own stores."""

    category: str | None = None
    max_price: Decimal | None = None
    in_stock_only: bool = False


@dataclass(frozen=True)
class ProductCandidate:
    """A product a search index returned, before the service ranks and thresholds it.

    `cosine_distance` is to the query vector (None if the product has no vector of the query's
    model); `text_rank` is the full-text rank (None when the words did not match).
    `stock_units` is the stock at the caller's visible stores only.
    """

    product_id: str
    sku: str
    name: str
    description: str
    category: str
    product_type: str
    base_price: Decimal
    stock_units: int
    cosine_distance: float | None
    text_rank: float | None


@dataclass(frozen=True)
class ProductMatch:
    """One search result. `similarity` = 1 - cosine distance, clipped to [0, 1]."""

    product_id: str
    sku: str
    name: str
    description: str
    category: str
    product_type: str
    base_price: Decimal
    stock_units: int
    similarity: float


@dataclass(frozen=True)
class ProductSearchResult:
    query: str
    mode: SearchMode
    model_id: str
    threshold: float
    products: tuple[ProductMatch, ...]

    @property
    def row_count(self) -> int:
        return len(self.products)


@dataclass(frozen=True)
class ProductText:
    """A product's text as the embedding pipeline sees it, with what is stored for it now."""

    product_id: str
    name: str
    description: str
    category: str
    product_type: str
    stored_model_id: str | None
    stored_content_sha256: str | None


@dataclass(frozen=True)
class ProductEmbedding:
    product_id: str
    embedding: tuple[float, ...]
    model_id: str
    content_sha256: str
