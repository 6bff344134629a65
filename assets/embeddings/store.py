"""The `vectors` schema and the incremental sync of one embedded source into it.

Layout (one table per source, see sources.py):
  vectors.<table>(source_id, chunk_index, model_id, <extra columns>, content_hash, char_start, char_end,
                  embedding vector, embedded_at)   PRIMARY KEY (source_id, model_id, chunk_index)
  vectors.<table>_active  the rows of the source's active model
  vectors.<table>_doc     one document vector per source_id: l2_normalize(avg(chunk vectors)), active model
  vectors.active_models(source, model_id, dimension, activated_at)
The embedding column has no fixed dimension, so two models can coexist during a swap; each model gets
a partial HNSW index on (embedding::vector(dim)) vector_cosine_ops WHERE model_id = '<model>'.

Sync (`sync_source`), all decided in SQL against the source's eligible set:
 1. rows of documents no longer eligible (deleted, private, private mode, erased user, rejected, ...)
    are deleted for every model, committed before any embedding work;
 2. documents whose (model_id, content_hash) is already stored are skipped (never re-embedded);
 3. new and changed documents are chunked, encoded and written in batches, each batch replacing that
    document's rows for the target model in one transaction;
 4. extra columns (owner ids, PersonaKit metadata) are refreshed in place when they change without
    the text changing;
 5. the target model is activated and every other model's rows deleted in one transaction, so a
    reader that follows vectors.active_models always sees a complete set.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import psycopg
from psycopg import sql

from assets.embeddings.chunking import DEFAULT_OVERLAP, chunk_text
from assets.embeddings.sources import SCHEMA, SOURCES, EmbeddedSource
from core.db import table_exists

log = logging.getLogger(__name__)

SCHEMA_LOCK = 7_240_899
HNSW_MAX_DIMENSIONS = 2000
DEFAULT_BATCH_DOCS = 64


class EmbeddingDimensionError(RuntimeError):
    """The encoder's dimension does not match the vectors a table already holds for that model."""


def content_hash(text: str) -> str:
    """sha256 hex of the UTF-8 text: the same value SQL computes with encode(sha256(convert_to(..)))."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


SQL_CONTENT_HASH = "encode(sha256(convert_to({}, 'UTF8')), 'hex')"


def vector_literal(values: Sequence[float] | np.ndarray) -> str:
    """pgvector's text form, e.g. [0.1,0.2]."""
    return "[" + ",".join(f"{float(v):.8g}" for v in values) + "]"


def index_name(table: str, model_id: str) -> str:
    return f"{table}_hnsw_{hashlib.md5(model_id.encode()).hexdigest()[:12]}"


def _t(source: EmbeddedSource | str, suffix: str = "") -> sql.Identifier:
    name = source if isinstance(source, str) else source.table
    return sql.Identifier(SCHEMA, name + suffix)


# --- schema --------------------------------------------------------------------------------------

