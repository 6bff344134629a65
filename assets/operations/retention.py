"""Retention: the seeds' rules applied to Tessera's copies, each run reporting what it removed.

The copies of the source tables follow the registry's `retention`, applied by their owner, ingest
(assets/ingest/retention.py: it deletes and writes the change feed's tombstones); the analytics event
tables (mood events 1 year, activity events 6 months) are aged out by the mood area's own retention
(partition drops or Timescale policies), which `analytics_retention` calls. Rollups and insights are kept (seed 004).
Every run is reported row by row in `tessera_meta.retention_log` (run, table, rule, rows removed).

The seed's cleanup_old_data deletes in the source, where the foreign key cascades an agent session's
governance events with it; in the warehouse the governance events are audit records kept for their own
7 years, so a removed session's events stay until then.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from assets.ingest import retention as copy_retention


def analytics_retention(conn: psycopg.Connection, now=None) -> dict[str, int]:
    """The mood area's retention of analytics.mood_events (1 year) and user_activity_events (6 months),
    with the rows it removed per table. Native storage: assets.mood.schema.apply_native_retention
    (drops partitions wholly past the cutoff); TimescaleDB: the seed's retention policies drop chunks in
    the background, so nothing is run here and 0 is reported. {} when analytics is not built yet."""
    if not conn.execute("SELECT to_regclass('analytics._analytics_meta') IS NOT NULL").fetchone()[0]:
        return {}
    from assets.mood import schema

    mode = conn.execute("SELECT value->>'mode' FROM analytics._analytics_meta WHERE key = 'storage'").fetchone()
    tables = [f"analytics.{spec.table}" for spec in schema.HYPERTABLES if spec.retention]
    if mode and mode[0] == "timescaledb":
        return {t: 0 for t in tables}
    before = {t: _count_rows(conn, t) for t in tables}
    schema.apply_native_retention(conn, now)
    return {t: before[t] - _count_rows(conn, t) for t in tables}


def _count_rows(conn: psycopg.Connection, qualified: str) -> int:
    schema, table = qualified.split(".")
    return conn.execute(sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))).fetchone()[0]


def apply_retention(conn: psycopg.Connection, now=None) -> dict[str, int]:
    """Every retention rule, source copies (by ingest) and analytics: {table: rows removed}."""
    return {**copy_retention.apply_retention(conn), **analytics_retention(conn, now)}


LOG_DDL = """
CREATE SCHEMA IF NOT EXISTS tessera_meta;
CREATE TABLE IF NOT EXISTS tessera_meta.retention_log (
    id           BIGSERIAL PRIMARY KEY,
    run_id       TEXT,
    applied_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    table_name   TEXT NOT NULL,
    rule         TEXT NOT NULL,
    rows_removed BIGINT NOT NULL
)
"""


def rule_descriptions(rules: list[copy_retention.RetentionRule] | None = None) -> dict[str, str]:
    """table -> the rule applied to it, for the report (analytics tables: the mood area's retention)."""
    out = {r.name: r.description for r in rules or copy_retention.retention_rules()}
    from assets.mood import schema

    for spec in schema.HYPERTABLES:
        if spec.retention:
            out[f"analytics.{spec.table}"] = f"time older than {spec.retention}"
    return out


def record_run(conn: psycopg.Connection, removed: dict[str, int], run_id: str | None) -> None:
    """One tessera_meta.retention_log row per table judged, with the rows it lost."""
    conn.execute(LOG_DDL)
    rules = rule_descriptions()
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO tessera_meta.retention_log (run_id, table_name, rule, rows_removed) VALUES (%s, %s, %s, %s)",
            [(run_id, table, rules.get(table, ""), n) for table, n in removed.items()])
