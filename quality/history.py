"""quality.check_history: one row per table per suite run (row count, null rates, outcome), so the next
run can compare volume and null rates against the previous one."""

from __future__ import annotations

import json
from dataclasses import dataclass

import psycopg
from psycopg import sql

DDL = """
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.check_history (
    id              BIGSERIAL PRIMARY KEY,
    run_id          TEXT,
    suite           TEXT NOT NULL,           -- e.g. 'raw_mosaic.stories'
    checked_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    status          TEXT NOT NULL,           -- passed | warned | failed | not_built
    row_count       BIGINT,
    null_fractions  JSONB NOT NULL DEFAULT '{}'::jsonb,  -- column -> fraction of NULLs
    failed          JSONB NOT NULL DEFAULT '[]'::jsonb   -- ids of the expectations that failed
);
CREATE INDEX IF NOT EXISTS check_history_suite_time ON quality.check_history (suite, checked_at DESC);
"""


@dataclass(frozen=True)
class TableStats:
    row_count: int
    null_fractions: dict[str, float]


@dataclass(frozen=True)
class PreviousRun:
    run_id: str | None
    row_count: int | None
    null_fractions: dict[str, float]


def ensure_history_schema(conn: psycopg.Connection) -> None:
    conn.execute(DDL)


def table_stats(conn: psycopg.Connection, schema: str, table: str, columns: list[str]) -> TableStats:
    """Row count and the NULL fraction of each column, in one scan."""
    counts = [sql.SQL("count({})").format(sql.Identifier(c)) for c in columns]
    query = sql.SQL("SELECT count(*){sep}{counts} FROM {rel}").format(
        sep=sql.SQL(", ") if counts else sql.SQL(""),
        counts=sql.SQL(", ").join(counts),
        rel=sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table)),
    )
    row = conn.execute(query).fetchone()
    total = row[0]
    nulls = {c: (round(1 - row[i + 1] / total, 4) if total else 0.0) for i, c in enumerate(columns)}
    return TableStats(row_count=total, null_fractions=nulls)


def previous_run(conn: psycopg.Connection, suite: str, exclude_run_id: str | None) -> PreviousRun | None:
    """The latest recorded run of `suite` that found the table (not this run)."""
    row = conn.execute(
        "SELECT run_id, row_count, null_fractions FROM quality.check_history "
        "WHERE suite = %s AND status <> 'not_built' AND run_id IS DISTINCT FROM %s "
        "ORDER BY checked_at DESC, id DESC LIMIT 1",
        (suite, exclude_run_id),
    ).fetchone()
    if row is None:
        return None
    return PreviousRun(run_id=row[0], row_count=row[1], null_fractions=dict(row[2] or {}))


def record_run(
    conn: psycopg.Connection,
    *,
    run_id: str | None,
    suite: str,
    status: str,
    stats: TableStats | None,
    failed: list[str],
) -> None:
    conn.execute(
        "INSERT INTO quality.check_history (run_id, suite, status, row_count, null_fractions, failed) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (
            run_id,
            suite,
            status,
            stats.row_count if stats else None,
            json.dumps(stats.null_fractions if stats else {}),
            json.dumps(failed),
        ),
    )
