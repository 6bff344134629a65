"""Building and maintaining the Postgres search index: versioned tables, the atomic view swap, incremental
sync by fingerprint, the per-user tag tables, and the build ledger (`search.builds`, `search.current_versions`).

- A rebuild fills a new version while readers keep using the old one, then repoints the views with
  CREATE OR REPLACE VIEW in one transaction (the Postgres equivalent of an Elasticsearch alias swap): a
  reader sees either the whole old index or the whole new one, never an empty or half-built one;
- between rebuilds `sync` upserts changed documents (by fingerprint) into the live version and deletes
  those that are no longer eligible (soft-deleted, erased user, gone from the source).

Semantic search only ever reads rows with `ai_eligible` and a vector, which private entries never have
(sql/journal_documents.sql): privacy is decided here, when documents are built. Querying is query.py.
"""

from __future__ import annotations

import logging
from typing import Sequence

import psycopg
from psycopg import sql

from assets.search.documents import JOURNAL, ActiveModel, document_query, ensure_search_schema, read_sql
from assets.search.model import IndexReport
from assets.search.postgres.layout import JOURNAL_INDEX, SCHEMA, STORY_INDEX, PgIndex

log = logging.getLogger(__name__)


def versioned(name: str, version: int) -> str:
    return f"{name}_v{version}"


def current_version(conn: psycopg.Connection, index: PgIndex) -> int | None:
    if conn.execute("SELECT to_regclass('search.current_versions') IS NULL").fetchone()[0]:
        return None
    row = conn.execute("SELECT version FROM search.current_versions WHERE index_name = %s", (index.name,)).fetchone()
    return row[0] if row else None


def _build_model(conn: psycopg.Connection, index: PgIndex, version: int) -> tuple[str | None, int | None]:
    row = conn.execute("SELECT model_id, dimension FROM search.builds WHERE index_name = %s AND version = %s",
                       (index.name, version)).fetchone()
    return (row[0], row[1]) if row else (None, None)


def _create_table(conn: psycopg.Connection, index: PgIndex, table: str, model: ActiveModel | None) -> None:
    embedding_type = sql.SQL("vector({})").format(sql.Literal(model.dimension)) if model else sql.SQL("vector")
    conn.execute(sql.SQL(read_sql(index.table_file)).format(
        table=sql.Identifier(SCHEMA, table), embedding_type=embedding_type))


def _create_indexes(conn: psycopg.Connection, index: PgIndex, table: str) -> None:
    names = {f"prefix_{suffix}": sql.Identifier(f"{table}_{suffix}") for suffix in index.index_names}
    conn.execute(sql.SQL(read_sql(index.indexes_file)).format(table=sql.Identifier(SCHEMA, table), **names))


def _column_list(columns: Sequence[str], alias: str | None = None) -> sql.Composable:
    if alias:
        return sql.SQL(", ").join(sql.Identifier(alias, c) for c in columns)
    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)


def _view_ddl(index: PgIndex, table: str) -> sql.Composed:
    # The view's columns never change type across versions (embedding is cast to plain `vector`), so
    # CREATE OR REPLACE VIEW can repoint it whatever the model's dimension.
    select = [sql.SQL("embedding::vector AS embedding") if c == "embedding" else sql.Identifier(c)
              for c in index.columns]
    select += [sql.Identifier("indexed_at"), sql.Identifier("tsv")]
    return sql.SQL("CREATE OR REPLACE VIEW {} AS SELECT {} FROM {}").format(
        sql.Identifier(SCHEMA, index.name), sql.SQL(", ").join(select), sql.Identifier(SCHEMA, table))


def _fill_tags(conn: psycopg.Connection, index: PgIndex, version: int, users: list[str] | None) -> None:
    tags_table = sql.Identifier(SCHEMA, versioned(index.tags_view, version))
    docs_table = sql.Identifier(SCHEMA, versioned(index.name, version))
    if users is not None:
        conn.execute(sql.SQL("DELETE FROM {} WHERE user_id = ANY(%s::uuid[])").format(tags_table), (users,))
    conn.execute(sql.SQL(read_sql("journal_tags_fill.sql")).format(tags_table=tags_table, docs_table=docs_table),
                 {"all_users": users is None, "users": users or []})


