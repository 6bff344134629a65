"""One ingest tick for every selected table: stream set-up, drift check, full loads where needed, then
the change stream, which is ONE publication and ONE logical slot shared by all products.

Order inside a tick (under a warehouse advisory lock per stream):
1. the publication (every product schema) and the logical slot exist (the slot is created BEFORE any
   snapshot is taken); the first design's per-product slots of the same database pair are dropped;
2. every selected table is compared with its raw copy (two catalog queries for all tables): an added
   column is added and the table reloaded, a dropped / retyped column blocks the table (recorded in
   tessera_meta) while the others go on;
3. tables that need it (new, pending, drifted, resync requested) are fully loaded from one REPEATABLE
   READ snapshot, each in its own warehouse transaction;
4. the change stream is drained once, for every loaded table, up to the WAL position read after the
   loads: changes already in a snapshot are replayed over it (idempotent), the slot ends past the
   loads' own WAL, and the tick ends converged. The next tick decodes only what was written since.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Iterable

import psycopg
from psycopg import sql

from assets.ingest import apply, drift, fullload, incremental, state, stream
from core.db import database_name
from sources.registry import PRODUCTS, TABLES, SourceTable, get_table, tables_for

log = logging.getLogger(__name__)

MAX_LOAD_ROUNDS = 3  # full loads, drain; again for tables the stream could not patch (rare)


class TableBlocked(RuntimeError):
    pass


@dataclass
class TableResult:
    table: str
    status: str  # loaded | blocked
    mode: str  # full | incremental | full+incremental | none
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    truncated: int = 0
    bytes: int = 0
    full_load_rows: int = 0
    full_load_seconds: float = 0.0
    cursor_lsn: str | None = None
    lag_bytes: int = 0
    lag_seconds: float = 0.0
    row_count: int | None = None
    drift_events: list = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _connect(url: str, autocommit: bool = False) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=autocommit, application_name="tessera-ingest")


def catalog(conn: psycopg.Connection, schemas: list[str]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """{(schema, table): [(column, formatted type), ...] in ordinal order} of every table of `schemas`,
    in one query (instead of one per table)."""
    rows = conn.execute(
        """SELECT n.nspname, c.relname,
                  array_agg(a.attname::text ORDER BY a.attnum),
                  array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p')
            GROUP BY n.nspname, c.relname""",
        (schemas,),
    ).fetchall()
    return {(schema, name): list(zip(cols, types)) for schema, name, cols, types in rows}


def _source_columns(conn, tables: Iterable[SourceTable]) -> dict[str, list]:
    tables = list(tables)
    found = catalog(conn, sorted({t.product for t in tables}))
    return {t.qualified: found.get((t.product, t.name), []) for t in tables}


def _raw_columns(conn, tables: Iterable[SourceTable]) -> dict[str, list]:
    tables = list(tables)
    found = catalog(conn, sorted({t.raw_schema for t in tables}))
    return {t.qualified: found.get((t.raw_schema, t.name), []) for t in tables}


def _ensure_stream(src_ac, wh_ac, source_db: str, warehouse_db: str) -> state.Stream:
    stream.check_wal_level(src_ac)
    slot, publication = state.stream_names(source_db, warehouse_db)
    legacy = [state.legacy_stream_names(source_db, warehouse_db, p) for p in PRODUCTS]
    dropped = stream.drop_legacy(src_ac, [s for s, _ in legacy], [p for _, p in legacy])
    if dropped:
        log.warning("dropped the per-product slots of the first design: %s", ", ".join(dropped))
    missing = stream.ensure_publication(src_ac, list(PRODUCTS), publication)
    if missing:
        log.warning("product schema(s) absent from the source database: %s", ", ".join(missing))
    row = state.get_stream(wh_ac, source_db)
    info = stream.slot_info(src_ac, slot)
    if row is not None and row.slot_name == slot and info is not None:
        return row
    if info is not None:
        log.warning("dropping slot %s: the warehouse has no cursor for it", slot)
        stream.drop_slot(src_ac, slot)
    elif row is not None:
        log.warning("slot %s is missing in the source: every table is reloaded", slot)
    created = stream.create_slot(src_ac, slot)
    row = state.Stream(source_db, slot, publication, created, None, None, None)
    with wh_ac.transaction():
        state.reset_stream(wh_ac, row)
    return row


def _plan(wh_ac, selected, states, src_cols, raw_cols, reload) -> tuple[dict, dict, dict]:
    """(to_load {qualified: source columns}, blocked {qualified: reason}, events {qualified: [events]})."""
    to_load, blocked, events = {}, {}, {}
    for table in selected:
        q = table.qualified
        current = states[q]
        cols = src_cols.get(q)
        if not cols:
            reason = f"{q} does not exist in the source database"
            blocked[q] = reason
            current.status = "blocked"
            with wh_ac.transaction():
                state.set_blocked(wh_ac, table.product, table.name, reason)
            continue
        if q in reload or current.status == "pending":
            to_load[q] = cols
            continue
        if current.status == "blocked":
            blocked[q] = current.blocked_reason
            continue
        raw = raw_cols.get(q)
        if not raw:
            to_load[q] = cols
            continue
        found = drift.compare(cols, raw)
        if not found.any:
            continue
        events[q] = found.events()
        message = found.message(q)
        with wh_ac.transaction():
            for event in found.events():
                state.record_drift(wh_ac, table.product, table.name, event["kind"], event.get("column"), message)
            if found.blocking:
                state.set_blocked(wh_ac, table.product, table.name, message)
        if found.blocking:
            log.error(message)
            blocked[q] = message
            current.status = "blocked"  # receives no changes from the stream
        else:
            log.warning(message)
            to_load[q] = cols
    return to_load, blocked, events


def _reshape_raw(wh, table: SourceTable, src_cols, raw_cols) -> tuple[list[dict], bool]:
    """Make an existing raw table's source columns match the source (inside the load transaction);
    returns (drift events, whether the raw table still exists).

    Added columns are added. Dropped / retyped / reordered columns (a resync) recreate the table when
    nothing depends on it; otherwise they are altered in place (dependent views must allow it)."""
    if not raw_cols:
        return [], False
    found = drift.compare(src_cols, raw_cols)
    if not found.any:
        return [], True
    ident = sql.SQL("{}.{}").format(sql.Identifier(table.raw_schema), sql.Identifier(table.name))
    if not found.blocking:
        wh.execute(drift.add_columns(table.raw_schema, table.name, found.added))
        return found.events(), True
    try:
        with wh.transaction():
            wh.execute(sql.SQL("DROP TABLE {}").format(ident))
        return found.events(), False
    except psycopg.errors.DependentObjectsStillExist:
        pass
    for column in found.dropped:
        wh.execute(sql.SQL("ALTER TABLE {} DROP COLUMN {}").format(ident, sql.Identifier(column)))
    for column, _old, new in found.retyped:
        wh.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING NULL").format(ident, sql.Identifier(column), sql.SQL(new))
        )
    if found.added:
        wh.execute(drift.add_columns(table.raw_schema, table.name, found.added))
    return found.events(), True


def _full_loads(source_url: str, wh, to_load: dict, results: dict, raw_cols: dict, states: dict) -> None:
    """Load every table of `to_load` from ONE snapshot; updates raw_cols and states as it goes."""
    tables = [get_table(q) for q in to_load]
    with _connect(source_url) as snap:
        snap.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        snap.read_only = True
        with snap.transaction():
            snapshot_lsn = stream.current_lsn(snap)
            current = _source_columns(snap, tables)
            for table in tables:
                q = table.qualified
                src_cols = current[q] or to_load[q]
                with wh.transaction():
                    events, exists = _reshape_raw(wh, table, src_cols, raw_cols.get(q))
                    loaded = fullload.load_table(
                        snap, wh, table.product, table.name, src_cols, table.key, snapshot_lsn, exists=exists
                    )
                    state.set_loaded(wh, table.product, table.name, src_cols, snapshot_lsn, loaded.rows)
                    if events:
                        state.record_drift(wh, table.product, table.name, "reloaded", None, f"full reload after drift: {events}")
                raw_cols[q] = list(src_cols) + [("_ingested_at", "timestamp with time zone"), ("_source_lsn", "pg_lsn")]
                states[q] = state.TableState("loaded", src_cols, snapshot_lsn, None, loaded.rows)
                res = results.get(q)
                if res is None:
                    continue
                res.full_load_rows, res.full_load_seconds = loaded.rows, round(loaded.seconds, 3)
                res.inserted += loaded.rows
                res.bytes += loaded.bytes
                res.mode = "full"
                res.cursor_lsn = snapshot_lsn
                res.drift_events += [e for e in events if e not in res.drift_events]


def _ensure_ingested_at_indexes(wh_ac, selected, states, raw_cols, to_load) -> None:
    """Raw tables loaded before the `<table>__ingested_at` index existed get it now (one catalog query;
    full loads create it themselves)."""
    have = {
        r[0] for r in wh_ac.execute(
            """SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind = 'i' AND n.nspname = ANY(%s) AND c.relname LIKE '%%\\_\\_ingested\\_at'""",
            (sorted({t.raw_schema for t in selected}),),
        ).fetchall()
    }
    for table in selected:
        q = table.qualified
        if q in to_load or states[q].status != "loaded" or not raw_cols.get(q):
            continue
        if f"{table.raw_schema}.{table.name}__ingested_at" not in have:
            wh_ac.execute(fullload.ingested_at_index(table.raw_schema, table.name))


def _targets(states: dict, raw_cols: dict) -> dict[str, apply.Target]:
    """Tables that receive changes: every loaded one (pending and blocked tables skip theirs; a later
    full load starts from a newer snapshot)."""
    targets = {}
    for table in TABLES:
        if states[table.qualified].status != "loaded":
            continue
        cols = [c for c, _ in drift.source_part(raw_cols.get(table.qualified) or [])]
        if cols:
            targets[table.qualified] = apply.Target(table.product, table.name, table.key, tuple(cols))
    return targets


def current_targets(wh_ac) -> dict[str, apply.Target]:
    """The tables that receive changes now, with their raw columns (two catalog queries)."""
    return _targets(state.table_states(wh_ac), _raw_columns(wh_ac, TABLES))


def _add_drain(clock: dict, results: dict, drained: incremental.DrainResult) -> None:
    clock["drain"] += drained.seconds
    clock["decode"] += drained.peek_seconds
    clock["apply_sql"] += drained.apply_sql_seconds
    clock["advance"] += drained.advance_seconds
    _add_counts(results, drained)


def _add_counts(results: dict, drained: incremental.DrainResult) -> None:
    for q, counts in drained.counts.items():
        res = results.get(q)
        if res is None:
            continue
        res.inserted += counts.inserted
        res.updated += counts.updated
        res.deleted += counts.deleted
        res.truncated += counts.truncated
        res.bytes += counts.bytes
        res.mode = "full+incremental" if res.mode == "full" else "incremental"


def sync(
    source_url: str,
    warehouse_url: str,
    *,
    tables: Iterable[str] | None = None,
    reload: Iterable[str] = (),
    timings: dict | None = None,
    yield_to_live: bool = True,
) -> dict[str, TableResult]:
    """One ingest tick. `tables` ("<product>.<table>", default every registry table) limits full loads,
    drift checks and the results to those tables; the change stream is applied to every loaded table
    (it is one stream). `reload` forces a full reload (resync) of those tables.
    Returns {"<product>.<table>": TableResult}; `timings`, when given, receives the tick's seconds by phase
    (plan, full loads, change stream, and inside it decode, apply SQL and slot advance).

    While `tessera live` streams this change stream, the tick has nothing to do: it raises StreamBusy at
    once, before touching anything (`yield_to_live=False` is live's own catch-up)."""
    wanted = None if tables is None else set(tables)
    if wanted is not None:
        for q in wanted:
            get_table(q)  # KeyError for unknown tables
    reload = set(reload)
    started = datetime.now(timezone.utc)
    selected = [t for t in TABLES if wanted is None or t.qualified in wanted]
    results = {t.qualified: TableResult(table=t.qualified, status="loaded", mode="none") for t in selected}
    source_db, warehouse_db = database_name(source_url), database_name(warehouse_url)
    slot, _publication = state.stream_names(source_db, warehouse_db)
    clock = {"start": time.monotonic()}
    with _connect(warehouse_url, autocommit=True) as wh_ac, _connect(source_url, autocommit=True) as src_ac:
        state.ensure_meta(wh_ac)
        if yield_to_live and state.live_holder(wh_ac, slot):
            log.warning("`tessera live` is streaming change stream %s: this ingest tick ends without work", slot)
            raise state.StreamBusy(f"`tessera live` is streaming change stream {slot}; a batch ingest is not needed")
        with state.stream_lock(wh_ac, slot):
            state.ensure_tables(wh_ac, [t.qualified for t in TABLES])
            row = _ensure_stream(src_ac, wh_ac, source_db, warehouse_db)
            states = state.table_states(wh_ac)
            src_cols = _source_columns(src_ac, TABLES)
            raw_cols = _raw_columns(wh_ac, TABLES)
            to_load, blocked, events = _plan(wh_ac, selected, states, src_cols, raw_cols, reload)
            _ensure_ingested_at_indexes(wh_ac, selected, states, raw_cols, to_load)
            clock["planned"] = time.monotonic()
            clock["loads"] = clock["drain"] = clock["decode"] = clock["apply_sql"] = clock["advance"] = 0.0
            for q, evs in events.items():
                results[q].drift_events += evs
            with _connect(warehouse_url) as wh, _connect(source_url) as src:
                for _round in range(MAX_LOAD_ROUNDS):
                    if to_load:
                        loads_started = time.monotonic()
                        _full_loads(source_url, wh, to_load, results, raw_cols, states)
                        clock["loads"] += time.monotonic() - loads_started
                    stream.log_running_xacts(src_ac)  # lets the slot's restart point follow the target
                    target_lsn, target_time = src_ac.execute(
                        "SELECT pg_current_wal_flush_lsn()::text, clock_timestamp()"
                    ).fetchone()
                    drained = incremental.drain(src, wh, row, _targets(states, raw_cols), target_lsn)
                    _add_drain(clock, results, drained)
                    if not drained.needs_reload and stream.restart_lag(src_ac, row.slot_name) > incremental.REANCHOR_BYTES:
                        # An advance over a long range (a full load's WAL) keeps the FIRST restart point it
                        # meets, inside that range: every later peek would decode it again. One more
                        # drain past a fresh running-transactions record moves the restart point to it.
                        stream.log_running_xacts(src_ac)
                        target_lsn, target_time = src_ac.execute(
                            "SELECT pg_current_wal_flush_lsn()::text, clock_timestamp()"
                        ).fetchone()
                        drained = incremental.drain(src, wh, row, _targets(states, raw_cols), target_lsn)
                        _add_drain(clock, results, drained)
                    # A change the stream alone cannot apply: reload those tables and drain again.
                    to_load = {}
                    for q in sorted(drained.needs_reload):
                        table = get_table(q)
                        with wh_ac.transaction():
                            state.set_pending(wh_ac, table.product, table.name)
                        states[q].status = "pending"
                        to_load[q] = src_cols[q]
                    if not to_load:
                        break
            # The warehouse now holds every change committed before the drain target (read at
            # target_time): it is behind the source by the time since then, and by the WAL since the slot.
            lag = src_ac.execute(
                """SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint, clock_timestamp()
                     FROM pg_replication_slots WHERE slot_name = %s""",
                (row.slot_name,),
            ).fetchone()
            lag_bytes = int(lag[0] or 0) if lag else 0
            lag_seconds = ((lag[1] if lag else target_time) - target_time).total_seconds()
            states = state.table_states(wh_ac)
            for q, res in results.items():
                if q in blocked:
                    res.status, res.error, res.mode = "blocked", blocked[q], "none"
                else:
                    res.cursor_lsn = row.cursor_lsn or res.cursor_lsn or row.created_lsn
                res.lag_bytes, res.lag_seconds = lag_bytes, round(max(lag_seconds, 0.0), 3)
                res.row_count = states[q].row_count
                if res.row_count is None and raw_cols.get(q):
                    # Unknown (a TRUNCATE came through the stream): recount once, kept exact afterwards.
                    table = get_table(q)
                    res.row_count = wh_ac.execute(
                        sql.SQL("SELECT count(*) FROM {}.{}").format(
                            sql.Identifier(table.raw_schema), sql.Identifier(table.name)
                        )
                    ).fetchone()[0]
                    state.set_row_count(wh_ac, table.product, table.name, res.row_count)
            runs = []
            for product in PRODUCTS:
                mine = {q.split(".", 1)[1]: r for q, r in results.items() if q.startswith(product + ".")}
                if mine:
                    status = "blocked" if any(r.status == "blocked" for r in mine.values()) else "ok"
                    runs.append((product, status, {n: r.as_dict() for n, r in mine.items()}))
            state.record_runs(wh_ac, started, runs)
    phases = {
        "total_s": time.monotonic() - clock["start"],
        "plan_s": clock["planned"] - clock["start"],
        "full_loads_s": clock["loads"],
        "change_stream_s": clock["drain"],
        "decode_s": clock["decode"],
        "apply_sql_s": clock["apply_sql"],
        "advance_s": clock["advance"],
    }
    log.info(
        "ingest tick of %s table(s) in %.2f s: set-up and plan %.2f s, full loads %.2f s, change stream %.2f s "
        "(decode %.2f s, apply SQL %.2f s, advance %.2f s)",
        len(selected), *phases.values(),
    )
    if timings is not None:
        timings.update({k: round(v, 3) for k, v in phases.items()})
    return results


def sync_product(
    source_url: str,
    warehouse_url: str,
    product: str,
    *,
    tables: list[str] | None = None,
    reload: set[str] | frozenset[str] = frozenset(),
) -> dict[str, TableResult]:
    """One ingest tick limited to one product's tables (or `tables`, names within the product);
    returns {table name: TableResult}. The shared change stream is drained for every loaded table."""
    if product not in PRODUCTS:
        raise KeyError(f"unknown product {product!r}")
    names = [t.name for t in tables_for(product) if tables is None or t.name in tables]
    results = sync(
        source_url,
        warehouse_url,
        tables=[f"{product}.{n}" for n in names],
        reload={f"{product}.{n}" for n in reload},
    )
    return {q.split(".", 1)[1]: r for q, r in results.items()}


def sync_all(source_url: str, warehouse_url: str, products=None, timings: dict | None = None) -> dict:
    """One ingest tick for every registry table of `products` (default all): full load the first time,
    incremental afterwards, one pass over the change stream for all of them.

    Returns {"<product>.<table>": result dict} with status, mode, inserted/updated/deleted, bytes,
    cursor_lsn, lag_bytes, lag_seconds, row_count, drift_events and error (blocked tables)."""
    products = list(products or PRODUCTS)
    for product in products:
        if product not in PRODUCTS:
            raise KeyError(f"unknown product {product!r}")
    tables = [t.qualified for t in TABLES if t.product in products]
    return {q: r.as_dict() for q, r in sync(source_url, warehouse_url, tables=tables, timings=timings).items()}


def resync_table(source_url: str, warehouse_url: str, qualified: str) -> dict:
    """Full reload of one table (e.g. after a blocking schema drift): the raw table is reshaped to the
    source's columns, reloaded from a fresh snapshot, unblocked, and the change stream drained."""
    table = get_table(qualified)
    with _connect(warehouse_url, autocommit=True) as wh_ac:
        state.ensure_meta(wh_ac)
        with wh_ac.transaction():
            state.ensure_tables(wh_ac, [t.qualified for t in TABLES])
            state.record_drift(wh_ac, table.product, table.name, "resynced", None, f"resync of {qualified} requested")
    results = sync(source_url, warehouse_url, tables=[qualified], reload={qualified})
    return results[qualified].as_dict()
