"""One ingest tick per product: stream set-up, drift check, full loads where needed, then the change stream.

Order inside a tick (per product, under a warehouse advisory lock):
1. the publication and the logical slot exist (the slot is created BEFORE any snapshot is taken);
2. every selected table is compared with its raw copy: an added column is added and the table reloaded,
   a dropped / retyped column blocks the table (recorded in tessera_meta) while the others go on;
3. tables that need it (new, pending, drifted, resync requested) are fully loaded from one REPEATABLE
   READ snapshot, each in its own warehouse transaction;
4. the change stream is drained up to the WAL position read after the loads, so changes already in a
   snapshot are replayed over it (idempotent) and the tick ends converged.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import psycopg
from psycopg import sql

from assets.ingest import apply, drift, fullload, incremental, state, stream
from orchestration.db import columns_of
from sources.registry import PRODUCTS, SourceTable, get_table, tables_for

log = logging.getLogger(__name__)


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


def _dbname(url: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(url).get("dbname") or ""


def _connect(url: str, autocommit: bool = False) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=autocommit, application_name="tessera-ingest")


def _ensure_stream(src_ac, wh_ac, source_url: str, warehouse_url: str, product: str) -> state.Stream:
    stream.check_wal_level(src_ac)
    slot, publication = state.stream_names(_dbname(source_url), _dbname(warehouse_url), product)
    stream.ensure_publication(src_ac, product, publication)
    row = state.get_stream(wh_ac, product)
    info = stream.slot_info(src_ac, slot)
    if row is not None and row.slot_name == slot and info is not None:
        return row
    if info is not None:
        log.warning("dropping slot %s: the warehouse has no cursor for it", slot)
        stream.drop_slot(src_ac, slot)
    elif row is not None:
        log.warning("slot %s is missing in the source: every %s table is reloaded", slot, product)
    created = stream.create_slot(src_ac, slot)
    row = state.Stream(product, _dbname(source_url), slot, publication, created, None, None, None)
    with wh_ac.transaction():
        state.reset_stream(wh_ac, row)
    return row


def _plan(src_ac, wh_ac, product, selected, states, reload) -> tuple[dict, dict, dict]:
    """(to_load {name: source columns}, blocked {name: reason}, events {name: [drift events]})."""
    to_load, blocked, events = {}, {}, {}
    for table in selected:
        current = states[table.name]
        src_cols = columns_of(src_ac, product, table.name)
        if not src_cols:
            reason = f"{table.qualified} does not exist in the source database"
            blocked[table.name] = reason
            with wh_ac.transaction():
                state.set_blocked(wh_ac, product, table.name, reason)
            continue
        if table.name in reload or current.status == "pending":
            to_load[table.name] = src_cols
            continue
        if current.status == "blocked":
            blocked[table.name] = current.blocked_reason
            continue
        raw_cols = columns_of(wh_ac, table.raw_schema, table.name)
        if not raw_cols:
            to_load[table.name] = src_cols
            continue
        found = drift.compare(src_cols, raw_cols)
        if not found.any:
            continue
        events[table.name] = found.events()
        message = found.message(table.qualified)
        with wh_ac.transaction():
            for event in found.events():
                state.record_drift(wh_ac, product, table.name, event["kind"], event.get("column"), message)
            if found.blocking:
                state.set_blocked(wh_ac, product, table.name, message)
        if found.blocking:
            log.error(message)
            blocked[table.name] = message
        else:
            log.warning(message)
            to_load[table.name] = src_cols
    return to_load, blocked, events


def _reshape_raw(wh, table: SourceTable, src_cols) -> list[dict]:
    """Make an existing raw table's source columns match the source (inside the load transaction).

    Added columns are added. Dropped / retyped / reordered columns (a resync) recreate the table when
    nothing depends on it; otherwise they are altered in place (dependent views must allow it)."""
    raw_cols = columns_of(wh, table.raw_schema, table.name)
    if not raw_cols:
        return []
    found = drift.compare(src_cols, raw_cols)
    if not found.any:
        return []
    ident = sql.SQL("{}.{}").format(sql.Identifier(table.raw_schema), sql.Identifier(table.name))
    if not found.blocking:
        wh.execute(drift.add_columns(table.raw_schema, table.name, found.added))
        return found.events()
    try:
        with wh.transaction():
            wh.execute(sql.SQL("DROP TABLE {}").format(ident))
        return found.events()
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
    return found.events()


def _full_loads(source_url: str, wh, product: str, to_load: dict, results: dict) -> None:
    with _connect(source_url) as snap:
        snap.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        snap.read_only = True
        with snap.transaction():
            snapshot_lsn = stream.current_lsn(snap)
            for name in to_load:
                table = get_table(f"{product}.{name}")
                src_cols = columns_of(snap, product, name)
                with wh.transaction():
                    events = _reshape_raw(wh, table, src_cols)
                    loaded = fullload.load_table(snap, wh, product, name, src_cols, table.key, snapshot_lsn)
                    state.set_loaded(wh, product, name, src_cols, snapshot_lsn, loaded.rows)
                    if events:
                        state.record_drift(wh, product, name, "reloaded", None, f"full reload after drift: {events}")
                res = results[name]
                res.full_load_rows, res.full_load_seconds = loaded.rows, round(loaded.seconds, 3)
                res.inserted += loaded.rows
                res.bytes += loaded.bytes
                res.mode = "full"
                res.cursor_lsn = snapshot_lsn
                res.drift_events += [e for e in events if e not in res.drift_events]


def _targets(wh, product: str, states: dict) -> dict[str, apply.Target]:
    """Tables that receive changes: loaded ones (pending and blocked tables skip theirs; a later full
    load starts from a newer snapshot)."""
    targets = {}
    for table in tables_for(product):
        if states[table.name].status != "loaded":
            continue
        raw_cols = [c for c, _ in drift.source_part(columns_of(wh, table.raw_schema, table.name))]
        if raw_cols:
            targets[table.qualified] = apply.Target(product, table.name, table.key, tuple(raw_cols))
    return targets


def _row_count(wh, table: SourceTable, res: TableResult, current: state.TableState) -> int | None:
    """Exact count of the raw table, recounted only when this tick changed it (a count of every large
    table on every tick would cost more than the tick itself)."""
    changed = res.inserted or res.deleted or res.truncated or res.mode.startswith("full")
    if current.row_count is not None and not changed:
        return current.row_count
    if not columns_of(wh, table.raw_schema, table.name):
        return None
    return wh.execute(
        sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(table.raw_schema), sql.Identifier(table.name))
    ).fetchone()[0]


def sync_product(
    source_url: str,
    warehouse_url: str,
    product: str,
    *,
    tables: list[str] | None = None,
    reload: set[str] | frozenset[str] = frozenset(),
) -> dict[str, TableResult]:
    """One ingest tick for one product. `tables` limits full loads, drift checks and the results to
    those tables (the change stream is per product, so it is applied to every loaded table);
    `reload` forces a full reload (resync) of those tables."""
    if product not in PRODUCTS:
        raise KeyError(f"unknown product {product!r}")
    started = datetime.now(timezone.utc)
    selected = [t for t in tables_for(product) if tables is None or t.name in tables]
    results = {t.name: TableResult(table=t.qualified, status="loaded", mode="none") for t in selected}
    with _connect(warehouse_url, autocommit=True) as wh_ac, _connect(source_url, autocommit=True) as src_ac:
        state.ensure_meta(wh_ac)
        with state.product_lock(wh_ac, product):
            row = _ensure_stream(src_ac, wh_ac, source_url, warehouse_url, product)
            with wh_ac.transaction():
                state.ensure_tables(wh_ac, product, [t.name for t in tables_for(product)])
            states = state.table_states(wh_ac, product)
            to_load, blocked, events = _plan(src_ac, wh_ac, product, selected, states, set(reload))
            for name, evs in events.items():
                results[name].drift_events += evs
            with _connect(warehouse_url) as wh, _connect(source_url) as src:
                for _round in range(3):
                    if to_load:
                        _full_loads(source_url, wh, product, to_load, results)
                    states = state.table_states(wh_ac, product)
                    target_lsn, target_time = src_ac.execute(
                        "SELECT pg_current_wal_flush_lsn()::text, clock_timestamp()"
                    ).fetchone()
                    drained = incremental.drain(src, wh, row, _targets(wh_ac, product, states), target_lsn)
                    for qualified, counts in drained.counts.items():
                        name = qualified.split(".", 1)[1]
                        if name not in results:  # changed outside the selection: recount next time
                            with wh_ac.transaction():
                                wh_ac.execute(
                                    "UPDATE tessera_meta.ingest_tables SET row_count = NULL WHERE product = %s AND table_name = %s",
                                    (product, name),
                                )
                        else:
                            res = results[name]
                            res.inserted += counts.inserted
                            res.updated += counts.updated
                            res.deleted += counts.deleted
                            res.truncated += counts.truncated
                            res.bytes += counts.bytes
                            res.mode = "full+incremental" if res.mode == "full" else "incremental"
                    # A change the stream alone cannot apply: reload those tables and drain again.
                    to_load = {}
                    for qualified in drained.needs_reload:
                        name = qualified.split(".", 1)[1]
                        with wh_ac.transaction():
                            state.set_pending(wh_ac, product, name)
                        to_load[name] = columns_of(src_ac, product, name)
                    if not to_load:
                        break
            # The warehouse now holds every change committed before the drain target (read at
            # target_time): it is behind the source by the time since then, and by the WAL since the slot.
            lag_bytes = stream.lag_bytes(src_ac, row.slot_name)
            lag_seconds = (src_ac.execute("SELECT clock_timestamp()").fetchone()[0] - target_time).total_seconds()
            for name, res in results.items():
                if name in blocked:
                    res.status, res.error, res.mode = "blocked", blocked[name], "none"
                else:
                    res.cursor_lsn = row.cursor_lsn or res.cursor_lsn or row.created_lsn
                res.lag_bytes, res.lag_seconds = lag_bytes, round(max(lag_seconds, 0.0), 3)
            states = state.table_states(wh_ac, product)
            with wh_ac.transaction():
                for name, res in results.items():
                    res.row_count = _row_count(wh_ac, get_table(f"{product}.{name}"), res, states[name])
                    if res.row_count is not None:
                        state.set_row_count(wh_ac, product, name, res.row_count)
                state.record_run(
                    wh_ac,
                    product,
                    started,
                    "blocked" if blocked else "ok",
                    {name: res.as_dict() for name, res in results.items()},
                )
    return results


def sync_all(source_url: str, warehouse_url: str, products=None) -> dict:
    """One ingest tick for every registry table (full load the first time, incremental afterwards).

    Returns {"<product>.<table>": result dict} with status, mode, inserted/updated/deleted, bytes,
    cursor_lsn, lag_bytes, lag_seconds, row_count, drift_events and error (blocked tables)."""
    out = {}
    for product in products or PRODUCTS:
        for res in sync_product(source_url, warehouse_url, product).values():
            out[res.table] = res.as_dict()
    return out


def resync_table(source_url: str, warehouse_url: str, qualified: str) -> dict:
    """Full reload of one table (e.g. after a blocking schema drift): the raw table is reshaped to the
    source's columns, reloaded from a fresh snapshot, unblocked, and the product's stream drained."""
    table = get_table(qualified)
    with _connect(warehouse_url, autocommit=True) as wh_ac:
        state.ensure_meta(wh_ac)
        with wh_ac.transaction():
            state.ensure_tables(wh_ac, table.product, [t.name for t in tables_for(table.product)])
            state.record_drift(wh_ac, table.product, table.name, "resynced", None, f"resync of {qualified} requested")
    results = sync_product(source_url, warehouse_url, table.product, tables=[table.name], reload={table.name})
    return results[table.name].as_dict()
