"""The change feed: every write to a raw copy, recorded in the writer's own warehouse transaction.

Ingest owns the raw copies, so it owns their record of change. Whoever writes a raw table (ingest's
apply and full loads, the erasure, retention) writes, in the same statement, one feed row per row it
changed:

    position     commit-ordered sequence number (the one cursor kind every consumer keeps)
    table_name   'raw_<product>.<table>'
    op           'I' insert, 'U' update, 'D' delete (a tombstone), 'Q' quarantine state changed (the row
                 is unchanged, but what the read views make of it is not), 'T' the table was reloaded
                 or truncated (consumers rebuild: deletes before it are not itemised)
    old, new     the row's key and parent columns (`SourceTable.feed_columns`) before and after the
                 change, as jsonb; never its content. A delete has only `old`, an insert only `new`.
    source_lsn   where the change stands in the source's WAL (null for warehouse-side writes)
    applied_at   when the warehouse transaction that applied it began

Positions are commit-ordered because every writer takes the feed's transaction lock
(`pg_advisory_xact_lock`) before its first feed row and keeps it to its commit: a consumer that has
seen position p has seen every position below p, so "after my cursor" is a complete answer. A
consumer keeps its cursor in tessera_meta.feed_cursors, written in the transaction that consumed the
rows (the dbt marts: macros/change_feed.sql). Rows every mart has consumed are pruned at the end of
each dbt run, so a deleted row's ids leave the feed with the run that removes it from the read views.

Nothing here starts a server or imports Dagster: plain SQL over a psycopg connection.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

from sources.registry import SourceTable, get_table

FEED = "tessera_meta.change_feed"
CURSORS = "tessera_meta.feed_cursors"
OPS = ("I", "U", "D", "Q", "T")

DDL = f"""
CREATE SCHEMA IF NOT EXISTS tessera_meta;
CREATE TABLE IF NOT EXISTS {FEED} (
    position    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name  text NOT NULL,
    op          char(1) NOT NULL CHECK (op IN ({", ".join(f"'{o}'" for o in OPS)})),
    old         jsonb,
    new         jsonb,
    source_lsn  pg_lsn,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS change_feed_table_position_ix ON {FEED} (table_name, position);
COMMENT ON TABLE {FEED} IS
    'What every write to a raw_* table changed: key and parent columns before and after, in commit order (assets/ingest/feed.py)';
CREATE TABLE IF NOT EXISTS {CURSORS} (
    consumer    text PRIMARY KEY,
    position    bigint NOT NULL,
    upto        bigint,
    rebuild     boolean NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE {CURSORS} IS
    'Per consumer: the feed position consumed; upto bounds the window of a refresh in progress';
"""

# Every feed writer takes this transaction-level advisory lock before its first feed row.
_LOCK_KEY = 0x7E55E4A_FEED & 0x7FFFFFFF


def ensure_feed(conn: psycopg.Connection) -> None:
    """Create the feed and the cursor table when absent (idempotent)."""
    if conn.execute("SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL", (FEED, CURSORS)).fetchone()[0]:
        return
    conn.execute(DDL)


def lock(conn: psycopg.Connection) -> None:
    """Take the feed's writer lock until this transaction ends (re-entrant within it), creating the
    feed first when it is not there yet."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
    ensure_feed(conn)


def raw_name(table: SourceTable) -> str:
    return f"{table.raw_schema}.{table.name}"


def registry_table(schema: str, name: str) -> SourceTable | None:
    """The registry table whose raw copy is schema.name (None when it is not a raw copy)."""
    if not schema.startswith("raw_"):
        return None
    try:
        return get_table(f"{schema[len('raw_'):]}.{name}")
    except KeyError:
        return None


def image(table: SourceTable, alias: str, present: Iterable[str] | None = None) -> sql.Composed:
    """jsonb of the row `alias` over the table's feed columns (those in `present`, when given)."""
    keep = set(present) if present is not None else None
    cols = [c for c in table.feed_columns if keep is None or c in keep]
    return sql.SQL("jsonb_build_object({})").format(
        sql.SQL(", ").join(sql.SQL("{}, {}.{}").format(sql.Literal(c), sql.Identifier(alias), sql.Identifier(c)) for c in cols)
    )


def _raw(table: SourceTable) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(table.raw_schema), sql.Identifier(table.name))


def delete_rows(conn: psycopg.Connection, table: SourceTable, where: sql.Composable, params=()) -> int:
    """DELETE the raw rows of `table` matching `where` (over alias r) with a tombstone each; the count."""
    lock(conn)
    return conn.execute(
        sql.SQL(
            "WITH gone AS (DELETE FROM {raw} AS r WHERE {where} RETURNING {img} AS old), "
            "fed AS (INSERT INTO {feed} (table_name, op, old) SELECT {name}, 'D', old FROM gone) "
            "SELECT count(*) FROM gone"
        ).format(raw=_raw(table), where=where, img=image(table, "r"), feed=sql.SQL(FEED), name=sql.Literal(raw_name(table))),
        params,
    ).fetchone()[0]


def update_rows(conn: psycopg.Connection, table: SourceTable, assignments: sql.Composable, where: sql.Composable,
                set_params=(), where_params=()) -> int:
    """UPDATE the raw rows of `table` matching `where` (alias r) with `assignments`, a feed row each;
    `set_params` and `where_params` fill the placeholders of each."""
    lock(conn)
    key = sql.SQL(", ").join(sql.SQL("r.{}").format(sql.Identifier(k)) for k in table.key)
    match = sql.SQL(" AND ").join(sql.SQL("b.{k} = a.{k}").format(k=sql.Identifier(k)) for k in table.key)
    return conn.execute(
        sql.SQL(
            "WITH before AS (SELECT {key}, {img} AS old FROM {raw} AS r WHERE {where}), "
            "after AS (UPDATE {raw} AS r SET {set} WHERE {where} RETURNING {key}, {img} AS new), "
            "fed AS (INSERT INTO {feed} (table_name, op, old, new) "
            "        SELECT {name}, 'U', b.old, a.new FROM after a JOIN before b ON {match}) "
            "SELECT count(*) FROM after"
        ).format(key=key, img=image(table, "r"), raw=_raw(table), where=where, set=assignments,
                 feed=sql.SQL(FEED), name=sql.Literal(raw_name(table)), match=match),
        (*where_params, *set_params, *where_params),
    ).fetchone()[0]


def record_reload(conn: psycopg.Connection, table: SourceTable) -> None:
    """The table was truncated or reloaded: its consumers rebuild."""
    lock(conn)
    conn.execute(sql.SQL("INSERT INTO {} (table_name, op) VALUES (%s, 'T')").format(sql.SQL(FEED)), (raw_name(table),))


def record_quarantine_changes(conn: psycopg.Connection, changed: Iterable[tuple[str, str]]) -> int:
    """Rows whose quarantine state changed, as (source table 'product.table', record key '|'-joined):
    a 'Q' feed row each, with the raw row's current image (old = new). Rows no longer in the raw
    copy are skipped: their delete is in the feed already."""
    by_table: dict[str, list[str]] = {}
    for source_table, record_key in changed:
        by_table.setdefault(source_table, []).append(record_key)
    written = 0
    for qualified, keys in sorted(by_table.items()):
        table = get_table(qualified)
        present = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (table.raw_schema, table.name)).fetchall()}
        if not present:
            continue
        lock(conn)
        key_text = sql.SQL(" || '|' || ").join(sql.SQL("r.{}::text").format(sql.Identifier(k)) for k in table.key)
        written += conn.execute(
            sql.SQL(
                "INSERT INTO {feed} (table_name, op, old, new) "
                "SELECT {name}, 'Q', {img}, {img} FROM {raw} AS r WHERE {key} = ANY(%s)"
            ).format(feed=sql.SQL(FEED), name=sql.Literal(raw_name(table)), img=image(table, "r", present),
                     raw=_raw(table), key=key_text),
            (sorted(set(keys)),),
        ).rowcount
    return written
