"""Full load of one table: binary COPY out of the source streamed into COPY in the warehouse.

The caller owns both transactions: the source side is one REPEATABLE READ snapshot shared by every
table loaded in the tick, the warehouse side is one transaction per table (TRUNCATE or CREATE + COPY
FREEZE + indexes + bookkeeping), so a crash or a dropped connection leaves the previous copy in place.
Memory stays bounded: rows are passed on in chunks of about `WRITE_BYTES`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

import psycopg
from psycopg import sql

from assets.ingest import drift, feed
from sources.registry import get_table

log = logging.getLogger(__name__)

FLUSH_BYTES = 1 << 20  # progress hook / log interval
WRITE_BYTES = 256 << 10  # rows gathered per write to the warehouse
PROGRESS_SECONDS = 10.0

# Test hook: called as hook(qualified_table, bytes_so_far) after every flush to the warehouse, so a test
# can pause (and kill) a load in the middle of the stream. None in production.
COPY_PROGRESS_HOOK: Callable[[str, int], None] | None = None


@dataclass
class LoadResult:
    rows: int
    bytes: int
    seconds: float


def source_copy_sql(schema: str, table: str, columns: list[str], snapshot_lsn: str) -> sql.Composed:
    return sql.SQL("COPY (SELECT {}, {}::pg_lsn FROM {}.{}) TO STDOUT (FORMAT binary)").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.Literal(snapshot_lsn),
        sql.Identifier(schema),
        sql.Identifier(table),
    )


def warehouse_copy_sql(schema: str, table: str, columns: list[str]) -> sql.Composed:
    return sql.SQL("COPY {}.{} ({}, _source_lsn) FROM STDIN (FORMAT binary, FREEZE)").format(
        sql.Identifier(schema), sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )


def stream_copy(
    src: psycopg.Connection, wh: psycopg.Connection, copy_out: sql.Composable, copy_in: sql.Composable, label: str
) -> LoadResult:
    """Pipe COPY TO STDOUT on `src` into COPY FROM STDIN on `wh`. Binary COPY sends one message per row:
    they are gathered into chunks of about WRITE_BYTES before being handed to libpq (fewer calls, and
    the warehouse parses while the next chunk is read); the progress hook fires every FLUSH_BYTES."""
    started = last_log = time.monotonic()
    total = 0
    next_hook = FLUSH_BYTES
    buffer = bytearray()
    with src.cursor() as out_cur, wh.cursor() as in_cur:
        with out_cur.copy(copy_out) as reader, in_cur.copy(copy_in) as writer:
            write = writer.write
            limit = min(WRITE_BYTES, FLUSH_BYTES)
            for chunk in reader:
                buffer += chunk
                if len(buffer) >= limit:
                    write(buffer)
                    total += len(buffer)
                    buffer = bytearray()
                    if total >= next_hook:
                        next_hook = total + FLUSH_BYTES
                        if COPY_PROGRESS_HOOK is not None:
                            COPY_PROGRESS_HOOK(label, total)
                        now = time.monotonic()
                        if now - last_log >= PROGRESS_SECONDS:
                            log.info("full load %s: %.1f MB so far", label, total / 1e6)
                            last_log = now
            if buffer:
                write(buffer)
                total += len(buffer)
        rows = in_cur.rowcount
    return LoadResult(rows=max(rows, 0), bytes=total, seconds=time.monotonic() - started)


def ingested_at_index(schema: str, table: str) -> sql.Composed:
    """Downstream incremental models filter on _ingested_at."""
    return sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {}.{} (_ingested_at)").format(
        sql.Identifier(f"{table}__ingested_at"), sql.Identifier(schema), sql.Identifier(table)
    )


def load_table(
    src: psycopg.Connection,
    wh: psycopg.Connection,
    product: str,
    table: str,
    columns,
    key,
    snapshot_lsn: str,
    *,
    exists: bool | None = None,
) -> LoadResult:
    """Create (or TRUNCATE) the raw table and stream the source rows into it; caller commits.

    The table is created or truncated in this transaction, so COPY FREEZE writes the rows frozen and
    all-visible (no hint-bit writes, with their full-page WAL, when they are first read). A new table
    gets its primary key after the COPY (one sorted index build instead of a random b-tree insert per
    row); a truncated one keeps its indexes (views may depend on it). Then the _ingested_at index."""
    schema = f"raw_{product}"
    if exists is None:
        exists = wh.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}"."{table}"',)).fetchone()[0]
    if exists:
        wh.execute(sql.SQL("TRUNCATE {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
    else:
        wh.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        wh.execute(drift.create_raw_table(schema, table, columns, key, primary_key=False))
    names = [c for c, _ in columns]
    result = stream_copy(
        src,
        wh,
        source_copy_sql(product, table, names, snapshot_lsn),
        warehouse_copy_sql(schema, table, names),
        f"{product}.{table}",
    )
    if not exists:
        wh.execute(drift.add_primary_key(schema, table, key))
    wh.execute(ingested_at_index(schema, table))
    feed.record_reload(wh, get_table(f"{product}.{table}"))  # its consumers rebuild from the new copy
    log.info("full load %s.%s: %s rows, %.1f MB in %.1f s", product, table, result.rows, result.bytes / 1e6, result.seconds)
    return result
