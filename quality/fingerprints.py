"""Checks that cost what they check: the raw suites and the seeds' monitors run after every ingest
tick, but on a product whose raw tables and quarantine entries did not change since a check last ran,
the check reports its stored result again (with `reused_from_run`) instead of running: milliseconds
instead of a GX validation or a scan. A stored failure is reported again as a failure with the same
severity, so a blocking check keeps blocking what it guards. Every check still runs in full at least
every RECHECK_AFTER (as the seeds' monitors run on a cadence), and whenever its fingerprint is unknown.

A product's fingerprint is what its raw copies and quarantine entries are now, read cheaply: per raw
table the ingest state (status, last full load, exact row count) and max(_ingested_at) through the
table's `_ingested_at` index (every insert and update the ingest applies sets it; a delete changes the
row count), and per product the quarantine's highest id and last release. Product-wide because the
checks of one table read the product's other tables (foreign keys, rule and monitor predicates).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from sources.registry import TABLES

RECHECK_AFTER = timedelta(minutes=15)

DDL = """
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.check_fingerprints (
    check_key    TEXT PRIMARY KEY,         -- e.g. 'gx_suite:raw_mindflow.journal_entries', 'monitor:mindflow_streak_consistency'
    fingerprint  TEXT NOT NULL,            -- of the inputs when the check last ran in full
    run_id       TEXT,
    checked_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    result       JSONB NOT NULL            -- passed, severity, description, metadata of that run
);
"""


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    run_id: str | None
    checked_at: datetime
    result: dict


def fingerprint_of(facts) -> str | None:
    """A stable digest of the facts; None when a fact is unknown (a row count being recounted), so the
    check runs."""
    if facts is None or _has_unknown(facts):
        return None
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _has_unknown(value) -> bool:
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_unknown(v) for v in value)
    return value is _UNKNOWN


_UNKNOWN = object()


def may_reuse(stored: Stored | None, fingerprint: str | None, now: datetime,
              recheck_after: timedelta = RECHECK_AFTER) -> bool:
    """Whether the stored result still describes the inputs (pure)."""
    return (stored is not None and fingerprint is not None and stored.fingerprint == fingerprint
            and now - stored.checked_at < recheck_after)


def product_facts(conn: psycopg.Connection, product: str) -> dict:
    """What the product's raw copies and quarantine entries are now (a few index lookups)."""
    tables = [t for t in TABLES if t.product == product]
    present = {r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p')", (tables[0].raw_schema,)).fetchall()} if tables else set()
    try:
        state = {r[0]: list(r[1:]) for r in conn.execute(
            "SELECT table_name, status, loaded_at, snapshot_lsn::text, row_count FROM tessera_meta.ingest_tables "
            "WHERE product = %s", (product,)).fetchall()}
    except psycopg.errors.UndefinedTable:
        conn.rollback()
        state = {}
    facts: dict = {}
    built = [t for t in tables if t.name in present]
    if built:
        latest = sql.SQL(", ").join(
            sql.SQL("(SELECT max(_ingested_at) FROM {})").format(sql.Identifier(t.raw_schema, t.name)) for t in built)
        values = conn.execute(sql.SQL("SELECT ARRAY[{}]::text[]").format(latest)).fetchone()[0]
        for table, ingested in zip(built, values):
            row = state.get(table.name)
            counted = _UNKNOWN if row is None or row[3] is None else row[3]
            facts[table.name] = [*(row[:3] if row else [None] * 3), counted, ingested]
    for table in tables:
        facts.setdefault(table.name, "missing")
    try:
        facts["_quarantine"] = list(conn.execute(
            "SELECT max(id), max(released_at)::text, count(*) FILTER (WHERE released_at IS NULL) "
            "FROM quality.quarantine WHERE source_table LIKE %s", (product + ".%",)).fetchone())
    except psycopg.errors.UndefinedTable:
        conn.rollback()
        facts["_quarantine"] = None
    return facts


def product_fingerprint(conn: psycopg.Connection, product: str) -> str | None:
    return fingerprint_of(product_facts(conn, product))


def load(conn: psycopg.Connection, keys: list[str]) -> dict[str, Stored]:
    conn.execute(DDL)
    rows = conn.execute(
        "SELECT check_key, fingerprint, run_id, checked_at, result FROM quality.check_fingerprints "
        "WHERE check_key = ANY(%s)", (keys,)).fetchall()
    return {r[0]: Stored(r[1], r[2], r[3], r[4]) for r in rows}


def save(conn: psycopg.Connection, key: str, fingerprint: str | None, run_id: str | None, result: dict) -> None:
    if fingerprint is None:
        conn.execute("DELETE FROM quality.check_fingerprints WHERE check_key = %s", (key,))
        return
    conn.execute(
        """INSERT INTO quality.check_fingerprints (check_key, fingerprint, run_id, checked_at, result)
           VALUES (%s, %s, %s, now(), %s)
           ON CONFLICT (check_key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, run_id = EXCLUDED.run_id,
               checked_at = EXCLUDED.checked_at, result = EXCLUDED.result""",
        (key, fingerprint, run_id, Jsonb(result)))
