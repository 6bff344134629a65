"""Search documents built from the warehouse, with the privacy rules applied where data enters search.

Both backends read the same documents: the Postgres backend inserts them into versioned tables in the
`search` schema; the Elasticsearch backend turns each row into an Elasticsearch document. The SELECTs
live in sql/journal_documents.sql and sql/story_documents.sql and read the dbt eligibility and staging
models (where the privacy and quarantine rules are written once); this module fills in what depends on
the warehouse at run time (the active embedding model), always through psycopg.sql.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from assets.search.analysis import fold_function_sql
from core.db import table_exists
from sources.sql_files import sql_text


# vectors.active_models.source values that name each embedded source (qualified name first).
JOURNAL_VECTOR_SOURCES = ("mindflow.journal_entries", "journal_entries", "vectors.journal_entries")
STORY_VECTOR_SOURCES = ("mosaic.stories", "mosaic_stories", "stories", "vectors.mosaic_stories")


def read_sql(name: str) -> str:
    """A statement file of the search area (assets/search/sql)."""
    return sql_text(__package__, name)


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
    reads: tuple[tuple[str, str], ...]  # the dbt models the documents are built from: (schema, name)


JOURNAL = DocumentKind("journal", "journal_documents.sql", "journal_entries", JOURNAL_VECTOR_SOURCES,
                       (("eligibility", "eligible_journal_entries"), ("staging", "stg_mindflow__journal_entry_tags"),
                        ("staging", "stg_mindflow__tags")))
STORY = DocumentKind("story", "story_documents.sql", "mosaic_stories", STORY_VECTOR_SOURCES,
                     (("eligibility", "eligible_mosaic_stories"), ("staging", "stg_mosaic__legacies"),
                      ("intermediate", "int_mosaic__story_grants")))


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


class MissingSourceError(RuntimeError):
    """The dbt models a search index is built from are not in the warehouse yet."""


def document_query(conn: psycopg.Connection, kind: DocumentKind) -> tuple[sql.Composed, ActiveModel | None]:
    """The SELECT producing every eligible document of `kind`, and the model its vectors come from."""
    missing = [f"{schema}.{name}" for schema, name in kind.reads if not table_exists(conn, schema, name)]
    if missing:
        raise MissingSourceError(f"{', '.join(missing)} not in the warehouse; run the ingest and the dbt views first")
    model = active_model(conn, kind)
    vectors = {"entry_vectors" if kind is JOURNAL else "story_vectors": _vectors_cte(kind, model)}
    return sql.SQL(read_sql(kind.select_file)).format(**vectors), model


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
