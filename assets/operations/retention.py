"""Retention: the seeds' rules applied to Tessera's copies, each run reporting what it removed.

Raw copies follow the registry's `retention` (audit logs 7 years, application logs 30 days, API request
logs 90 days, coach audit logs 180 days, dialogue 365 days); the analytics event tables (mood events
1 year, activity events 6 months) are aged out by the mood area's own retention (partition drops or
Timescale policies), which this module calls when it is present.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

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
        if conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{rule.schema}"."{rule.table}"',)).fetchone()[0]:
            removed[rule.name] = conn.execute(delete_statement(rule)).rowcount
    return removed
