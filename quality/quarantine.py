"""The quarantine: rows that failed a row-level rule, kept with their reason until the source fixes them.

Contract shared by every area:
- `quality.quarantine` holds one row per (source_table, record_key, rule) while the rule fails;
  `released_at` is set when a later run finds the row fixed (the history stays).
- Stores the privacy rules govern (embeddings, insights, mood inference, search, traits) skip
  quarantined rows with `not_quarantined(...)` (Python/psycopg) or the dbt macro `not_quarantined`,
  both reading `quality.active_quarantine`. Read views keep them, flagged: dbt staging carries the
  rules a row breaks as `quality_issues` (macro `quality_issues`, dbt_project/macros/quarantine.sql).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from assets.ingest import feed

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


# ---------------------------------------------------------------------------------------------
# Maintaining the quarantine from the row-level rules (quality/rules.py).
# ---------------------------------------------------------------------------------------------

_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS _quality_failing (
    source_table TEXT NOT NULL, record_key TEXT NOT NULL, rule TEXT NOT NULL,
    reason TEXT NOT NULL, row_data JSONB NOT NULL
) ON COMMIT DROP
"""

_INSERT_NEW = """
INSERT INTO quality.quarantine (source_table, record_key, rule, reason, row_data, run_id)
SELECT f.source_table, f.record_key, f.rule, f.reason, f.row_data, %(run_id)s FROM _quality_failing f
ON CONFLICT (source_table, record_key, rule) WHERE released_at IS NULL
DO UPDATE SET reason = EXCLUDED.reason, row_data = EXCLUDED.row_data
RETURNING (xmax = 0) AS inserted, source_table, record_key
"""

_RELEASE_FIXED = """
UPDATE quality.quarantine q SET released_at = now(), released_run_id = %(run_id)s
 WHERE q.released_at IS NULL AND q.rule = ANY(%(rules)s)
   AND NOT EXISTS (SELECT 1 FROM _quality_failing f
                    WHERE f.source_table = q.source_table AND f.record_key = q.record_key AND f.rule = q.rule)
RETURNING q.source_table, q.record_key, q.rule
"""


def refresh_quarantine(conn: psycopg.Connection, rules, run_id: str | None, *, skip_missing: bool = True) -> dict:
    """Evaluate `rules` (RowRule) on the raw tables and bring quality.quarantine up to date, in one
    transaction: rows breaking a rule are quarantined (one row per table/key/rule), quarantined rows
    that pass again (fixed in the source, or gone) are released. Returns counts per rule and the
    tables that were not there to judge (their quarantine rows are left as they are)."""
    from quality.rules import failing_rows_query

    ensure_quarantine_schema(conn)
    conn.execute(_STAGE)
    conn.execute("TRUNCATE _quality_failing")
    judged, missing, failing = [], [], {}
    for rule in rules:
        rel = f'"{rule.table.raw_schema}"."{rule.table.name}"'
        if conn.execute("SELECT to_regclass(%s) IS NULL", (rel,)).fetchone()[0]:
            if not skip_missing:
                raise LookupError(f"{rel} does not exist (ingest has not run)")
            missing.append(rule.source_table)
            continue
        insert = sql.SQL(
            "INSERT INTO _quality_failing (source_table, record_key, rule, reason, row_data) "
            "SELECT {src}, f.record_key, {rule}, f.reason, f.row_data FROM ({q}) AS f"
        ).format(src=sql.Literal(rule.source_table), rule=sql.Literal(rule.id), q=failing_rows_query(rule))
        failing[rule.id] = failing.get(rule.id, 0) + conn.execute(insert).rowcount
        judged.append(rule.id)
    inserted = conn.execute(_INSERT_NEW, {"run_id": run_id}).fetchall()
    released = conn.execute(_RELEASE_FIXED, {"run_id": run_id, "rules": judged}).fetchall()
    # what the read views show of these rows changed: the change feed says so (a 'Q' row each)
    feed.record_quarantine_changes(conn, [(r[1], r[2]) for r in inserted if r[0]] + [(r[0], r[1]) for r in released])
    active = conn.execute(
        "SELECT count(*) FROM quality.quarantine WHERE released_at IS NULL"
    ).fetchone()[0]
    return {
        "failing_by_rule": failing,
        "newly_quarantined": sum(1 for r in inserted if r[0]),
        "released": len(released),
        "released_rows": [list(r) for r in released],
        "active": active,
        "missing_tables": sorted(set(missing)),
    }


def active_quarantine_counts(conn: psycopg.Connection) -> dict[tuple[str, str], int]:
    """(source_table, rule) -> rows currently quarantined."""
    ensure_quarantine_schema(conn)
    rows = conn.execute(
        "SELECT source_table, rule, count(*) FROM quality.quarantine WHERE released_at IS NULL GROUP BY 1, 2"
    ).fetchall()
    return {(r[0], r[1]): r[2] for r in rows}
