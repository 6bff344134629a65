"""Search documents built from the warehouse, with the privacy rules applied where data enters search.

Both backends read the same documents: the Postgres backend inserts them into versioned tables in the
`search` schema; the Elasticsearch backend turns each row into an Elasticsearch document. The SELECTs
live in sql/journal_documents.sql and sql/story_documents.sql; this module fills in what depends on the
warehouse at run time (the active embedding model, how the raw copies mark their change cursor and
hard deletes, whether the quarantine exists), always through psycopg.sql.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import psycopg
from psycopg import sql

from assets.search.analysis import fold_function_sql
from orchestration.db import table_exists

SQL_DIR = Path(__file__).resolve().parent / "sql"

# vectors.active_models.source values that name each embedded source (qualified name first).
JOURNAL_VECTOR_SOURCES = ("mindflow.journal_entries", "journal_entries", "vectors.journal_entries")
STORY_VECTOR_SOURCES = ("mosaic.stories", "mosaic_stories", "stories", "vectors.mosaic_stories")

# Columns a raw copy may carry to mark a row deleted at the source (kept as a tombstone).
_TOMBSTONE_TIMESTAMPS = ("_deleted_at", "_source_deleted_at")
_TOMBSTONE_FLAGS = ("_deleted", "_is_deleted")


@lru_cache(maxsize=None)
def read_sql(name: str) -> str:
    return (SQL_DIR / name).read_text()


@dataclass(frozen=True)
class ActiveModel:
    model_id: str
    dimension: int


@dataclass(frozen=True)
class DocumentKind:
    """One kind of search document (journal entry or story)."""

    name: str                       # 'journal' | 'story'
    select_file: str
    vector_table: str               # table in schema `vectors`
    vector_sources: tuple[str, ...]
    quarantine_table: str           # source table name used by quality.quarantine


JOURNAL = DocumentKind("journal", "journal_documents.sql", "journal_entries", JOURNAL_VECTOR_SOURCES,
                       "mindflow.journal_entries")
STORY = DocumentKind("story", "story_documents.sql", "mosaic_stories", STORY_VECTOR_SOURCES, "mosaic.stories")


def _column_types(conn: psycopg.Connection, schema: str, table: str) -> dict[str, str]:
    rows = conn.execute(
        """SELECT a.attname, format_type(a.atttypid, a.atttypmod)
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped""",
        (schema, table),
    ).fetchall()
    return dict(rows)


def lsn_expression(alias: str, column_type: str | None) -> sql.Composable:
    """The raw row's change cursor (`_source_lsn`) as a bigint, whatever type the ingest gave it."""
    column = sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier("_source_lsn"))
    if column_type is None:
        return sql.SQL("0::bigint")
    if column_type == "pg_lsn":
        return sql.SQL("({} - '0/0'::pg_lsn)::bigint").format(column)
    if column_type in {"bigint", "integer", "smallint", "numeric"} or column_type.startswith("numeric"):
        return sql.SQL("{}::bigint").format(column)
    return sql.SQL("({}::text::pg_lsn - '0/0'::pg_lsn)::bigint").format(column)


def live_expression(alias: str, columns: dict[str, str]) -> sql.Composable:
    """True for rows the source still has (hard deletes kept as tombstones are filtered out)."""
    parts: list[sql.Composable] = []
    for name in _TOMBSTONE_TIMESTAMPS:
        if name in columns:
            parts.append(sql.SQL("{}.{} IS NULL").format(sql.Identifier(alias), sql.Identifier(name)))
    for name in _TOMBSTONE_FLAGS:
        if name in columns:
            parts.append(sql.SQL("NOT coalesce({}.{}, false)").format(sql.Identifier(alias), sql.Identifier(name)))
    return sql.SQL(" AND ").join(parts) if parts else sql.SQL("true")


