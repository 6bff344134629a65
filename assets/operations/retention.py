"""Retention: the seeds' rules applied to Tessera's copies, each run reporting what it removed.

Raw copies follow the registry's `retention` (audit logs 7 years, application logs 30 days, API request
logs 90 days, coach audit logs 180 days, dialogue 365 days); the analytics event tables (mood events
1 year, activity events 6 months) are aged out by the mood area's own retention (partition drops or
Timescale policies), which `analytics_retention` calls. Rollups and insights are kept (seed 004).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from orchestration.db import table_exists
from sources.registry import TABLES, SourceTable


@dataclass(frozen=True)
class RetentionRule:
    schema: str
    table: str
    column: str
    keep: str  # a Postgres interval

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"


def raw_rules(tables: tuple[SourceTable, ...] = TABLES) -> list[RetentionRule]:
    return [RetentionRule(t.raw_schema, t.name, t.retention[0], t.retention[1]) for t in tables if t.retention]


def delete_statement(rule: RetentionRule) -> sql.Composed:
    return sql.SQL("DELETE FROM {}.{} WHERE {} < now() - {}::interval").format(
        sql.Identifier(rule.schema), sql.Identifier(rule.table), sql.Identifier(rule.column), sql.Literal(rule.keep))


def apply_raw_retention(conn: psycopg.Connection, rules: list[RetentionRule] | None = None) -> dict[str, int]:
    removed = {}
    for rule in rules or raw_rules():
        if table_exists(conn, rule.schema, rule.table):
            removed[rule.name] = conn.execute(delete_statement(rule)).rowcount
    return removed


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
    """Every retention rule, raw copies and analytics: {table: rows removed}."""
    return {**apply_raw_retention(conn), **analytics_retention(conn, now)}
