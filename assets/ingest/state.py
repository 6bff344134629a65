"""Ingest bookkeeping in the warehouse schema tessera_meta: the change stream (slot, publication, cursor),
per-table status (pending / loaded / blocked), drift events and run history. DDL lives in sql/meta.sql."""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator

import psycopg

from assets.ingest import feed
from sources.sql_files import sql_text

META_VERSION = "tessera ingest meta v3"  # the comment meta.sql puts on tessera_meta.ingest_stream
_META_LOCK = 7_240_301  # serialises the idempotent DDL


def _digest(source_database: str, warehouse_database: str) -> str:
    return hashlib.sha256(f"{source_database}\0{warehouse_database}".encode()).hexdigest()[:10]


def stream_names(source_database: str, warehouse_database: str) -> tuple[str, str]:
    """(slot, publication) names of the one change stream of a (source database, warehouse database) pair.

    Replication slots are cluster-wide, so two warehouses fed from one source (or test databases on one
    server) must never share one. Names stay within Postgres's 63 characters and [a-z0-9_]."""
    name = f"tessera_{_digest(source_database, warehouse_database)}"
    return name, f"{name}_pub"


def legacy_stream_names(source_database: str, warehouse_database: str, product: str) -> tuple[str, str]:
    """(slot, publication) of the first design's per-product streams: found and dropped when present."""
    name = f"tessera_{product}_{_digest(source_database, warehouse_database)}"
    return name, f"{name}_pub"


def ensure_meta(conn: psycopg.Connection) -> None:
    """Create or upgrade the bookkeeping tables and the change feed; one catalog query when they are current."""
    current, fed = conn.execute(
        "SELECT obj_description(to_regclass('tessera_meta.ingest_stream'), 'pg_class'), "
        "to_regclass('tessera_meta.change_feed') IS NOT NULL AND to_regclass('tessera_meta.feed_cursors') IS NOT NULL"
    ).fetchone()
    if current == META_VERSION and fed:
        return
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_META_LOCK,))
        conn.execute(sql_text(__package__, "meta.sql"))
        feed.ensure_feed(conn)


class StreamBusy(RuntimeError):
    """`tessera live` streams this change stream: a batch ingest has nothing to do and ends at once."""


def _lock_key(kind: str, slot: str) -> int:
    return int(hashlib.sha256(f"{kind}:{slot}".encode()).hexdigest()[:15], 16)


def live_holder(conn: psycopg.Connection, slot: str) -> bool:
    """True when a `tessera live` process holds this stream (its session lock is taken)."""
    key = _lock_key("tessera_live", slot)
    if conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
        return False
    return True


def try_live_lock(conn: psycopg.Connection, slot: str) -> bool:
    """Take the live lock of this stream for the session (autocommit connection); False when another
    `tessera live` holds it. Released when the session ends (a killed process releases it too)."""
    return conn.execute("SELECT pg_try_advisory_lock(%s)", (_lock_key("tessera_live", slot),)).fetchone()[0]


@contextmanager
def stream_lock(conn: psycopg.Connection, slot: str) -> Iterator[None]:
    """Session advisory lock per change stream on an autocommit connection: two ingests of one
    (source, warehouse) pair never overlap, whatever started them (Dagster run, CLI, `tessera live`)."""
    key = _lock_key("tessera_ingest", slot)
    conn.execute("SELECT pg_advisory_lock(%s)", (key,))
    try:
        yield
    finally:
        if not conn.closed:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


@dataclass
class Stream:
    source_database: str
    slot_name: str
    publication: str
    created_lsn: str | None
    cursor_lsn: str | None
    cursor_end_lsn: str | None
    cursor_committed_at: object | None


def get_stream(conn: psycopg.Connection, source_database: str) -> Stream | None:
    row = conn.execute(
        """SELECT source_database, slot_name, publication, created_lsn::text, cursor_lsn::text,
                  cursor_end_lsn::text, cursor_committed_at
             FROM tessera_meta.ingest_stream WHERE source_database = %s""",
        (source_database,),
    ).fetchone()
    return Stream(*row) if row else None


def reset_stream(conn: psycopg.Connection, stream: Stream) -> None:
    """A new slot: store it with an empty cursor and mark every loaded table for a full load."""
    conn.execute(
        """INSERT INTO tessera_meta.ingest_stream
               (source_database, slot_name, publication, created_lsn, cursor_lsn, cursor_end_lsn,
                cursor_committed_at, created_at, updated_at)
           VALUES (%s, %s, %s, %s, NULL, NULL, NULL, now(), now())
           ON CONFLICT (source_database) DO UPDATE SET slot_name = EXCLUDED.slot_name,
               publication = EXCLUDED.publication, created_lsn = EXCLUDED.created_lsn, cursor_lsn = NULL,
               cursor_end_lsn = NULL, cursor_committed_at = NULL, created_at = now(), updated_at = now()""",
        (stream.source_database, stream.slot_name, stream.publication, stream.created_lsn),
    )
    conn.execute(
        "UPDATE tessera_meta.ingest_tables SET status = 'pending', updated_at = now() WHERE status = 'loaded'"
    )


def set_cursor(conn: psycopg.Connection, source_database: str, commit_lsn: str, end_lsn: str, committed_at) -> None:
    conn.execute(
        """UPDATE tessera_meta.ingest_stream
              SET cursor_lsn = %s, cursor_end_lsn = %s, cursor_committed_at = %s, updated_at = now()
            WHERE source_database = %s""",
        (commit_lsn, end_lsn, committed_at, source_database),
    )