def active_model(conn: psycopg.Connection, kind: DocumentKind) -> ActiveModel | None:
    """The source's active embedding model, or None when no vectors exist (yet)."""
    if not (table_exists(conn, "vectors", "active_models") and table_exists(conn, "vectors", kind.vector_table)):
        return None
    row = conn.execute(
        """SELECT model_id::text, dimension FROM vectors.active_models
            WHERE source = ANY(%s) ORDER BY activated_at DESC NULLS LAST LIMIT 1""",
        (list(kind.vector_sources),),
    ).fetchone()
    return ActiveModel(row[0], int(row[1])) if row else None


def _vectors_cte(kind: DocumentKind, model: ActiveModel | None) -> sql.Composable:
    if model is None:
        return sql.SQL("SELECT NULL::uuid AS source_id, NULL::text AS model_id, NULL::vector AS embedding, "
                       "NULL::text AS vector_hash WHERE false")
    return sql.SQL(read_sql("document_vectors.sql")).format(
        vector_table=sql.Identifier("vectors", kind.vector_table), model_id=sql.Literal(model.model_id)
    )


def _quarantine_filter(conn: psycopg.Connection, kind: DocumentKind, alias: str) -> sql.Composable:
    if not table_exists(conn, "quality", "active_quarantine"):
        return sql.SQL("true")
    from quality.quarantine import not_quarantined

    return not_quarantined(kind.quarantine_table, sql.SQL("{}.id::text").format(sql.Identifier(alias)))


# alias -> raw table, per kind
_JOURNAL_ALIASES = {"e": ("raw_mindflow", "journal_entries"), "u": ("raw_mindflow", "users"),
                    "s": ("raw_mindflow", "user_settings"), "jet": ("raw_mindflow", "journal_entry_tags"),
                    "t": ("raw_mindflow", "tags")}
_STORY_ALIASES = {"s": ("raw_mosaic", "stories"), "l": ("raw_mosaic", "legacies"), "g": ("raw_mosaic", "groups"),
                  "p": ("raw_mosaic", "persons"), "r": ("raw_mosaic", "person_relationships")}


class MissingSourceError(RuntimeError):
    """The raw copies a search index is built from are not in the warehouse yet."""


def document_query(conn: psycopg.Connection, kind: DocumentKind) -> tuple[sql.Composed, ActiveModel | None]:
    """The SELECT producing every eligible document of `kind`, and the model its vectors come from."""
    aliases = _JOURNAL_ALIASES if kind is JOURNAL else _STORY_ALIASES
    fields: dict[str, sql.Composable] = {}
    for alias, (schema, table) in aliases.items():
        columns = _column_types(conn, schema, table)
        if not columns:
            raise MissingSourceError(f"{schema}.{table} is not in the warehouse; run the ingest first")
        fields[f"{alias}_lsn"] = lsn_expression(alias, columns.get("_source_lsn"))
        fields[f"{alias}_live"] = live_expression(alias, columns)
    model = active_model(conn, kind)
    main_alias = "e" if kind is JOURNAL else "s"
    fields["not_quarantined"] = _quarantine_filter(conn, kind, main_alias)
    fields["entry_vectors" if kind is JOURNAL else "story_vectors"] = _vectors_cte(kind, model)
    return sql.SQL(read_sql(kind.select_file)).format(**fields), model


def fold_function_ddl() -> sql.Composed:
    """CREATE OR REPLACE FUNCTION search.fold(...) generated from the Python folding map."""
    from_chars, to_chars, multi = fold_function_sql()
    replaced: sql.Composable = sql.SQL("input")
    for char, replacement in multi:
        replaced = sql.SQL("replace({}, {}, {})").format(replaced, sql.Literal(char), sql.Literal(replacement))
    return sql.SQL(read_sql("fold_function.sql")).format(
        replaced=replaced, from_chars=sql.Literal(from_chars), to_chars=sql.Literal(to_chars)
    )


def ensure_search_schema(conn: psycopg.Connection) -> None:
    """Schema `search`, its bookkeeping tables and functions (idempotent)."""
    conn.execute("SELECT pg_advisory_xact_lock(7240901)")
    conn.execute(read_sql("schema.sql"))
    conn.execute(fold_function_ddl())
