"""Small connection helpers over psycopg 3. Identifiers go through psycopg.sql, never string formatting."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

import psycopg
from psycopg import sql


@contextmanager
def connect(url: str, *, autocommit: bool = False, application_name: str = "tessera") -> Iterator[psycopg.Connection]:
    with psycopg.connect(url, autocommit=autocommit, application_name=application_name) as conn:
        yield conn


def database_name(url: str) -> str:
    """The database a libpq URL or conninfo string names ('' when it names none)."""
    return psycopg.conninfo.conninfo_to_dict(url).get("dbname") or ""


def qualified(schema: str, name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


def columns_of(conn: psycopg.Connection, schema: str, table: str) -> list[tuple[str, str]]:
    """(column, formatted type) in ordinal order; [] when the table does not exist."""
    rows = conn.execute(
        """SELECT a.attname, format_type(a.atttypid, a.atttypmod)
             FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum""",
        (schema, table),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def count_rows(conn: psycopg.Connection, schema: str, table: str) -> int:
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(qualified(schema, table))).fetchone()[0]


def table_exists(conn: psycopg.Connection, schema: str, table: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}"."{table}"',)).fetchone()[0]


def execute_script(conn: psycopg.Connection, statements: Sequence[str]) -> None:
    for statement in statements:
        conn.execute(statement)