def ensure_vectors_schema(conn: psycopg.Connection, sources: Sequence[EmbeddedSource] = SOURCES) -> None:
    """Create the vector extension, schema, tables, views and btree indexes when missing (idempotent)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone() is None:
            with conn.transaction():  # savepoint: another area may create it at the same moment
                try:
                    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
                except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateObject):
                    pass
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
        conn.execute(sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            " source text PRIMARY KEY, model_id text NOT NULL, dimension integer NOT NULL,"
            " activated_at timestamptz NOT NULL DEFAULT now())"
        ).format(_t("active_models")))
        for source in sources:
            _ensure_source_relations(conn, source)


def _ensure_source_relations(conn: psycopg.Connection, source: EmbeddedSource) -> None:
    extras = [sql.SQL("{} {} NOT NULL").format(sql.Identifier(c.name), sql.SQL(c.type)) for c in source.columns]
    extra_names = [sql.Identifier(c.name) for c in source.columns]
    if not table_exists(conn, SCHEMA, source.table):
        conn.execute(sql.SQL(
            "CREATE TABLE {table} ("
            " source_id uuid NOT NULL, chunk_index integer NOT NULL, model_id text NOT NULL, {extras},"
            " content_hash text NOT NULL, char_start integer NOT NULL, char_end integer NOT NULL,"
            " embedding vector NOT NULL, embedded_at timestamptz NOT NULL DEFAULT now(),"
            " PRIMARY KEY (source_id, model_id, chunk_index))"
        ).format(table=_t(source), extras=sql.SQL(", ").join(extras)))
        conn.execute(sql.SQL("CREATE INDEX {} ON {} (model_id, {})").format(
            sql.Identifier(f"{source.table}_model_owner_idx"), _t(source), extra_names[0]))
        conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(_t(source), sql.Literal(
            f"{source.description}. One row per chunk and model; read rows whose model_id is "
            f"vectors.active_models.model_id for source '{source.table}' (or use {source.table}_active / "
            f"{source.table}_doc). Written by the embeddings assets."
        )))
    if not table_exists(conn, SCHEMA, f"{source.table}_active"):
        conn.execute(sql.SQL(
            "CREATE VIEW {view} AS SELECT v.* FROM {table} v"
            " JOIN {active} a ON a.source = {source} AND a.model_id = v.model_id"
        ).format(view=_t(source, "_active"), table=_t(source), active=_t("active_models"),
                 source=sql.Literal(source.table)))
    if not table_exists(conn, SCHEMA, f"{source.table}_doc"):
        conn.execute(sql.SQL(
            "CREATE VIEW {view} AS SELECT source_id, {extras}, model_id,"
            " l2_normalize(avg(embedding)) AS embedding, count(*)::integer AS chunks"
            " FROM {active} GROUP BY source_id, {extras}, model_id"
        ).format(view=_t(source, "_doc"), extras=sql.SQL(", ").join(extra_names), active=_t(source, "_active")))
        conn.execute(sql.SQL("COMMENT ON VIEW {} IS {}").format(_t(source, "_doc"), sql.Literal(
            "Document-level vectors of the active model: the L2-normalized mean of each document's chunk vectors.")))


def ensure_model_index(conn: psycopg.Connection, source: EmbeddedSource, model_id: str, dimension: int) -> str | None:
    """The partial HNSW (cosine) index for one model's rows; None when pgvector cannot index that size."""
    if dimension > HNSW_MAX_DIMENSIONS:
        log.warning("%s: %s-dimensional vectors exceed HNSW's limit; no ANN index", source.table, dimension)
        return None
    name = index_name(source.table, model_id)
    if not table_exists(conn, SCHEMA, name):
        conn.execute(sql.SQL(
            "CREATE INDEX IF NOT EXISTS {name} ON {table} USING hnsw ((embedding::vector({dim})) vector_cosine_ops)"
            " WHERE model_id = {model}"
        ).format(name=sql.Identifier(name), table=_t(source), dim=sql.Literal(dimension), model=sql.Literal(model_id)))
    return name


def _drop_other_model_indexes(conn: psycopg.Connection, source: EmbeddedSource, keep: str | None) -> list[str]:
    prefix = f"{source.table}_hnsw_"
    names = [r[0] for r in conn.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = %s AND starts_with(indexname, %s)",
        (SCHEMA, source.table, prefix)).fetchall()]
    dropped = [n for n in names if n != keep]
    for name in dropped:
        conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(SCHEMA, name)))
    return dropped


def active_model(conn: psycopg.Connection, source: EmbeddedSource | str) -> tuple[str, int] | None:
    table = source if isinstance(source, str) else source.table
    if not table_exists(conn, SCHEMA, "active_models"):
        return None
    row = conn.execute(sql.SQL("SELECT model_id, dimension FROM {} WHERE source = %s").format(_t("active_models")),
                       (table,)).fetchone()
    return (row[0], row[1]) if row else None


def check_dimension(conn: psycopg.Connection, source: EmbeddedSource, model_id: str, dimension: int) -> None:
    row = conn.execute(sql.SQL("SELECT vector_dims(embedding) FROM {} WHERE model_id = %s LIMIT 1").format(_t(source)),
                       (model_id,)).fetchone()
    if row and row[0] != dimension:
        raise EmbeddingDimensionError(
            f"vectors.{source.table} holds {row[0]}-dimensional vectors for model {model_id!r}, but the encoder "
            f"loaded for that model id gives {dimension} dimensions. The model changed under the same id: give it "
            f"a new TESSERA_EMBEDDING_MODEL (name or path) so it is embedded into new rows and swapped in."
        )
    active = active_model(conn, source)
    if active and active[0] == model_id and active[1] != dimension:
        raise EmbeddingDimensionError(
            f"vectors.active_models declares {active[1]} dimensions for {model_id!r} on {source.table}, "
            f"but the encoder gives {dimension}"
        )


# --- sync ----------------------------------------------------------------------------------------

@dataclass
class SyncResult:
    source: str
    model_id: str
    dimension: int
    eligible_docs: int = 0
    docs_embedded: int = 0
    docs_new: int = 0
    docs_changed: int = 0
    chunks_embedded: int = 0
    docs_removed: int = 0
    skipped_unchanged: int = 0
    metadata_refreshed: int = 0
    previous_model: str | None = None
    swapped_model: bool = False
    old_model_rows_deleted: int = 0
    embed_seconds: float = 0.0
    total_seconds: float = 0.0
    encoder_batches: int = 0
    index: str | None = None

    @property
    def docs_per_second(self) -> float:
        return round(self.docs_embedded / self.embed_seconds, 2) if self.embed_seconds > 0 else 0.0

    def metadata(self) -> dict[str, Any]:
        data = asdict(self)
        data["docs_per_second"] = self.docs_per_second
        data["embed_seconds"] = round(self.embed_seconds, 3)
        data["total_seconds"] = round(self.total_seconds, 3)
        return data