def rebuild(url: str, index: PgIndex) -> IndexReport:
    """Build a complete new version next to the live one, then swap the reader views to it atomically."""
    with psycopg.connect(url, autocommit=True, application_name="tessera-search") as conn:
        with conn.transaction():
            ensure_search_schema(conn)
        conn.execute("SELECT pg_advisory_lock(%s)", (index.lock_key,))
        try:
            return _rebuild_locked(conn, index)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (index.lock_key,))


def _rebuild_locked(conn: psycopg.Connection, index: PgIndex) -> IndexReport:
    previous = current_version(conn, index)
    version = conn.execute("SELECT coalesce(max(version), 0) + 1 FROM search.builds WHERE index_name = %s",
                           (index.name,)).fetchone()[0]
    table = versioned(index.name, version)
    with conn.transaction():
        query, model = document_query(conn, index.kind)
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(SCHEMA, table)))
        _create_table(conn, index, table, model)
        conn.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM ({}) AS docs").format(
            sql.Identifier(SCHEMA, table), _column_list(index.columns), _column_list(index.columns, "docs"), query))
        _create_indexes(conn, index, table)
        documents = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(SCHEMA, table))).fetchone()[0]
        if index.tags_view:
            tags_table = versioned(index.tags_view, version)
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(SCHEMA, tags_table)))
            conn.execute(sql.SQL(read_sql("journal_tags_table.sql")).format(
                table=sql.Identifier(SCHEMA, tags_table), prefix_prefix=sql.Identifier(f"{tags_table}_prefix")))
            _fill_tags(conn, index, version, None)
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(SCHEMA, table)))
        conn.execute(
            "INSERT INTO search.builds (index_name, version, backend, model_id, dimension, documents) "
            "VALUES (%s, %s, 'postgres', %s, %s, %s)",
            (index.name, version, model.model_id if model else None, model.dimension if model else None, documents))
    # The swap: both views and the current-version pointer in one short transaction.
    with conn.transaction():
        conn.execute("SET LOCAL lock_timeout = '30s'")
        conn.execute(_view_ddl(index, table))
        if index.tags_view:
            conn.execute(sql.SQL("CREATE OR REPLACE VIEW {} AS SELECT user_id, tag, tag_folded, doc_count FROM {}").format(
                sql.Identifier(SCHEMA, index.tags_view), sql.Identifier(SCHEMA, versioned(index.tags_view, version))))
        conn.execute(
            "INSERT INTO search.current_versions (index_name, version) VALUES (%s, %s) "
            "ON CONFLICT (index_name) DO UPDATE SET version = EXCLUDED.version, swapped_at = now()",
            (index.name, version))
    removed = 0
    if previous is not None:
        removed = conn.execute(
            sql.SQL("SELECT count(*) FROM {} p WHERE NOT EXISTS (SELECT 1 FROM {} n WHERE n.id = p.id)").format(
                sql.Identifier(SCHEMA, versioned(index.name, previous)), sql.Identifier(SCHEMA, table))).fetchone()[0]
    dropped = drop_old_versions(conn, index, keep=version - 1)
    return IndexReport(index.name, "postgres", version, True, documents, documents, removed,
                       model.model_id if model else None, dropped)


