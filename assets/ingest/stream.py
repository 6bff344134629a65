"""Source side of change capture: wal_level check, publication, logical slot, peek and advance.

All through the SQL interface (no replication connection): pg_create_logical_replication_slot with the
built-in pgoutput plugin, pg_logical_slot_peek_binary_changes to read without consuming, and
pg_replication_slot_advance once the warehouse has committed what was read.
"""

from __future__ import annotations

import psycopg
from psycopg import sql


class WalLevelError(RuntimeError):
    pass


def check_wal_level(conn: psycopg.Connection) -> None:
    level = conn.execute("SHOW wal_level").fetchone()[0]
    if level != "logical":
        raise WalLevelError(
            f"the source Postgres runs with wal_level={level}; Tessera's change capture needs logical decoding. "
            "Set wal_level = logical (ALTER SYSTEM SET wal_level = 'logical', or -c wal_level=logical) and "
            "max_replication_slots >= 1 per warehouse fed from this source, then restart the source server."
        )


def ensure_publication(conn: psycopg.Connection, schemas: list[str], publication: str) -> list[str]:
    """One publication of every table in the products' schemas (present and future); schemas added to
    an existing publication when missing. Schemas absent from the source are left out (and returned as
    missing). Publications are catalog entries read by the decoder, not triggers: the products'
    writes are unchanged."""
    present = {
        r[0] for r in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", (schemas,)).fetchall()
    }
    wanted = [s for s in schemas if s in present]
    row = conn.execute(
        """SELECT p.oid, array_remove(array_agg(n.nspname::text), NULL)
             FROM pg_publication p
             LEFT JOIN pg_publication_namespace pn ON pn.pnpubid = p.oid
             LEFT JOIN pg_namespace n ON n.oid = pn.pnnspid
            WHERE p.pubname = %s GROUP BY p.oid""",
        (publication,),
    ).fetchone()
    if row is None and wanted:
        conn.execute(
            sql.SQL("CREATE PUBLICATION {} FOR TABLES IN SCHEMA {}").format(
                sql.Identifier(publication), sql.SQL(", ").join(map(sql.Identifier, wanted))
            )
        )
    elif row is not None:
        missing = [s for s in wanted if s not in row[1]]
        if missing:
            conn.execute(
                sql.SQL("ALTER PUBLICATION {} ADD TABLES IN SCHEMA {}").format(
                    sql.Identifier(publication), sql.SQL(", ").join(map(sql.Identifier, missing))
                )
            )
    return [s for s in schemas if s not in present]


def drop_legacy(conn: psycopg.Connection, slots: list[str], publications: list[str]) -> list[str]:
    """Drop the first design's per-product slots and publications of this database pair, when present
    (one query when there are none). Returns the slots dropped."""
    found_slots = [
        r[0] for r in conn.execute(
            "SELECT slot_name FROM pg_replication_slots WHERE slot_name = ANY(%s)", (slots,)
        ).fetchall()
    ]
    found_pubs = [
        r[0] for r in conn.execute("SELECT pubname FROM pg_publication WHERE pubname = ANY(%s)", (publications,)).fetchall()
    ]
    for slot in found_slots:
        drop_slot(conn, slot)  # fails loudly if something still reads it
    for pub in found_pubs:
        conn.execute(sql.SQL("DROP PUBLICATION IF EXISTS {}").format(sql.Identifier(pub)))
    return found_slots


def slot_info(conn: psycopg.Connection, slot: str) -> dict | None:
    row = conn.execute(
        """SELECT database, plugin, confirmed_flush_lsn::text, restart_lsn::text, wal_status
             FROM pg_replication_slots WHERE slot_name = %s""",
        (slot,),
    ).fetchone()
    if row is None:
        return None
    return dict(zip(("database", "plugin", "confirmed_flush_lsn", "restart_lsn", "wal_status"), row))


def create_slot(conn: psycopg.Connection, slot: str) -> str:
    """Create the logical slot (autocommit connection); returns its consistent point. Waits for the
    transactions running at that moment to finish, so every later commit is decoded in full."""
    return conn.execute(
        "SELECT lsn::text FROM pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,)
    ).fetchone()[0]


def drop_slot(conn: psycopg.Connection, slot: str) -> None:
    conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))


def current_lsn(conn: psycopg.Connection) -> str:
    return conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]


def flush_lsn(conn: psycopg.Connection) -> str:
    """WAL flushed to disk: decoding reads no further, so a drain target must not be beyond it (else
    advancing the slot to the target could step over a commit the peek never saw)."""
    return conn.execute("SELECT pg_current_wal_flush_lsn()::text").fetchone()[0]


PEEK_SQL = (
    "SELECT lsn::text, data FROM pg_logical_slot_peek_binary_changes("
    "%s, %s::pg_lsn, %s, 'proto_version', '1', 'publication_names', %s)"
)


def peek_params(slot: str, publication: str, upto_lsn: str | None, upto_nchanges: int | None) -> tuple:
    return (slot, upto_lsn, upto_nchanges, publication)


def advance(conn: psycopg.Connection, slot: str, lsn: str) -> None:
    """Move the slot's confirmed position forward to `lsn` (never backwards)."""
    info = slot_info(conn, slot)
    if info is None:
        raise RuntimeError(f"replication slot {slot} disappeared")
    behind = conn.execute("SELECT %s::pg_lsn > %s::pg_lsn", (lsn, info["confirmed_flush_lsn"])).fetchone()[0]
    if behind:
        conn.execute("SELECT pg_replication_slot_advance(%s, %s::pg_lsn)", (slot, lsn))


def log_running_xacts(conn: psycopg.Connection) -> bool:
    """Write a running-transactions record now (pg_log_standby_snapshot, Postgres 16+, superuser or
    granted) instead of waiting up to 15 s for the background writer's. Decoding can restart from such a
    record, so one right before a drain target lets the slot's restart point follow the target.
    False when not available (the background writer's records do the same, later)."""
    try:
        conn.execute("SELECT pg_log_standby_snapshot()")
        return True
    except psycopg.Error:
        return False


def restart_lag(conn: psycopg.Connection, slot: str) -> int:
    """WAL bytes between where decoding restarts and the confirmed position: re-read by every peek."""
    row = conn.execute(
        "SELECT pg_wal_lsn_diff(confirmed_flush_lsn, restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = %s",
        (slot,),
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else 0