@dataclass
class _Todo:
    ids: list = field(default_factory=list)
    replacing: int = 0


def _extra_names(source: EmbeddedSource) -> list[sql.Identifier]:
    return [sql.Identifier(c.name) for c in source.columns]


def _build_eligible(conn: psycopg.Connection, source: EmbeddedSource) -> int:
    conn.execute("DROP TABLE IF EXISTS pg_temp._eligible")
    conn.execute(sql.SQL(
        "CREATE TEMP TABLE _eligible AS SELECT q.*, " + SQL_CONTENT_HASH.format("q.body") + " AS content_hash"
        " FROM ({query}) q"
    ).format(query=source.eligible_query()))
    conn.execute("ALTER TABLE pg_temp._eligible ADD PRIMARY KEY (source_id)")
    conn.execute("ANALYZE pg_temp._eligible")
    return conn.execute("SELECT count(*) FROM pg_temp._eligible").fetchone()[0]


def _remove_ineligible(conn: psycopg.Connection, source: EmbeddedSource) -> int:
    rows = conn.execute(sql.SQL(
        "DELETE FROM {table} v WHERE NOT EXISTS (SELECT 1 FROM pg_temp._eligible e WHERE e.source_id = v.source_id)"
        " RETURNING v.source_id"
    ).format(table=_t(source))).fetchall()
    return len({r[0] for r in rows})


def _todo(conn: psycopg.Connection, source: EmbeddedSource, model_id: str) -> _Todo:
    rows = conn.execute(sql.SQL(
        "SELECT e.source_id,"
        " EXISTS (SELECT 1 FROM {table} v WHERE v.source_id = e.source_id AND v.model_id = %(m)s) AS replacing"
        " FROM pg_temp._eligible e"
        " WHERE NOT EXISTS (SELECT 1 FROM {table} v WHERE v.source_id = e.source_id AND v.model_id = %(m)s"
        "                   AND v.chunk_index = 0 AND v.content_hash = e.content_hash)"
        " ORDER BY e.source_id"
    ).format(table=_t(source)), {"m": model_id}).fetchall()
    return _Todo(ids=[r[0] for r in rows], replacing=sum(1 for r in rows if r[1]))


def _write_batch(conn: psycopg.Connection, source: EmbeddedSource, model_id: str, ids: list,
                 chunks: list[tuple[Any, Any]], vectors: np.ndarray) -> None:
    """Replace the target model's rows of `ids` with the new chunks, in one transaction."""
    extras = _extra_names(source)
    with conn.transaction():
        conn.execute("TRUNCATE pg_temp._chunks")
        with conn.cursor().copy(
            "COPY pg_temp._chunks (source_id, chunk_index, char_start, char_end, embedding) FROM STDIN"
        ) as copy:
            for (source_id, chunk), vector in zip(chunks, vectors):
                copy.write_row((source_id, chunk.index, chunk.char_start, chunk.char_end, vector_literal(vector)))
        conn.execute(sql.SQL("DELETE FROM {table} WHERE model_id = %s AND source_id = ANY(%s)").format(table=_t(source)),
                     (model_id, ids))
        conn.execute(sql.SQL(
            "INSERT INTO {table} (source_id, chunk_index, model_id, {extras}, content_hash, char_start, char_end,"
            " embedding, embedded_at)"
            " SELECT c.source_id, c.chunk_index, %s, {e_extras}, e.content_hash, c.char_start, c.char_end,"
            " c.embedding, now() FROM pg_temp._chunks c JOIN pg_temp._eligible e USING (source_id)"
        ).format(table=_t(source), extras=sql.SQL(", ").join(extras),
                 e_extras=sql.SQL(", ").join(sql.SQL("e.{}").format(x) for x in extras)), (model_id,))


def _refresh_extras(conn: psycopg.Connection, source: EmbeddedSource) -> int:
    extras = _extra_names(source)
    cur = conn.execute(sql.SQL(
        "UPDATE {table} v SET {assign} FROM pg_temp._eligible e WHERE v.source_id = e.source_id"
        " AND ROW({v_cols}) IS DISTINCT FROM ROW({e_cols})"
    ).format(
        table=_t(source),
        assign=sql.SQL(", ").join(sql.SQL("{} = e.{}").format(x, x) for x in extras),
        v_cols=sql.SQL(", ").join(sql.SQL("v.{}").format(x) for x in extras),
        e_cols=sql.SQL(", ").join(sql.SQL("e.{}").format(x) for x in extras),
    ))
    return cur.rowcount


