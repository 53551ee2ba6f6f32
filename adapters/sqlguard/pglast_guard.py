"""The SQL guard for `execute_sales_query` on PostgreSQL's own parser (libpg_query via pglast).

Why a parser and not patterns: every published "read-only" guard built on keyword or regex
filters has been bypassed (comments hiding keywords, writable CTEs, `U&"..."` identifiers, dollar
quoting). Here the SQL is parsed by the same grammar the server uses, and decisions are taken on
the parse tree, where names are already de-quoted, de-escaped and case-folded.

Why the JSON form of the tree: `pglast.parse_sql` builds Python objects and costs ~0.5 ms for a
typical analytics query; `pglast.parser.parse_sql_json` is the same libpg_query parse serialised
by C, ~15x cheaper. The JSON is walked *generically*, typed by pglast's own node schema
(`pglast.ast`, generated from the same libpg_query release): every field that can hold a node is
descended into, a node kind nobody reviewed is refused, and anything the schema cannot explain
is refused too (fail closed). A unit test checks the walk reaches exactly the nodes of
`pglast.parse_sql`'s tree.

Rules: exactly one statement; only SELECT (with WITH, set operations, VALUES,
subqueries); no writable CTEs, SELECT INTO or locking clauses at any depth; relations only from an
allow-list of `retail` tables or CTEs in scope; every function call, wherever it sits, checked
against an allow-list; casts to catalog-lookup types (`regclass`, `regproc`, ...) refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from functools import cache, lru_cache
from typing import Any, Final, NamedTuple

from pglast import ast as pg_ast
from pglast import parser as pg_parser

from domain.errors import ConfigurationError, ValidationError
from ports.sql_guard import GuardedQuery

RETAIL_SCHEMA: Final = "retail"

EXPOSED_RETAIL_RELATIONS: Final[frozenset[str]] = frozenset(
    {
        "regions",
        "stores",
        "categories",
        "product_types",
        "products",
        "product_description_embeddings",
        "customers",
        "orders",
        "order_items",
        "inventory",
    }
)
"""Tables/views of schema `retail` the model may read (unqualified names)."""

# ---------------------------------------------------------------------------------------------
# Function allow-list. Deny by default: anything not named here (pg_read_file, set_config,
# pg_sleep, dblink, nextval, current_setting, version, access.visible_store_ids, ...) is refused.
# Volatile-but-harmless time functions are in; random()/setseed() are out (non-reproducible
# answers and no analytic need); format()/md5() are out (no analytic need).
_FUNCTION_GROUPS: Final[Mapping[str, frozenset[str]]] = {
    "aggregate": frozenset(
        {
            "count", "sum", "avg", "min", "max", "any_value",
            "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp",
            "percentile_cont", "percentile_disc", "mode",
            "string_agg", "array_agg", "bool_and", "bool_or", "every",
            "json_agg", "jsonb_agg", "json_agg_strict", "jsonb_agg_strict",
            "json_object_agg", "jsonb_object_agg", "json_object_agg_strict",
            "jsonb_object_agg_strict", "json_object_agg_unique", "jsonb_object_agg_unique",
            "corr", "covar_pop", "covar_samp",
            "regr_avgx", "regr_avgy", "regr_count", "regr_intercept", "regr_r2", "regr_slope",
            "regr_sxx", "regr_sxy", "regr_syy",
        }
    ),
    "window": frozenset(
        {
            "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile",
            "lag", "lead", "first_value", "last_value", "nth_value",
        }
    ),
    "math": frozenset(
        {
            "abs", "round", "ceil", "ceiling", "floor", "trunc", "sign", "sqrt", "cbrt",
            "power", "pow", "exp", "ln", "log", "log10", "mod", "div", "width_bucket",
            "pi", "degrees", "radians", "gcd", "lcm", "scale", "trim_scale", "min_scale",
            "num_nulls", "num_nonnulls",
        }
    ),
    "string": frozenset(
        {
            "lower", "upper", "initcap", "length", "char_length", "character_length",
            "octet_length", "substr", "substring", "left", "right", "trim", "btrim", "ltrim",
            "rtrim", "lpad", "rpad", "replace", "concat", "concat_ws", "position", "strpos",
            "split_part", "starts_with", "reverse", "repeat", "translate", "overlay", "ascii",
            "chr", "to_char", "to_number", "regexp_replace", "regexp_match", "regexp_matches",
            "regexp_like", "regexp_count", "regexp_instr", "regexp_substr",
            "regexp_split_to_array", "regexp_split_to_table",
            # targets of SQL-syntax forms (LIKE ... ESCAPE, SIMILAR TO, NORMALIZE, IS NORMALIZED)
            "like_escape", "similar_to_escape", "normalize", "is_normalized",
        }
    ),
    "date_time": frozenset(
        {
            "now", "clock_timestamp", "statement_timestamp", "transaction_timestamp",
            "date_trunc", "date_part", "extract", "age", "date_bin", "date", "to_date",
            "to_timestamp", "make_date", "make_time", "make_interval", "make_timestamp",
            "make_timestamptz", "justify_days", "justify_hours", "justify_interval",
            "isfinite", "timezone", "overlaps", "date_add", "date_subtract",
        }
    ),
    "json": frozenset(
        {
            "json_build_object", "jsonb_build_object", "json_build_array", "jsonb_build_array",
            "json_object", "jsonb_object", "to_json", "to_jsonb", "row_to_json", "array_to_json",
            "json_extract_path", "jsonb_extract_path", "json_extract_path_text",
            "jsonb_extract_path_text", "json_array_length", "jsonb_array_length", "json_typeof",
            "jsonb_typeof", "json_each", "jsonb_each", "json_each_text", "jsonb_each_text",
            "json_array_elements", "jsonb_array_elements", "json_array_elements_text",
            "jsonb_array_elements_text", "json_object_keys", "jsonb_object_keys", "jsonb_pretty",
            "json_strip_nulls", "jsonb_strip_nulls", "json_to_record", "jsonb_to_record",
            "json_to_recordset", "jsonb_to_recordset", "jsonb_set", "jsonb_path_query",
            "jsonb_path_query_array", "jsonb_path_query_first", "jsonb_path_exists",
            "jsonb_path_match",
        }
    ),
    "array": frozenset(
        {
            "array_length", "cardinality", "unnest", "array_position", "array_positions",
            "array_to_string", "string_to_array", "string_to_table", "array_append",
            "array_prepend", "array_cat", "array_remove", "array_replace", "array_lower",
            "array_upper", "array_ndims", "array_dims", "trim_array", "array_reverse",
            "array_sort", "generate_subscripts",
        }
    ),
    # Bounded only by statement_timeout and the executor's row cap, like any cross join.
    "series": frozenset({"generate_series"}),
    "text_search": frozenset(
        {
            "to_tsvector", "to_tsquery", "plainto_tsquery", "phraseto_tsquery",
            "websearch_to_tsquery", "ts_rank", "ts_rank_cd", "ts_headline", "setweight",
        }
    ),
    # pgvector and pg_trgm (extensions installed by sql/001): pure distance/similarity maths.
    "extension": frozenset(
        {
            "cosine_distance", "l2_distance", "l1_distance", "inner_product", "vector_dims",
            "vector_norm", "l2_normalize", "similarity", "word_similarity",
            "strict_word_similarity",
        }
    ),
}  # fmt: skip

ALLOWED_FUNCTIONS: Final[frozenset[str]] = frozenset().union(*_FUNCTION_GROUPS.values())
"""Function names the model may call, unqualified or as `pg_catalog.<name>`."""

# Casting to these looks names up in the system catalogs ('pg_authid'::regclass,
# 'pg_read_file'::regproc) or in the role list ('x=r/postgres'::aclitem): catalog snooping.
# Internal types have no business in a query, and xml is refused like the XML functions (a
# parser attack surface with no analytic use). regconfig stays allowed:
# to_tsvector('english'::regconfig, ...) is ordinary full-text search.
_DENIED_TYPES: Final[frozenset[str]] = frozenset(
    {
        "regclass", "regcollation", "regnamespace", "regoper", "regoperator", "regproc",
        "regprocedure", "regrole", "regtype", "regdictionary", "aclitem", "pg_node_tree",
        "internal", "cstring", "pg_ddl_command", "pg_ndistinct", "pg_dependencies",
        "pg_mcv_list", "xml",
    }
)  # fmt: skip

_TIME_VALUE_FUNCTIONS: Final[Mapping[str, str]] = {
    "SVFOP_CURRENT_DATE": "CURRENT_DATE",
    "SVFOP_CURRENT_TIME": "CURRENT_TIME",
    "SVFOP_CURRENT_TIME_N": "CURRENT_TIME",
    "SVFOP_CURRENT_TIMESTAMP": "CURRENT_TIMESTAMP",
    "SVFOP_CURRENT_TIMESTAMP_N": "CURRENT_TIMESTAMP",
    "SVFOP_LOCALTIME": "LOCALTIME",
    "SVFOP_LOCALTIME_N": "LOCALTIME",
    "SVFOP_LOCALTIMESTAMP": "LOCALTIMESTAMP",
    "SVFOP_LOCALTIMESTAMP_N": "LOCALTIMESTAMP",
}

_TABLESAMPLE_METHODS: Final = frozenset({"system", "bernoulli"})

# Where each node kind keeps an operator name (a list of String, maybe schema-qualified).
_OPERATOR_FIELDS: Final[Mapping[str, str]] = {
    "A_Expr": "name",
    "SubLink": "operName",
    "SortBy": "useOp",
}

# Node kinds a SELECT may contain; each is descended into generically. RangeVar, FuncCall,
# TypeName, the three carriers of operator names (A_Expr, SubLink, SortBy), SQLValueFunction,
# RangeTableSample, SelectStmt and CommonTableExpr get an extra check first (see _Walk).
# Anything else is refused, so a construct we never reviewed cannot smuggle a call past the guard.
_PASS_THROUGH: Final[frozenset[str]] = frozenset(
    {
        "ResTarget", "ColumnRef", "A_Star", "A_Const", "Integer", "Float", "Boolean", "String",
        "BitString", "BoolExpr", "NullTest", "BooleanTest", "CaseExpr", "CaseWhen",
        "CoalesceExpr", "MinMaxExpr", "RowExpr", "A_ArrayExpr", "A_Indices", "A_Indirection",
        "TypeCast", "CollateClause", "NamedArgExpr", "WindowDef", "GroupingSet",
        "GroupingFunc", "RangeSubselect", "RangeFunction", "JoinExpr", "Alias", "ColumnDef",
        "CTESearchClause", "CTECycleClause",
        "JsonObjectConstructor", "JsonArrayConstructor", "JsonArrayQueryConstructor",
        "JsonAggConstructor", "JsonObjectAgg", "JsonArrayAgg", "JsonKeyValue", "JsonValueExpr",
        "JsonOutput", "JsonReturning", "JsonFormat", "JsonFuncExpr", "JsonScalarExpr",
        "JsonSerializeExpr", "JsonParseExpr", "JsonIsPredicate", "JsonTable", "JsonTableColumn",
        "JsonTablePathSpec", "JsonArgument", "JsonBehavior",
    }
)  # fmt: skip

_DENIED_NODES: Final[Mapping[str, str]] = {
    "ParamRef": "parameter placeholders ($1, $2, ...) are not supported; write values inline",
    "XmlExpr": "XML functions (XMLELEMENT, XMLPARSE, ...) are not allowed",
    "XmlSerialize": "XMLSERIALIZE is not allowed",
    "RangeTableFunc": "XMLTABLE is not allowed",
    "MergeSupportFunc": "MERGE_ACTION() is not allowed",
    "SetToDefault": "DEFAULT is not allowed in a SELECT",
    "CurrentOfExpr": "WHERE CURRENT OF is not allowed",
    "IntoClause": "SELECT INTO is not allowed (it creates a table); remove the INTO clause",
    "LockingClause": "locking clauses (FOR UPDATE/SHARE) are not allowed",
}

_LOCK_STRENGTHS: Final[Mapping[str, str]] = {
    "LCS_FORKEYSHARE": "FOR KEY SHARE",
    "LCS_FORSHARE": "FOR SHARE",
    "LCS_FORNOKEYUPDATE": "FOR NO KEY UPDATE",
    "LCS_FORUPDATE": "FOR UPDATE",
}

_STATEMENT_NAMES: Final[Mapping[str, str]] = {
    "SelectStmt": "SELECT",
    "InsertStmt": "INSERT",
    "UpdateStmt": "UPDATE",
    "DeleteStmt": "DELETE",
    "MergeStmt": "MERGE",
    "ExplainStmt": "EXPLAIN",
    "VariableShowStmt": "SHOW",
    "CopyStmt": "COPY",
    "DoStmt": "DO",
    "CallStmt": "CALL",
    "LockStmt": "LOCK",
    "PrepareStmt": "PREPARE",
    "ExecuteStmt": "EXECUTE",
    "DeallocateStmt": "DEALLOCATE",
    "DeclareCursorStmt": "DECLARE CURSOR",
    "ClosePortalStmt": "CLOSE",
    "TruncateStmt": "TRUNCATE",
    "DropStmt": "DROP",
    "CreateStmt": "CREATE TABLE",
    "ViewStmt": "CREATE VIEW",
    "IndexStmt": "CREATE INDEX",
    "CreateFunctionStmt": "CREATE FUNCTION",
    "CreateRoleStmt": "CREATE ROLE",
    "AlterRoleStmt": "ALTER ROLE",
    "AlterSystemStmt": "ALTER SYSTEM",
    "AlterTableStmt": "ALTER TABLE",
    "RenameStmt": "ALTER ... RENAME",
    "ListenStmt": "LISTEN",
    "NotifyStmt": "NOTIFY",
    "UnlistenStmt": "UNLISTEN",
    "LoadStmt": "LOAD",
    "DiscardStmt": "DISCARD",
    "CheckPointStmt": "CHECKPOINT",
    "ReindexStmt": "REINDEX",
    "ClusterStmt": "CLUSTER",
    "RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW",
    "CommentStmt": "COMMENT",
    "SecLabelStmt": "SECURITY LABEL",
    "ConstraintsSetStmt": "SET CONSTRAINTS",
    "RuleStmt": "CREATE RULE",
    "CreateTrigStmt": "CREATE TRIGGER",
    "CreatedbStmt": "CREATE DATABASE",
    "DropdbStmt": "DROP DATABASE",
    "CreateExtensionStmt": "CREATE EXTENSION",
    "CreateSchemaStmt": "CREATE SCHEMA",
    "GrantRoleStmt": "GRANT/REVOKE role",
}

_TRANSACTION_NAMES: Final[Mapping[str, str]] = {
    "TRANS_STMT_BEGIN": "BEGIN",
    "TRANS_STMT_START": "START TRANSACTION",
    "TRANS_STMT_COMMIT": "COMMIT",
    "TRANS_STMT_ROLLBACK": "ROLLBACK",
    "TRANS_STMT_SAVEPOINT": "SAVEPOINT",
    "TRANS_STMT_RELEASE": "RELEASE SAVEPOINT",
    "TRANS_STMT_ROLLBACK_TO": "ROLLBACK TO SAVEPOINT",
    "TRANS_STMT_PREPARE": "PREPARE TRANSACTION",
    "TRANS_STMT_COMMIT_PREPARED": "COMMIT PREPARED",
    "TRANS_STMT_ROLLBACK_PREPARED": "ROLLBACK PREPARED",
}

_ONLY_SELECT: Final = "only a single SELECT is (WITH, UNION, VALUES and subqueries included)"
_LITERAL_TOKENS: Final = frozenset({"SCONST", "USCONST", "BCONST", "XCONST", "ICONST", "FCONST"})
_COMMENT_TOKENS: Final = frozenset({"SQL_COMMENT", "C_COMMENT"})
_LIST_TAGS: Final = frozenset({"List", "IntList", "OidList"})
_MAX_PROBLEMS_REPORTED: Final = 5

# Field kinds in pglast's node schema.
_TAGGED: Final = "<tagged>"  # Node*/List*: JSON values are {"NodeKind": {...}} wrappers
_GENERIC_CTYPES: Final = frozenset({"Node*", "Expr*", "List*"})
_NOT_NODES: Final = frozenset({"char*", "Bitmapset*"})


@cache
def _node_kinds() -> frozenset[str]:
    """All node class names libpg_query can emit, from pglast's generated schema."""
    return frozenset(
        name
        for name, obj in vars(pg_ast).items()
        if isinstance(obj, type) and issubclass(obj, pg_ast.Node) and obj is not pg_ast.Node
    )


