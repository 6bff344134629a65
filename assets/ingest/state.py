"""Ingest bookkeeping in the warehouse schema tessera_meta: streams (slot, publication, cursor), per-table
status (pending / loaded / blocked), drift events and run history. DDL lives in sql/meta.sql."""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import psycopg

META_SQL = Path(__file__).resolve().parent / "sql" / "meta.sql"
_META_LOCK = 7_240_301  # serialises the idempotent DDL


def stream_names(source_database: str, warehouse_database: str, product: str) -> tuple[str, str]:
    """(slot, publication) names, unique per (source database, warehouse database, product).

    Replication slots are cluster-wide, so two warehouses fed from one source (or test databases on one
    server) must never share one. Names stay within Postgres's 63 characters and [a-z0-9_]."""
    digest = hashlib.sha256(f"{source_database}\0{warehouse_database}".encode()).hexdigest()[:10]
    name = f"tessera_{product}_{digest}"
    return name, f"{name}_pub"


def ensure_meta(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_META_LOCK,))
        conn.execute(META_SQL.read_text())


@contextmanager
def product_lock(conn: psycopg.Connection, product: str) -> Iterator[None]:
    """Session advisory lock per product on an autocommit connection: two ingests of one product never
    overlap, whatever started them (Dagster run, CLI, test)."""
    key = int(hashlib.sha256(f"tessera_ingest:{product}".encode()).hexdigest()[:15], 16)
    conn.execute("SELECT pg_advisory_lock(%s)", (key,))
    try:
        yield
    finally:
        if not conn.closed:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


@dataclass
class Stream:
    product: str
    source_database: str
    slot_name: str
    publication: str
    created_lsn: str | None
    cursor_lsn: str | None
    cursor_end_lsn: str | None
    cursor_committed_at: object | None


def get_stream(conn: psycopg.Connection, product: str) -> Stream | None:
    row = conn.execute(
        """SELECT product, source_database, slot_name, publication, created_lsn::text, cursor_lsn::text,
                  cursor_end_lsn::text, cursor_committed_at
             FROM tessera_meta.ingest_streams WHERE product = %s""",
        (product,),
    ).fetchone()
    return Stream(*row) if row else None


def reset_stream(conn: psycopg.Connection, stream: Stream) -> None:
    """A new slot: store it with an empty cursor and mark every table of the product for a full load."""
    conn.execute(
        """INSERT INTO tessera_meta.ingest_streams
               (product, source_database, slot_name, publication, created_lsn, cursor_lsn, cursor_end_lsn,
                cursor_committed_at, created_at, updated_at)
           VALUES (%s, %s, %s, %s, %s, NULL, NULL, NULL, now(), now())
           ON CONFLICT (product) DO UPDATE SET source_database = EXCLUDED.source_database,
               slot_name = EXCLUDED.slot_name, publication = EXCLUDED.publication,
               created_lsn = EXCLUDED.created_lsn, cursor_lsn = NULL, cursor_end_lsn = NULL,
               cursor_committed_at = NULL, created_at = now(), updated_at = now()""",
        (stream.product, stream.source_database, stream.slot_name, stream.publication, stream.created_lsn),
    )
    conn.execute(
        "UPDATE tessera_meta.ingest_tables SET status = 'pending', updated_at = now() WHERE product = %s AND status = 'loaded'",
        (stream.product,),
    )


def set_cursor(conn: psycopg.Connection, product: str, commit_lsn: str, end_lsn: str, committed_at) -> None:
    conn.execute(
        """UPDATE tessera_meta.ingest_streams
              SET cursor_lsn = %s, cursor_end_lsn = %s, cursor_committed_at = %s, updated_at = now()
            WHERE product = %s""",
        (commit_lsn, end_lsn, committed_at, product),
    )


@dataclass
class TableState:
    status: str
    source_columns: list | None
    snapshot_lsn: str | None
    blocked_reason: str | None
    row_count: int | None = None


def table_states(conn: psycopg.Connection, product: str) -> dict[str, TableState]:
    rows = conn.execute(
        """SELECT table_name, status, source_columns, snapshot_lsn::text, blocked_reason, row_count
             FROM tessera_meta.ingest_tables WHERE product = %s""",
        (product,),
    ).fetchall()
    return {r[0]: TableState(*r[1:]) for r in rows}


def set_row_count(conn, product: str, table: str, rows: int) -> None:
    conn.execute(
        "UPDATE tessera_meta.ingest_tables SET row_count = %s WHERE product = %s AND table_name = %s",
        (rows, product, table),
    )


def ensure_tables(conn: psycopg.Connection, product: str, names: list[str]) -> None:
    for name in names:
        conn.execute(
            "INSERT INTO tessera_meta.ingest_tables (product, table_name) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (product, name),
        )


def set_loaded(conn, product: str, table: str, columns: list[tuple[str, str]], snapshot_lsn: str, rows: int) -> None:
    conn.execute(
        """UPDATE tessera_meta.ingest_tables
              SET status = 'loaded', source_columns = %s, snapshot_lsn = %s, loaded_at = now(), load_rows = %s,
                  blocked_reason = NULL, blocked_at = NULL, updated_at = now()
            WHERE product = %s AND table_name = %s""",
        (json.dumps([list(c) for c in columns]), snapshot_lsn, rows, product, table),
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


def record_run(conn, product: str, started_at, status: str, results: dict) -> None:
    conn.execute(
        "INSERT INTO tessera_meta.ingest_runs (product, started_at, status, results) VALUES (%s, %s, %s, %s)",
        (product, started_at, status, json.dumps(results, default=str)),
    )
