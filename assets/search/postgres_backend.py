"""The Postgres search backend (the embedded default): full text, pgvector and RRF in the warehouse.

Layout in schema `search`:
- `journal_documents_v<N>`, `journal_tags_v<N>`, `story_documents_v<N>`: one table per built version;
- views `journal_documents`, `journal_tags`, `story_documents`: what readers query. A rebuild fills a
  new version while readers keep using the old one, then repoints the views with CREATE OR REPLACE VIEW
  in one transaction (the Postgres equivalent of an Elasticsearch alias swap): a reader sees either the
  whole old index or the whole new one, never an empty or half-built one;
- between rebuilds `sync` upserts changed documents (by fingerprint) into the live version and deletes
  those that are no longer eligible (soft-deleted, erased user, gone from the source).

Every query is scoped in SQL: journal documents by `user_id`, stories by the indexed access fields
(`is_public OR readers @> ARRAY[user]`). Semantic and hybrid arms only read rows with `ai_eligible` and a
vector, which private entries never have (sql/journal_documents.sql).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import psycopg
from psycopg import sql

from assets.search.analysis import POST_TAG, PRE_TAG, escape_like, normalize_tag_prefix, restore_fragments
from assets.search.documents import (
    JOURNAL,
    STORY,
    ActiveModel,
    DocumentKind,
    document_query,
    ensure_search_schema,
    read_sql,
)
from assets.search.model import Hit, JournalQuery, SearchResult, StoryQuery, candidate_count, validate
from assets.search.rrf import RRF_K

log = logging.getLogger(__name__)

SCHEMA = "search"
_LOCK_BASE = 7240900  # pg_advisory_lock keys: one per index name

_JOURNAL_COLUMNS = (
    "id", "user_id", "date", "title", "content", "mood", "tags", "location", "word_count", "is_private",
    "private_mode", "ai_eligible", "created_at", "updated_at", "entry_version", "source_version",
    "embedding", "model_id", "vector_hash", "fingerprint",
)
_STORY_COLUMNS = (
    "id", "legacy_id", "legacy_name", "submitted_by", "legacy_admin", "visibility", "is_public", "readers",
    "title", "content", "story_type", "tags", "created_at", "updated_at", "approved", "source_version",
    "embedding", "model_id", "vector_hash", "fingerprint",
)


@dataclass(frozen=True)
class PgIndex:
    name: str                      # the reader view, e.g. journal_documents
    kind: DocumentKind
    table_file: str
    indexes_file: str
    index_names: tuple[str, ...]   # placeholders in indexes_file, suffixes of the index names
    columns: tuple[str, ...]
    tags_view: str | None = None   # per-user tag table for autocomplete

    @property
    def lock_key(self) -> int:
        return _LOCK_BASE + (1 if self.kind is JOURNAL else 2)


JOURNAL_INDEX = PgIndex("journal_documents", JOURNAL, "journal_table.sql", "journal_indexes.sql",
                        ("tsv", "user_date", "user_mood"), _JOURNAL_COLUMNS, tags_view="journal_tags")
STORY_INDEX = PgIndex("story_documents", STORY, "story_table.sql", "story_indexes.sql",
                      ("tsv", "readers", "public"), _STORY_COLUMNS)


@dataclass
class IndexReport:
    index: str
    backend: str
    version: int
    rebuilt: bool
    documents: int
    upserted: int
    deleted: int
    model_id: str | None = None
    dropped_versions: list[int] = field(default_factory=list)

    def metadata(self) -> dict[str, Any]:
        return {
            "backend": self.backend, "index": self.index, "index_version": self.version,
            "rebuilt": self.rebuilt, "documents_total": self.documents, "documents_indexed": self.upserted,
            "documents_deleted": self.deleted, "embedding_model": self.model_id or "none",
        }


# ---------------------------------------------------------------------------------------------------
# Building and maintaining the index
# ---------------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------------

_HEADLINE_OPTIONS = (f'StartSel={PRE_TAG}, StopSel={POST_TAG}, MaxFragments=3, MaxWords=20, MinWords=6, '
                     'FragmentDelimiter="\x1e"')
_TITLE_OPTIONS = f"StartSel={PRE_TAG}, StopSel={POST_TAG}, HighlightAll=true"
TAG_FACET_SIZE = 20


def vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in vector) + "]"


def journal_conditions(query: JournalQuery) -> tuple[list[sql.Composable], dict[str, Any]]:
    """WHERE conditions of a journal query: the user scope first, then the filters."""
    conditions: list[sql.Composable] = [sql.SQL("d.user_id = %(user_id)s::uuid")]
    params: dict[str, Any] = {"user_id": str(query.user_id)}
    if query.moods:
        conditions.append(sql.SQL("d.mood = ANY(%(moods)s::text[])"))
        params["moods"] = [m.lower() for m in query.moods]
    if query.tags:
        conditions.append(sql.SQL("d.tags @> %(tags)s::text[]"))
        params["tags"] = [t.strip().lower() for t in query.tags]
    if query.date_from:
        conditions.append(sql.SQL("d.date >= %(date_from)s::date"))
        params["date_from"] = query.date_from
    if query.date_to:
        conditions.append(sql.SQL("d.date <= %(date_to)s::date"))
        params["date_to"] = query.date_to
    return conditions, params


def story_conditions(query: StoryQuery) -> tuple[list[sql.Composable], dict[str, Any]]:
    """WHERE conditions of a story query: the access scope (indexed fields) first, then the filters."""
    conditions: list[sql.Composable] = [sql.SQL("(d.is_public OR d.readers @> ARRAY[%(user_id)s::uuid])")]
    params: dict[str, Any] = {"user_id": str(query.user_id)}
    if query.tags:
        conditions.append(sql.SQL("d.tags @> %(tags)s::text[]"))
        params["tags"] = list(query.tags)
    if query.legacy_id:
        conditions.append(sql.SQL("d.legacy_id = %(legacy_id)s::uuid"))
        params["legacy_id"] = str(query.legacy_id)
    if query.story_types:
        conditions.append(sql.SQL("d.story_type = ANY(%(story_types)s::text[])"))
        params["story_types"] = list(query.story_types)
    if query.date_from:
        conditions.append(sql.SQL("d.created_at >= %(date_from)s::date"))
        params["date_from"] = query.date_from
    if query.date_to:
        conditions.append(sql.SQL("d.created_at < %(date_to)s::date + 1"))
        params["date_to"] = query.date_to
    return conditions, params


def ranked_cte(mode: str, *, view: sql.Composable, conditions: list[sql.Composable], vector_condition: sql.Composable,
               date_column: str, has_text: bool) -> sql.Composed:
    """The `ranked(id, score, position)` CTE body for one mode. `position` is the final order."""
    date_col = sql.Identifier("d", date_column)
    where = sql.SQL(" AND ").join(conditions)
    keyword_where = sql.SQL(" AND ").join([*conditions, sql.SQL("d.tsv @@ q.query")])
    if mode == "keyword":
        if not has_text:  # no text: the user's (filtered) documents, newest first
            return sql.SQL(
                "SELECT d.id, 0::float8 AS score, row_number() OVER (ORDER BY {date} DESC, d.id) AS position "
                "FROM {view} d WHERE {where}").format(date=date_col, view=view, where=where)
        return sql.SQL(
            "SELECT d.id, ts_rank_cd(d.tsv, q.query)::float8 AS score, "
            "row_number() OVER (ORDER BY ts_rank_cd(d.tsv, q.query) DESC, {date} DESC, d.id) AS position "
            "FROM {view} d, q WHERE {where}").format(date=date_col, view=view, where=keyword_where)
    semantic = sql.SQL(
        "SELECT id, score, position FROM ("
        " SELECT d.id, (1 - (d.embedding <=> q.qv))::float8 AS score,"
        " row_number() OVER (ORDER BY d.embedding <=> q.qv, d.id) AS position"
        " FROM {view} d, q WHERE {where} AND {vec}) s WHERE position <= %(candidates)s"
    ).format(view=view, where=where, vec=vector_condition)
    if mode == "semantic":
        return semantic
    # hybrid: reciprocal rank fusion, score(d) = sum over the two rankings of 1 / (k + rank), k = 60
    # (Cormack, Clarke & Büttcher 2009; the same formula and tie-breaks as assets/search/rrf.py). Both
    # arms only see documents with a vector, so a hybrid hit is always an AI-eligible document.
    keyword_arm = sql.SQL(
        "SELECT id, position AS rank FROM ("
        " SELECT d.id, row_number() OVER (ORDER BY ts_rank_cd(d.tsv, q.query) DESC, {date} DESC, d.id) AS position"
        " FROM {view} d, q WHERE {where} AND {vec}) k WHERE position <= %(candidates)s"
    ).format(date=date_col, view=view, where=keyword_where, vec=vector_condition)
    return sql.SQL(
        "SELECT id, sum(1.0 / ({k} + rank))::float8 AS score,"
        " row_number() OVER (ORDER BY sum(1.0 / ({k} + rank)) DESC, min(rank), id) AS position"
        " FROM ({kw} UNION ALL SELECT id, position AS rank FROM ({sem}) s) arms GROUP BY id"
    ).format(k=sql.Literal(RRF_K), kw=keyword_arm, sem=semantic)


def _facet_sql(view: sql.Composable, name: str, expression: str, size: int | None) -> sql.Composed:
    unnest = expression.startswith("unnest")
    source = (sql.SQL("ranked r JOIN {view} d ON d.id = r.id CROSS JOIN LATERAL {expr} AS f(value)")
              if unnest else sql.SQL("ranked r JOIN {view} d ON d.id = r.id, LATERAL (SELECT {expr} AS value) f"))
    limit = sql.SQL("LIMIT {}").format(sql.Literal(size)) if size else sql.SQL("")
    return sql.SQL(
        "(SELECT coalesce(jsonb_agg(jsonb_build_array(value, n) ORDER BY n DESC, value), '[]'::jsonb) FROM ("
        " SELECT f.value, count(*) AS n FROM {source} WHERE f.value IS NOT NULL GROUP BY f.value"
        " ORDER BY n DESC, f.value {limit}) x) AS {name}"
    ).format(source=source.format(view=view, expr=sql.SQL(expression)), limit=limit, name=sql.Identifier(name))


def search_statement(mode: str, *, view: sql.Composable, conditions: list[sql.Composable],
                     vector_condition: sql.Composable, date_column: str, has_text: bool,
                     display: Sequence[str], facets: Sequence[tuple[str, str, int | None]]) -> sql.Composed:
    """One statement: ranked candidates, the top `limit` hits with highlights, and facet counts over all
    candidates (keyword: every match; semantic: the nearest candidates; hybrid: the fused candidates)."""
    q_parts = [sql.SQL("websearch_to_tsquery('english', search.fold(%(text)s)) AS query")]
    if mode != "keyword":
        q_parts.append(sql.SQL("%(qv)s::vector AS qv"))
    facet_columns = [_facet_sql(view, name, expr, size) for name, expr, size in facets]
    return sql.SQL(
        "WITH q AS MATERIALIZED (SELECT {q}), ranked AS MATERIALIZED ({ranked}) "
        "SELECT d.id::text, r.score, {display}, "
        "ts_headline('english', search.fold(d.title), q.query, {title_opts}) AS title_hl, "
        "ts_headline('english', search.fold(d.content), q.query, {content_opts}) AS content_hl, "
        "{facets} "
        "FROM (SELECT * FROM ranked ORDER BY position LIMIT %(limit)s) r JOIN {view} d ON d.id = r.id, q "
        "ORDER BY r.position"
    ).format(
        q=sql.SQL(", ").join(q_parts),
        ranked=ranked_cte(mode, view=view, conditions=conditions, vector_condition=vector_condition,
                          date_column=date_column, has_text=has_text),
        display=sql.SQL(", ").join(sql.Identifier("d", c) for c in display),
        title_opts=sql.Literal(_TITLE_OPTIONS), content_opts=sql.Literal(_HEADLINE_OPTIONS),
        facets=sql.SQL(", ").join(facet_columns), view=view,
    )


def _highlights(title_hl: str | None, content_hl: str | None, title: str, content: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if title_hl and PRE_TAG in title_hl:
        out["title"] = restore_fragments([title_hl], title)
    if content_hl and PRE_TAG in content_hl:
        fragments = [f for f in content_hl.split("\x1e") if PRE_TAG in f]
        out["content"] = restore_fragments(fragments, content)
    return out


def _facet_dict(value: Any) -> dict[str, int]:
    return {str(v): int(n) for v, n in (value or [])}


class PostgresBackend:
    """Search over the `search` schema of the warehouse. `encoder_for(model_id)` turns query text into a
    vector with the model the index was built with (default: the embeddings area's encoder)."""

    name = "postgres"

    def __init__(self, url: str, *, encoder_for: Callable[[str], Any] | None = None):
        self.url = url
        self._conn: psycopg.Connection | None = None
        self._encoder_for = encoder_for

    # connection -------------------------------------------------------------------------------
    def connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True, application_name="tessera-search")
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # indexing ---------------------------------------------------------------------------------
    def refresh(self, which: str, *, full: bool = False) -> IndexReport:
        return refresh(self.url, JOURNAL_INDEX if which == "journal" else STORY_INDEX, full=full)

    # queries ----------------------------------------------------------------------------------
    def _query_vector(self, index: PgIndex, text: str) -> str:
        model_id = index_model(self.connection(), index)
        if model_id is None:
            raise LookupError(f"the {index.name} index has no vectors yet (no active embedding model)")
        encoder = (self._encoder_for or _default_encoder)(model_id)
        return vector_literal(encoder.encode([text])[0])

    def _run(self, index: PgIndex, mode: str, text: str, conditions, params, *, vector_condition, date_column,
             display, facets, limit: int) -> list[tuple]:
        params = dict(params, text=text, limit=limit, candidates=candidate_count(limit))
        if mode != "keyword":
            params["qv"] = self._query_vector(index, text)
        statement = search_statement(mode, view=sql.Identifier(SCHEMA, index.name), conditions=conditions,
                                     vector_condition=vector_condition, date_column=date_column,
                                     has_text=bool(text.strip()), display=display, facets=facets)
        return self.connection().execute(statement, params).fetchall()

    def search_journal(self, query: JournalQuery) -> SearchResult:
        validate(query)
        started = time.perf_counter()
        conditions, params = journal_conditions(query)
        rows = self._run(JOURNAL_INDEX, query.mode, query.text, conditions, params,
                         vector_condition=sql.SQL("d.ai_eligible AND d.embedding IS NOT NULL"),
                         date_column="date", display=("title", "content", "date", "mood", "tags"),
                         facets=(("mood", "d.mood", None), ("tags", "unnest(d.tags)", TAG_FACET_SIZE)),
                         limit=query.limit)
        hits = [Hit(id=r[0], score=float(r[1]), title=r[2], date=r[4], mood=r[5], tags=tuple(r[6]),
                    highlights=_highlights(r[7], r[8], r[2], r[3])) for r in rows]
        facets = {"mood": _facet_dict(rows[0][9]), "tags": _facet_dict(rows[0][10])} if rows else {"mood": {}, "tags": {}}
        return SearchResult(hits, facets, (time.perf_counter() - started) * 1000, query.mode, self.name)

    def search_stories(self, query: StoryQuery) -> SearchResult:
        validate(query)
        started = time.perf_counter()
        conditions, params = story_conditions(query)
        rows = self._run(STORY_INDEX, query.mode, query.text, conditions, params,
                         vector_condition=sql.SQL("d.embedding IS NOT NULL"), date_column="created_at",
                         display=("title", "content", "created_at", "tags", "legacy_id", "legacy_name",
                                  "story_type", "visibility"),
                         facets=(("tags", "unnest(d.tags)", TAG_FACET_SIZE), ("story_type", "d.story_type", None),
                                 ("legacy", "d.legacy_name", TAG_FACET_SIZE)),
                         limit=query.limit)
        hits = [Hit(id=r[0], score=float(r[1]), title=r[2], date=r[4].date() if r[4] else None, tags=tuple(r[5]),
                    highlights=_highlights(r[10], r[11], r[2], r[3]),
                    extra={"legacy_id": str(r[6]), "legacy": r[7], "story_type": r[8], "visibility": r[9]})
                for r in rows]
        facets = ({"tags": _facet_dict(rows[0][12]), "story_type": _facet_dict(rows[0][13]),
                   "legacy": _facet_dict(rows[0][14])} if rows else {"tags": {}, "story_type": {}, "legacy": {}})
        return SearchResult(hits, facets, (time.perf_counter() - started) * 1000, query.mode, self.name)

    def autocomplete_tags(self, prefix: str, *, user_id: str, limit: int = 10) -> list[str]:
        """The user's own tags starting with `prefix` (accent- and case-insensitive), most used first."""
        if not user_id:
            raise ValueError("autocomplete names the user it runs for (user_id)")
        pattern = escape_like(normalize_tag_prefix(prefix)) + "%"
        rows = self.connection().execute(
            "SELECT tag FROM search.journal_tags WHERE user_id = %s::uuid AND tag_folded LIKE %s "
            "ORDER BY doc_count DESC, tag LIMIT %s", (str(user_id), pattern, limit)).fetchall()
        return [r[0] for r in rows]


_ENCODERS: dict[str, Any] = {}


def _default_encoder(model_id: str):
    if model_id not in _ENCODERS:
        from assets.embeddings.model import get_encoder

        _ENCODERS[model_id] = get_encoder(model_id)
    return _ENCODERS[model_id]


def as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
