"""Retention of the raw copies, owned by ingest: the registry's `retention` rules (sources/registry.py:
audit logs 7 years, application logs 30 days, API request logs 90 days, coach audit logs 180 days,
dialogue 365 days; the AI assistant's cleanup_old_data: governance events 7 years, user sessions 2 years
after they ended, completed agent sessions 1 year after completion) applied to raw_<product> tables, a
tombstone in the change feed for every row removed, so the dbt models and every other reader of the feed
see the deletions. The operations area schedules it (assets/operations/retention.py) and logs each run.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from assets.ingest import feed
from core.db import table_exists
from sources.registry import TABLES, SourceTable


@dataclass(frozen=True)
class RetentionRule:
    schema: str
    table: str
    column: str
    keep: str  # a Postgres interval
    condition: str | None = None  # an extra SQL condition (a registry constant), e.g. "status = 'completed'"

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def description(self) -> str:
        return f"{self.column} older than {self.keep}" + (f" and {self.condition}" if self.condition else "")


def retention_rules(tables: tuple[SourceTable, ...] = TABLES) -> list[RetentionRule]:
    return [RetentionRule(t.raw_schema, t.name, *t.retention) for t in tables if t.retention]


def expired_condition(rule: RetentionRule) -> sql.Composed:
    """True for the rows the rule removes."""
    condition = sql.SQL("{} < now() - {}::interval").format(sql.Identifier(rule.column), sql.Literal(rule.keep))
    if rule.condition:
        condition = sql.SQL("{} AND ({})").format(condition, sql.SQL(rule.condition))
    return condition


def delete_statement(rule: RetentionRule) -> sql.Composed:
    return sql.SQL("DELETE FROM {}.{} WHERE {}").format(
        sql.Identifier(rule.schema), sql.Identifier(rule.table), expired_condition(rule))


def apply_retention(conn: psycopg.Connection, rules: list[RetentionRule] | None = None) -> dict[str, int]:
    """Apply the rules to the raw copies, a tombstone in the change feed for each row removed: {table: rows removed}."""
    removed = {}
    for rule in rules or retention_rules():
        if table_exists(conn, rule.schema, rule.table):
            table = feed.registry_table(rule.schema, rule.table)
            removed[rule.name] = (feed.delete_rows(conn, table, expired_condition(rule)) if table is not None
                                  else conn.execute(delete_statement(rule)).rowcount)
    return removed