@dataclass
class TableState:
    status: str
    source_columns: list | None
    snapshot_lsn: str | None
    blocked_reason: str | None
    row_count: int | None = None


def table_states(conn: psycopg.Connection) -> dict[str, TableState]:
    """Every table's state, keyed by "<product>.<table>" (one query)."""
    rows = conn.execute(
        """SELECT product || '.' || table_name, status, source_columns, snapshot_lsn::text, blocked_reason, row_count
             FROM tessera_meta.ingest_tables"""
    ).fetchall()
    return {r[0]: TableState(*r[1:]) for r in rows}


def ensure_tables(conn: psycopg.Connection, qualified: Iterable[str]) -> None:
    pairs = [q.split(".", 1) for q in qualified]
    conn.execute(
        """INSERT INTO tessera_meta.ingest_tables (product, table_name)
           SELECT * FROM unnest(%s::text[], %s::text[]) ON CONFLICT DO NOTHING""",
        ([p for p, _ in pairs], [t for _, t in pairs]),
    )


def set_loaded(conn, product: str, table: str, columns: list[tuple[str, str]], snapshot_lsn: str, rows: int) -> None:
    conn.execute(
        """UPDATE tessera_meta.ingest_tables
              SET status = 'loaded', source_columns = %s, snapshot_lsn = %s, loaded_at = now(), load_rows = %s,
                  row_count = %s, blocked_reason = NULL, blocked_at = NULL, updated_at = now()
            WHERE product = %s AND table_name = %s""",
        (json.dumps([list(c) for c in columns]), snapshot_lsn, rows, rows, product, table),
    )


def add_row_counts(conn, deltas: dict[str, int]) -> None:
    """row_count += net rows added by applied changes, in the caller's transaction (NULL stays NULL:
    recounted at the end of the tick)."""
    deltas = {q: n for q, n in deltas.items() if n}
    if not deltas:
        return
    conn.execute(
        """UPDATE tessera_meta.ingest_tables t SET row_count = t.row_count + d.n
             FROM unnest(%s::text[], %s::bigint[]) AS d(q, n)
            WHERE t.product || '.' || t.table_name = d.q""",
        (list(deltas), list(deltas.values())),
    )


def record_row_counts(conn, net: dict[str, int], recount) -> None:
    """What a batch of applied changes did to the tables' row counts, in the caller's transaction:
    `net` rows added per table, and the tables whose count is unknown now (NULL: recounted later)."""
    add_row_counts(conn, net)
    for qualified in recount:
        set_row_count(conn, *qualified.split(".", 1), None)


def set_row_count(conn, product: str, table: str, rows: int | None) -> None:
    conn.execute(
        "UPDATE tessera_meta.ingest_tables SET row_count = %s WHERE product = %s AND table_name = %s",
        (rows, product, table),
    )


def set_blocked(conn, product: str, table: str, reason: str) -> None:
    conn.execute(
        """UPDATE tessera_meta.ingest_tables
              SET status = 'blocked', blocked_reason = %s, blocked_at = coalesce(blocked_at, now()), updated_at = now()
            WHERE product = %s AND table_name = %s""",
        (reason, product, table),
    )


def set_pending(conn, product: str, table: str) -> None:
    conn.execute(
        "UPDATE tessera_meta.ingest_tables SET status = 'pending', updated_at = now() WHERE product = %s AND table_name = %s",
        (product, table),
    )


def record_drift(conn, product: str, table: str, kind: str, column: str | None, detail: str) -> None:
    conn.execute(
        """INSERT INTO tessera_meta.ingest_drift_events (product, table_name, kind, column_name, detail)
           VALUES (%s, %s, %s, %s, %s)""",
        (product, table, kind, column, detail),
    )


def record_runs(conn, started_at, runs: list[tuple[str, str, dict]]) -> None:
    """One ingest_runs row per product of the tick: (product, status, results), one statement."""
    if not runs:
        return
    conn.execute(
        """INSERT INTO tessera_meta.ingest_runs (product, started_at, status, results)
           SELECT p, %s, s, r::jsonb FROM unnest(%s::text[], %s::text[], %s::text[]) AS u(p, s, r)""",
        (
            started_at,
            [p for p, _, _ in runs],
            [s for _, s, _ in runs],
            [json.dumps(r, default=str) for _, _, r in runs],
        ),
    )


def write_live_status(conn, source_database: str, status: dict) -> None:
    """Insert or update the live process's status row (tessera_meta.live_status) from a dict of its
    columns; `lanes` is JSON."""
    cols = ["source_database", *status]
    values = [source_database, *(json.dumps(v, default=str) if k == "lanes" else v for k, v in status.items())]
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in status) + ", updated_at = now()"
    conn.execute(
        f"INSERT INTO tessera_meta.live_status ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) "
        f"ON CONFLICT (source_database) DO UPDATE SET {updates}",
        values,
    )


def live_status(conn, source_database: str) -> dict | None:
    cur = conn.execute("SELECT * FROM tessera_meta.live_status WHERE source_database = %s", (source_database,))
    row = cur.fetchone()
    return dict(zip([d.name for d in cur.description], row)) if row else None