def _activate(conn: psycopg.Connection, source: EmbeddedSource, model_id: str, dimension: int) -> int:
    """Point the source at `model_id` and delete every other model's rows: one transaction."""
    with conn.transaction():
        conn.execute(sql.SQL(
            "INSERT INTO {active} AS am (source, model_id, dimension, activated_at) VALUES (%s, %s, %s, now())"
            " ON CONFLICT (source) DO UPDATE SET model_id = EXCLUDED.model_id, dimension = EXCLUDED.dimension,"
            " activated_at = EXCLUDED.activated_at"
            " WHERE am.model_id IS DISTINCT FROM EXCLUDED.model_id OR am.dimension <> EXCLUDED.dimension"
        ).format(active=_t("active_models")), (source.table, model_id, dimension))
        return conn.execute(sql.SQL("DELETE FROM {table} WHERE model_id <> %s").format(table=_t(source)),
                            (model_id,)).rowcount


def sync_source(
    conn: psycopg.Connection,
    source: EmbeddedSource,
    encoder,
    *,
    batch_docs: int = DEFAULT_BATCH_DOCS,
    overlap: int = DEFAULT_OVERLAP,
    logger: logging.Logger | Any = log,
    on_batch: Callable[[int, int], None] | None = None,
) -> SyncResult:
    """Bring vectors.<source.table> in line with the source's eligible set for `encoder`'s model."""
    started = time.monotonic()
    model_id, dimension = encoder.model_id, int(encoder.dimension)
    result = SyncResult(source=source.table, model_id=model_id, dimension=dimension)
    if conn.autocommit:
        raise ValueError("sync_source needs a connection in transaction mode (autocommit=False)")
    ensure_vectors_schema(conn)
    conn.commit()
    conn.execute("SELECT pg_advisory_lock(%s)", (source.lock_key,))  # one sync per source at a time
    conn.commit()
    try:
        check_dimension(conn, source, model_id, dimension)
        previous = active_model(conn, source)
        result.previous_model = previous[0] if previous else None
        result.eligible_docs = _build_eligible(conn, source)
        conn.commit()

        result.docs_removed = _remove_ineligible(conn, source)
        conn.commit()  # privacy first: ineligible vectors are gone before any embedding work

        todo = _todo(conn, source, model_id)
        result.skipped_unchanged = result.eligible_docs - len(todo.ids)
        result.docs_changed, result.docs_new = todo.replacing, len(todo.ids) - todo.replacing
        logger.info(f"{source.table}: {result.eligible_docs} eligible, {len(todo.ids)} to embed with {model_id}, "
                    f"{result.skipped_unchanged} unchanged, {result.docs_removed} removed")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS _chunks (source_id uuid, chunk_index integer,"
                      " char_start integer, char_end integer, embedding vector)")
        conn.commit()
        for start in range(0, len(todo.ids), batch_docs):
            ids = todo.ids[start:start + batch_docs]
            rows = conn.execute("SELECT source_id, body FROM pg_temp._eligible WHERE source_id = ANY(%s)", (ids,)).fetchall()
            t0 = time.monotonic()
            chunks = [(source_id, chunk) for source_id, body in rows
                      for chunk in chunk_text(body, encoder.tokenizer, encoder.max_tokens, overlap)]
            vectors = encoder.encode([c.text for _, c in chunks])
            result.embed_seconds += time.monotonic() - t0
            result.encoder_batches += 1
            if vectors.shape != (len(chunks), dimension):
                raise EmbeddingDimensionError(f"encoder {model_id} returned shape {vectors.shape}, expected ({len(chunks)}, {dimension})")
            _write_batch(conn, source, model_id, ids, chunks, vectors)
            conn.commit()
            result.docs_embedded += len(ids)
            result.chunks_embedded += len(chunks)
            done = start + len(ids)
            logger.info(f"{source.table}: embedded {done}/{len(todo.ids)} docs ({result.chunks_embedded} chunks, "
                        f"{result.docs_per_second} docs/s)")
            if on_batch:
                on_batch(done, len(todo.ids))

        result.metadata_refreshed = _refresh_extras(conn, source)
        conn.commit()
        result.index = ensure_model_index(conn, source, model_id, dimension)
        conn.commit()
        result.old_model_rows_deleted = _activate(conn, source, model_id, dimension)
        conn.commit()
        result.swapped_model = previous is not None and previous[0] != model_id
        _drop_other_model_indexes(conn, source, result.index)
        conn.execute("DROP TABLE IF EXISTS pg_temp._eligible")
        conn.execute("DROP TABLE IF EXISTS pg_temp._chunks")
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (source.lock_key,))
        conn.commit()
    result.total_seconds = time.monotonic() - started
    return result