def drop_old_versions(conn: psycopg.Connection, index: PgIndex, *, keep: int) -> list[int]:
    """Drop versions older than `keep` (the previous version stays for a quick roll-back). A version a
    long reader still holds is skipped after a short lock wait and dropped by a later run."""
    rows = conn.execute(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname ~ %s""",
        (SCHEMA, f"^({index.name}|{index.tags_view or index.name})_v[0-9]+$")).fetchall()
    dropped: list[int] = []
    for (relname,) in rows:
        number = int(relname.rsplit("_v", 1)[1])
        if number >= keep:
            continue
        try:
            with conn.transaction():
                conn.execute("SET LOCAL lock_timeout = '2s'")
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(SCHEMA, relname)))
            dropped.append(number)
        except psycopg.errors.LockNotAvailable:
            log.info("search: %s still in use, dropping it later", relname)
    return sorted(set(dropped))


def sync(url: str, index: PgIndex) -> IndexReport:
    """Incremental maintenance of the live version; rebuilds when there is none or the model changed."""
    with psycopg.connect(url, autocommit=True, application_name="tessera-search") as conn:
        with conn.transaction():
            ensure_search_schema(conn)
        conn.execute("SELECT pg_advisory_lock(%s)", (index.lock_key,))
        try:
            version = current_version(conn, index)
            if version is None:
                return _rebuild_locked(conn, index)
            with conn.transaction():
                query, model = document_query(conn, index.kind)
                built_model, built_dimension = _build_model(conn, index, version)
                wanted = (model.model_id, model.dimension) if model else (None, None)
                if wanted != (built_model, built_dimension):
                    needs_rebuild = True
                else:
                    needs_rebuild = False
                    report = _sync_locked(conn, index, version, query, model)
            if needs_rebuild:
                log.info("search: embedding model changed for %s, rebuilding", index.name)
                return _rebuild_locked(conn, index)
            return report
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (index.lock_key,))


def _sync_locked(conn: psycopg.Connection, index: PgIndex, version: int, query: sql.Composable,
                 model: ActiveModel | None) -> IndexReport:
    table = sql.Identifier(SCHEMA, versioned(index.name, version))
    conn.execute(sql.SQL("CREATE TEMP TABLE search_staged ON COMMIT DROP AS {}").format(query))
    conn.execute("CREATE INDEX ON search_staged (id)")
    owner = "user_id" if index.kind is JOURNAL else "submitted_by"
    deleted = conn.execute(sql.SQL(
        "DELETE FROM {t} t WHERE NOT EXISTS (SELECT 1 FROM search_staged s WHERE s.id = t.id) RETURNING t.{o}"
    ).format(t=table, o=sql.Identifier(owner))).fetchall()
    updates = sql.SQL(", ").join(
        sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in index.columns if c != "id")
    upserted = conn.execute(sql.SQL(
        "INSERT INTO {t} ({cols}) SELECT {scols} FROM search_staged s "
        "WHERE NOT EXISTS (SELECT 1 FROM {t} t WHERE t.id = s.id AND t.fingerprint = s.fingerprint) "
        "ON CONFLICT (id) DO UPDATE SET {updates}, indexed_at = now() RETURNING {o}"
    ).format(t=table, cols=_column_list(index.columns), scols=_column_list(index.columns, "s"),
             updates=updates, o=sql.Identifier(owner))).fetchall()
    if index.tags_view and (deleted or upserted):
        users = sorted({str(r[0]) for r in deleted + upserted})
        _fill_tags(conn, index, version, users)
    documents = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()[0]
    conn.execute("UPDATE search.builds SET documents = %s WHERE index_name = %s AND version = %s",
                 (documents, index.name, version))
    return IndexReport(index.name, "postgres", version, False, documents, len(upserted), len(deleted),
                       model.model_id if model else None)


def refresh(url: str, index: PgIndex, *, full: bool = False) -> IndexReport:
    return rebuild(url, index) if full else sync(url, index)


def index_model(conn: psycopg.Connection, index: PgIndex) -> str | None:
    """The embedding model of the live version (queries must be encoded with it)."""
    version = current_version(conn, index)
    return None if version is None else _build_model(conn, index, version)[0]


def index_for(which: str) -> PgIndex:
    """The index a refresh names: 'journal' or 'stories'."""
    return JOURNAL_INDEX if which == "journal" else STORY_INDEX