@cache
def _field_kinds(node_kind: str) -> Mapping[str, str]:
    """For each node-bearing field of `node_kind`: _TAGGED, or the struct kind it holds inline.

    libpg_query's JSON writes Node*/List* fields as tagged wrappers and fields typed as a
    specific struct (SelectStmt.larg, TypeCast.typeName, FuncCall.over, ...) untagged; pglast's
    schema says which is which. Scalar fields are omitted, so a dict or list found in a field
    missing from this map is something the schema cannot explain.
    """
    slots = getattr(pg_ast, node_kind).__slots__
    kinds: dict[str, str] = {}
    if not isinstance(slots, dict):  # the abstract Expr base: no fields to descend into
        return kinds
    for field, info in slots.items():
        ctype = info.c_type
        if ctype in _GENERIC_CTYPES:
            kinds[field] = _TAGGED
        elif ctype.endswith("*") and ctype not in _NOT_NODES and ctype[:-1] in _node_kinds():
            kinds[field] = ctype[:-1]
    return kinds


def _statement_name(kind: str, fields: Mapping[str, Any]) -> str:
    """A human name for a statement node, as the user would write it (INSERT, EXPLAIN ANALYZE)."""
    if kind == "ExplainStmt":
        options = {_tagged_field(opt, "DefElem", "defname") for opt in fields.get("options", ())}
        return "EXPLAIN ANALYZE" if "analyze" in options else "EXPLAIN"
    if kind == "TransactionStmt":
        return _TRANSACTION_NAMES.get(str(fields.get("kind")), "transaction control")
    if kind == "VariableSetStmt":
        verb = "RESET" if str(fields.get("kind", "")).startswith("VAR_RESET") else "SET"
        name = fields.get("name")
        return f"{verb} {name}" if isinstance(name, str) else verb
    if kind == "FetchStmt":
        return "MOVE" if fields.get("ismove") else "FETCH"
    if kind == "GrantStmt":
        return "GRANT" if fields.get("is_grant") else "REVOKE"
    if kind == "VacuumStmt":
        return "VACUUM" if fields.get("is_vacuumcmd") else "ANALYZE"
    if kind == "CreateTableAsStmt":
        return (
            "CREATE MATERIALIZED VIEW"
            if fields.get("objtype") == "OBJECT_MATVIEW"
            else "CREATE TABLE AS"
        )
    if kind in _STATEMENT_NAMES:
        return _STATEMENT_NAMES[kind]
    return _camel_to_words(kind.removesuffix("Stmt"))


