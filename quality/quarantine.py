"""The quarantine: rows that failed a row-level rule, kept with their reason until the source fixes them.

Contract shared by every area:
- `quality.quarantine` holds one row per (source_table, record_key, rule) while the rule fails;
  `released_at` is set when a later run finds the row fixed (the history stays).
- Downstream readers skip quarantined rows with `not_quarantined(...)` (Python/psycopg) or the dbt
  macro `not_quarantined` (dbt_project/macros), both reading `quality.active_quarantine`.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

DDL = """
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.quarantine (
    id              BIGSERIAL PRIMARY KEY,
    source_table    TEXT NOT NULL,          -- e.g. 'mindflow.journal_entries' (the source table the row came from)
    record_key      TEXT NOT NULL,          -- primary key value(s) as text, '|'-joined for composite keys
    rule            TEXT NOT NULL,          -- rule id, e.g. 'story_content_not_empty'
    reason          TEXT NOT NULL,          -- human-readable explanation with the offending value
    row_data        JSONB NOT NULL,         -- the row as JSON when it was quarantined
    run_id          TEXT,                   -- Dagster run id that quarantined it
    quarantined_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    released_at     TIMESTAMPTZ,            -- set when the row passes again
    released_run_id TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS quarantine_active_uq
    ON quality.quarantine (source_table, record_key, rule) WHERE released_at IS NULL;
CREATE OR REPLACE VIEW quality.active_quarantine AS
    SELECT DISTINCT source_table, record_key FROM quality.quarantine WHERE released_at IS NULL;
"""


def ensure_quarantine_schema(conn: psycopg.Connection) -> None:
    conn.execute(DDL)


def not_quarantined(source_table: str, key_expression: sql.Composable) -> sql.Composed:
    """A WHERE-clause fragment: true when the row whose key renders as `key_expression` is not quarantined.

    Example: sql.SQL("SELECT * FROM raw_mosaic.stories s WHERE {}").format(
                 not_quarantined("mosaic.stories", sql.SQL("s.id::text")))
    """
    return sql.SQL(
        "NOT EXISTS (SELECT 1 FROM quality.active_quarantine aq "
        "WHERE aq.source_table = {} AND aq.record_key = {})"
    ).format(sql.Literal(source_table), key_expression)