def _camel_to_words(name: str) -> str:
    """`AlterDomain` -> `ALTER DOMAIN`: a readable fallback for statement kinds not listed."""
    words: list[str] = []
    for char in name:
        if char.isupper() and words and not words[-1][-1].isupper():
            words.append(char)
        elif words:
            words[-1] += char
        else:
            words.append(char)
    return " ".join(words).upper()


def _tagged_field(item: Any, tag: str, field: str) -> Any:
    """`item` is `{tag: {field: value}}` → value, else None. For peeking at small sub-nodes."""
    if isinstance(item, dict):
        body = item.get(tag)
        if isinstance(body, dict):
            return body.get(field)
    return None


def _names(items: Any) -> list[str] | None:
    """A list of String nodes (function, type, operator names) → their strings, or None."""
    if not isinstance(items, list):
        return None
    names: list[str] = []
    for item in items:
        value = _tagged_field(item, "String", "sval")
        if not isinstance(value, str):
            return None
        names.append(value)
    return names


def _line_column(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character index, for syntax errors the model can locate."""
    index = max(0, min(index, len(text)))
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def _char_offset(text: str, encoded: bytes | None, byte_offset: int) -> int:
    """libpg_query's JSON locations are byte offsets into UTF-8; the scanner's are characters."""
    if encoded is None:
        return byte_offset
    return len(encoded[:byte_offset].decode("utf-8", errors="ignore"))


class _Walk:
    """One pass over a SELECT's JSON parse tree, collecting problems and relations read.

    Iterative (an explicit stack) so that a deeply nested expression cannot exhaust Python's
    recursion limit; each stack entry carries the CTE names visible at that point.
    """

    def __init__(self, allowed_relations: frozenset[str]) -> None:
        self._allowed_relations = allowed_relations
        self._stack: list[tuple[str, dict[str, Any], frozenset[str]]] = []
        self.problems: list[tuple[int, str]] = []
        self.relations: set[str] = set()
        self.functions: set[str] = set()
        self.time_literals: set[str] = set()
        self.unknown_relations = False

    def run(self, select: dict[str, Any]) -> None:
        self._stack.append(("SelectStmt", select, frozenset()))
        while self._stack:
            kind, fields, scope = self._stack.pop()
            self._visit(kind, fields, scope)

    # ----------------------------------------------------------------------- dispatch
    def _visit(self, kind: str, fields: dict[str, Any], scope: frozenset[str]) -> None:
        if kind in _PASS_THROUGH:
            if kind == "A_Const":  # a literal: its value fields are not nodes
                self._literal(fields)
            else:
                if kind == "TypeCast":
                    self._cast(fields)
                self._children(kind, fields, scope)
        elif kind == "SelectStmt":
            self._select(fields, scope)
        elif kind == "RangeVar":
            self._range_var(fields, scope)
        elif kind == "FuncCall":
            self._func_call(fields, scope)
        elif kind == "TypeName":
            self._type_name(fields, scope)
        elif kind in _OPERATOR_FIELDS:
            self._operator(kind, fields, scope)
        elif kind == "SQLValueFunction":
            self._sql_value_function(fields)
        elif kind == "RangeTableSample":
            self._table_sample(fields, scope)
        elif kind == "CommonTableExpr":
            self._cte(fields, scope)
        elif kind in _DENIED_NODES:
            self._problem(fields, _DENIED_NODES[kind])
        elif kind.endswith("Stmt"):
            name = _statement_name(kind, fields)
            self._problem(fields, f"{name} statements are not allowed inside a query")
        else:
            self._problem(fields, f"the construct {kind} is not allowed in a query")

    def _problem(self, fields: Mapping[str, Any], message: str) -> None:
        location = fields.get("location")
        self.problems.append((location if isinstance(location, int) else -1, message))

    def _unrecognised(self, kind: str, field: str) -> None:
        message = f"the query uses a construct the guard cannot check ({kind}.{field})"
        self.problems.append((-1, message))

    # ----------------------------------------------------------------------- generic descent
    def _children(
        self,
        kind: str,
        fields: Mapping[str, Any],
        scope: frozenset[str],
        skip: Collection[str] = (),
    ) -> None:
        """Push every node-bearing field of a node, typed by pglast's schema.

        The common shapes (one tagged node, a list of tagged nodes) are handled inline: this
        loop is most of the walk's cost. Everything else goes through `_push_tagged`.
        """
        kinds = _field_kinds(kind)
        node_kinds = _node_kinds()
        push = self._stack.append
        for field, value in fields.items():
            value_type = type(value)
            if (value_type is not dict and value_type is not list) or field in skip:
                continue
            child_kind = kinds.get(field)
            if child_kind is None:
                self._unrecognised(kind, field)
            elif child_kind != _TAGGED:  # an inline struct of a known kind
                if value_type is dict:
                    push((child_kind, value, scope))
                else:
                    self._unrecognised(kind, field)
            else:
                for item in value if value_type is list else (value,):
                    if type(item) is dict and len(item) == 1:
                        ((tag, body),) = item.items()
                        if tag in node_kinds and type(body) is dict:
                            push((tag, body, scope))
                            continue
                    self._push_tagged(item, scope, kind, field)

    def _push_tagged(self, value: Any, scope: frozenset[str], kind: str, field: str) -> None:
        """Push the nodes in a Node*/List* value: wrappers, lists, and lists of lists."""
        pending = [value]
        node_kinds = _node_kinds()
        while pending:
            item = pending.pop()
            if isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, dict) and item:  # {} is a NULL list element
                if len(item) != 1:
                    self._unrecognised(kind, field)
                    continue
                ((tag, body),) = item.items()
                if not isinstance(body, dict):
                    self._unrecognised(kind, field)
                elif tag in _LIST_TAGS:
                    pending.append(body.get("items", []))
                elif tag in node_kinds:
                    self._stack.append((tag, body, scope))
                else:
                    self._unrecognised(kind, field)
            elif item is not None and not isinstance(item, dict):
                self._unrecognised(kind, field)

    # ----------------------------------------------------------------------- checks
    def _select(self, fields: dict[str, Any], scope: frozenset[str]) -> None:
        if "intoClause" in fields:
            self._problem(fields, _DENIED_NODES["IntoClause"])
        for clause in fields.get("lockingClause", ()):
            strength = _tagged_field(clause, "LockingClause", "strength")
            label = _LOCK_STRENGTHS.get(str(strength), "FOR UPDATE/SHARE")
            self._problem(fields, f"locking clause {label} is not allowed; queries only read")
        with_clause = fields.get("withClause")
        if with_clause is not None:
            scope = self._with(with_clause, scope)
        self._children(
            "SelectStmt", fields, scope, skip=("withClause", "intoClause", "lockingClause")
        )

    def _with(self, with_clause: Any, scope: frozenset[str]) -> frozenset[str]:
        """Push the CTE bodies with PostgreSQL's visibility rules; return the main query's scope.

        Without RECURSIVE a CTE sees only the CTEs before it: a forward reference resolves to a
        real table (`WITH a AS (SELECT * FROM pg_roles), pg_roles AS (...)` reads the catalog),
        so the scope must not over-approximate.
        """
        if not isinstance(with_clause, dict) or not set(with_clause) <= {
            "ctes",
            "recursive",
            "location",
        }:
            self._unrecognised("SelectStmt", "withClause")
            return scope
        bodies: list[dict[str, Any]] = []
        for item in with_clause.get("ctes", ()):
            body = item.get("CommonTableExpr") if isinstance(item, dict) else None
            if isinstance(body, dict) and len(item) == 1:
                bodies.append(body)
            else:
                self._unrecognised("WithClause", "ctes")
        names = [body.get("ctename") for body in bodies]
        visible = scope | {name for name in names if isinstance(name, str)}
        recursive = bool(with_clause.get("recursive"))
        for position, body in enumerate(bodies):
            if recursive:
                cte_scope = visible
            else:
                cte_scope = scope | {n for n in names[:position] if isinstance(n, str)}
            self._stack.append(("CommonTableExpr", body, cte_scope))
        return visible

    def _cte(self, fields: dict[str, Any], scope: frozenset[str]) -> None:
        query = fields.get("ctequery")
        kind = next(iter(query), None) if isinstance(query, dict) and len(query) == 1 else None
        if kind != "SelectStmt":
            body = query.get(kind, {}) if kind is not None and isinstance(query, dict) else {}
            statement = _statement_name(kind, body) if kind else "a non-SELECT statement"
            self._problem(
                fields,
                f"writable CTE {fields.get('ctename')!r} ({statement} inside WITH) is not "
                "allowed; CTEs may only SELECT",
            )
            self._children("CommonTableExpr", fields, scope, skip=("ctequery",))
            return
        self._children("CommonTableExpr", fields, scope)

    def _range_var(self, fields: dict[str, Any], scope: frozenset[str]) -> None:
        schema = fields.get("schemaname")
        name = fields.get("relname")
        if fields.get("catalogname") is not None or not isinstance(name, str):
            self._problem(fields, "relation names with a database prefix are not allowed")
            return
        if schema is None and name in scope:
            return  # a CTE of an enclosing WITH
        if schema in (None, RETAIL_SCHEMA) and name in self._allowed_relations:
            self.relations.add(f"{RETAIL_SCHEMA}.{name}")
            return
        shown = name if schema is None else f"{schema}.{name}"
        self._problem(fields, f"relation {shown} is not available")
        self.unknown_relations = True

    def _func_call(self, fields: dict[str, Any], scope: frozenset[str]) -> None:
        names = _names(fields.get("funcname"))
        if not names:
            self._unrecognised("FuncCall", "funcname")
        elif not _function_allowed(names):
            self._problem(fields, f"function {'.'.join(names)} is not allowed")
        else:
            self.functions.add(names[-1])
        self._children("FuncCall", fields, scope, skip=("funcname",))

    def _type_name(self, fields: dict[str, Any], scope: frozenset[str]) -> None:
        names = _names(fields.get("names"))
        if not names:
            self._unrecognised("TypeName", "names")
        else:
            *qualifier, base = names
            element = base[1:] if base.startswith("_") else base  # _regclass is regclass[]
            if qualifier not in ([], ["pg_catalog"]):
                self._problem(fields, f"type {'.'.join(names)} is not allowed")
            elif element in _DENIED_TYPES:
                self._problem(
                    fields,
                    f"type {base} is not allowed (catalog-lookup, internal and XML types are not)",
                )
        self._children("TypeName", fields, scope, skip=("names",))

    def _operator(self, kind: str, fields: dict[str, Any], scope: frozenset[str]) -> None:
        """`OPERATOR(schema.op)` may only name pg_catalog: an operator is a function call."""
        field = _OPERATOR_FIELDS[kind]
        if field in fields:
            names = _names(fields[field])
            if names is None:
                self._unrecognised(kind, field)
            elif len(names) > 1 and names[:-1] != ["pg_catalog"]:
                self._problem(fields, f"operator OPERATOR({'.'.join(names)}) is not allowed")
        self._children(kind, fields, scope, skip=(field,))

    def _sql_value_function(self, fields: dict[str, Any]) -> None:
        op = str(fields.get("op"))
        if op not in _TIME_VALUE_FUNCTIONS:
            shown = op.removeprefix("SVFOP_").removesuffix("_N")
            self._problem(fields, f"{shown} is not allowed; use CURRENT_DATE or now() for time")
        else:
            self.functions.add(_TIME_VALUE_FUNCTIONS[op].lower())

    def _literal(self, fields: dict[str, Any]) -> None:
        """'now', 'today', 'tomorrow', 'yesterday' read the clock wherever a date or time is
        expected (`order_date >= 'today'`, `'now'::timestamptz`, `'tomorrow 10:00'`)."""
        text = _string_value(fields)
        if text is not None:
            self.time_literals.update(m.lower() for m in _CLOCK_WORDS.findall(text))

    def _cast(self, fields: dict[str, Any]) -> None:
        """`'epoch'::timestamptz` and friends: date/time input relative to the epoch."""
        arg = fields.get("arg")
        constant = arg.get("A_Const") if isinstance(arg, dict) else None
        text = _string_value(constant) if isinstance(constant, dict) else None
        if text is not None and _EPOCH_WORD.search(text):
            self.time_literals.add("epoch")

    def _table_sample(self, fields: dict[str, Any], scope: frozenset[str]) -> None:
        names = _names(fields.get("method")) or ["?"]
        *qualifier, method = names
        if method not in _TABLESAMPLE_METHODS or qualifier not in ([], ["pg_catalog"]):
            shown = ".".join(names)
            self._problem(fields, f"TABLESAMPLE method {shown} is not allowed (SYSTEM, BERNOULLI)")
        self._children("RangeTableSample", fields, scope, skip=("method",))


# Special date/time input values (PostgreSQL "Special Date/Time Inputs") that depend on when the
# statement runs; 'epoch' is checked in casts only (extract(epoch FROM ...) is a field name).
_CLOCK_WORDS: Final = re.compile(r"\b(now|today|tomorrow|yesterday)\b", re.IGNORECASE)
_EPOCH_WORD: Final = re.compile(r"\bepoch\b", re.IGNORECASE)


def _string_value(constant: Mapping[str, Any]) -> str | None:
    sval = constant.get("sval")
    value = sval.get("sval") if isinstance(sval, dict) else None
    return value if isinstance(value, str) else None


def _function_allowed(names: list[str]) -> bool:
    """Unqualified or `pg_catalog.`-qualified allow-listed names. Exact match: a quoted "Count"
    is a different function to PostgreSQL, so it is not folded to `count` here either."""
    if len(names) == 1:
        return names[0] in ALLOWED_FUNCTIONS
    return len(names) == 2 and names[0] == "pg_catalog" and names[1] in ALLOWED_FUNCTIONS


class _Statement(NamedTuple):
    """The one statement of a query: its SELECT tree and its character span in the text."""

    select: dict[str, Any]
    start: int
    end: int


class PglastSqlGuard:
    """`SqlGuard` on libpg_query: accepts one read-only SELECT over the exposed retail tables.

    `check()` returns the statement to run (comments blanked, no trailing semicolon), a
    fingerprint with every literal replaced by `$n` (comments dropped, safe to log), and the
    `retail.*` relations the statement reads.
    """

    def __init__(
        self,
        allowed_relations: Mapping[str, object] | Collection[str] = EXPOSED_RETAIL_RELATIONS,
        max_length: int = 20_000,
        remembered: int = 512,
    ) -> None:
        if isinstance(allowed_relations, str):  # one name, not a collection of characters
            allowed_relations = [allowed_relations]
        self._allowed_relations = _relation_names(allowed_relations)
        if max_length <= 0:
            raise ConfigurationError("max_length of the SQL guard must be positive")
        self._max_length = max_length
        listing = ", ".join(f"{RETAIL_SCHEMA}.{name}" for name in sorted(self._allowed_relations))
        self._relation_hint = f"tables you can query: {listing}"
        # The verdict depends on the text alone: an assistant repeating a query (a dashboard,
        # a retry) skips the parse and walk. Accepted queries only (an exception is not cached);
        # `remembered=0` turns it off (bench/sql_guard.py measures the parse path).
        self._check_text: Callable[[str], GuardedQuery] = (
            lru_cache(maxsize=remembered)(self._check_uncached) if remembered > 0
            else self._check_uncached
        )

    @property
    def allowed_relations(self) -> frozenset[str]:
        return self._allowed_relations

    def check(self, sql: str) -> GuardedQuery:
        if not isinstance(sql, str):
            raise ValidationError("the query must be SQL text")
        return self._check_text(sql)

    def _check_uncached(self, sql: str) -> GuardedQuery:
        text = self._validated_text(sql)
        statement = self._single_statement(text)
        walk = _Walk(self._allowed_relations)
        walk.run(statement.select)
        if walk.problems:
            hint = self._relation_hint if walk.unknown_relations else None
            raise ValidationError(_summarise(walk.problems, hint))
        cleaned, fingerprint = _render(text, statement.start, statement.end)
        return GuardedQuery(
            sql=cleaned, fingerprint=fingerprint, relations=frozenset(walk.relations),
            functions=frozenset(walk.functions), time_literals=frozenset(walk.time_literals),
        )

    # ----------------------------------------------------------------------- stages
    def _validated_text(self, sql: str) -> str:
        if not isinstance(sql, str):
            raise ValidationError("the query must be SQL text")
        if len(sql) > self._max_length:
            raise ValidationError(
                f"the query is {len(sql)} characters long; the limit is {self._max_length}"
            )
        if "\x00" in sql:
            # libpg_query reads a C string: it would stop at the NUL and check only a prefix.
            raise ValidationError("the query contains a NUL character")
        if not sql.strip():
            raise ValidationError("the query is empty; send a single SELECT statement")
        return sql

    def _single_statement(self, text: str) -> _Statement:
        tree = _parse(text)
        statements = tree.get("stmts") or []
        if not statements:
            raise ValidationError(
                "the query has no statement (only comments or semicolons); send a single SELECT"
            )
        kinds = [_statement_of(raw) for raw in statements]
        if len(statements) > 1:
            names = ", ".join(_statement_name(kind, body) for kind, body in kinds)
            raise ValidationError(
                f"only one statement is allowed, but the query has {len(statements)} "
                f"({names}); send a single SELECT without semicolons between statements"
            )
        kind, body = kinds[0]
        if kind != "SelectStmt":
            raise ValidationError(
                f"{_statement_name(kind, body)} statements are not allowed; {_ONLY_SELECT}"
            )
        raw = statements[0]
        encoded = None if text.isascii() else text.encode("utf-8")
        location = int(raw.get("stmt_location", 0))
        length = int(raw.get("stmt_len", 0))
        start = _char_offset(text, encoded, location)
        end = len(text) if length == 0 else _char_offset(text, encoded, location + length)
        return _Statement(select=body, start=start, end=end)


def _relation_names(allowed: Mapping[str, object] | Collection[str]) -> frozenset[str]:
    """Normalise the constructor's allow-list to unqualified names of schema `retail`."""
    names: set[str] = set()
    for entry in allowed:
        name = str(entry)
        schema, dot, rest = name.partition(".")
        if dot:
            if schema != RETAIL_SCHEMA or "." in rest or not rest:
                raise ConfigurationError(
                    f"SQL guard relation {name!r} is not a table of schema {RETAIL_SCHEMA}"
                )
            name = rest
        names.add(name)
    if not names:
        raise ConfigurationError("the SQL guard needs at least one allowed relation")
    return frozenset(names)


def _parse(text: str) -> dict[str, Any]:
    """libpg_query parse → JSON tree; syntax errors become messages with line and column."""
    try:
        tree_json = pg_parser.parse_sql_json(text)
    except pg_parser.ParseError as error:
        message, index = _parse_error_parts(error)
        if index is None:
            raise ValidationError(f"SQL syntax error: {message}") from None
        line, column = _line_column(text, index)
        raise ValidationError(
            f"SQL syntax error: {message} (line {line}, column {column})"
        ) from None
    except UnicodeEncodeError:
        raise ValidationError("the query is not valid Unicode text") from None
    try:
        tree = json.loads(tree_json)
    except RecursionError:
        raise ValidationError(
            "the query is nested too deeply to check; simplify long chains of operators "
            "or nested expressions"
        ) from None
    if not isinstance(tree, dict):  # pragma: no cover - libpg_query always returns an object
        raise ValidationError("the query could not be checked")
    return tree


def _parse_error_parts(error: Exception) -> tuple[str, int | None]:
    args = error.args
    message = str(args[0]) if args else str(error)
    index = args[1] if len(args) > 1 and isinstance(args[1], int) else None
    return message, index


def _statement_of(raw: Any) -> tuple[str, dict[str, Any]]:
    """A RawStmt's statement as (kind, fields)."""
    stmt = raw.get("stmt") if isinstance(raw, dict) else None
    if isinstance(stmt, dict) and len(stmt) == 1:
        ((kind, body),) = stmt.items()
        if isinstance(body, dict):
            return kind, body
    return "UnknownStmt", {}


def _summarise(problems: Iterable[tuple[int, str]], hint: str | None) -> str:
    """Distinct problems in the order they appear in the text, at most a handful, then the
    list of queryable tables once if a relation was refused."""
    ordered: list[str] = []
    for _, message in sorted(problems, key=lambda item: item[0]):
        if message not in ordered:
            ordered.append(message)
    shown = "; ".join(ordered[:_MAX_PROBLEMS_REPORTED])
    hidden = len(ordered) - _MAX_PROBLEMS_REPORTED
    if hidden > 0:
        shown += f" (and {hidden} more)"
    return f"{shown}; {hint}" if hint else shown


def _render(text: str, start: int, end: int) -> tuple[str, str]:
    """The statement to run and its fingerprint, from the scanner's tokens.

    The SQL keeps the user's text (so database error positions match what the model wrote) but
    blanks comments: nothing can then swallow text the executor might append, and hidden
    comment payloads never reach logs. The fingerprint also replaces every literal token
    (strings in any quoting, numbers, bit strings) with `$n` and collapses whitespace.
    """
    sql_parts: list[str] = []
    fingerprint_parts: list[str] = []
    sql_cursor = fingerprint_cursor = start
    placeholder = 0
    for token_start, token_last, name, _ in pg_parser.scan(text):
        if token_start < start:
            continue
        if token_start >= end:
            break
        if name in _COMMENT_TOKENS:
            sql_parts += (text[sql_cursor:token_start], " ")
            fingerprint_parts += (text[fingerprint_cursor:token_start], " ")
            sql_cursor = fingerprint_cursor = token_last + 1
        elif name in _LITERAL_TOKENS:
            placeholder += 1
            fingerprint_parts += (text[fingerprint_cursor:token_start], f"${placeholder}")
            fingerprint_cursor = token_last + 1
    sql_parts.append(text[sql_cursor:end])
    fingerprint_parts.append(text[fingerprint_cursor:end])
    return "".join(sql_parts).strip(), " ".join("".join(fingerprint_parts).split())
