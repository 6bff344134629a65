"""`tessera live`'s ingest: the change stream applied in micro-batches, seconds after each commit.

One long-lived process, one replication connection (replication.py). It starts with one batch ingest tick
(`pipeline.sync`: the slot, drift checks, full loads, and whatever the slot holds), then takes this
stream's live lock for its lifetime, so the sensors' ingest runs end at once while it streams
(`pipeline.sync` raises StreamBusy), and streams:

- messages are decoded once, as they arrive, and grouped into whole transactions (MicroBatcher);
- a batch (closed at a commit boundary by size, by a short time bound, or when the stream is idle) is
  applied in ONE warehouse transaction with the change feed rows (apply.flush), the row counts and the
  cursor (the last commit's LSN); only after that commit is the slot confirmed (standby status update);
- a transaction whose commit LSN is at or below the stored cursor was applied before a crash that came
  between the warehouse commit and the confirmation: it is skipped, as incremental.drain skips it. So a
  kill at any point loses nothing (the slot still holds what was not confirmed) and doubles nothing;
- a change the stream cannot apply alone (a key change with unchanged TOAST data, a table whose columns
  changed, a table not loaded yet) closes the batch before it; the replication connection is released and
  a batch tick (`pipeline.sync`) reloads what needs it, then streaming resumes from the confirmed position;
- after each commit the listeners (the refresh lanes, orchestration/live_lanes.py) get an AppliedBatch.
  They must not block: they queue work for their own threads.

Its position, lag and the lanes' state are kept in tessera_meta.live_status (about once a second).
Nothing here imports Dagster.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Mapping, Sequence

import psycopg

from assets.ingest import apply, pipeline, state, stream
from assets.ingest.pgoutput import (
    Delete,
    Insert,
    Relation,
    Truncate,
    Update,
    lsn_from_str,
    lsn_to_str,
    relation_lookup,
)
from assets.ingest.replication import MicroBatcher, ReplicationStream, Transaction
from core.db import database_name
from sources.registry import TABLES

log = logging.getLogger(__name__)

FLUSH_OPS = 5_000  # pending row operations before they are written (inside the batch's transaction)
READ_LIMIT = 20_000  # messages read before the batcher is asked whether a batch is due
STATUS_EVERY = 1.0  # seconds between live_status updates
LOG_EVERY = 30.0  # seconds between progress lines in the log
LAG_WARNING_SECONDS = 30.0  # a received commit waiting longer than this to be applied is logged as a warning
RESYNC_BACKOFF = (1, 2, 5, 10, 30)  # seconds before retrying a failed start or resync

# Test hook: called as hook(stage) with "applied" (warehouse batch written, not committed) and
# "committed" (committed, slot not yet confirmed). None in production.
BATCH_HOOK: Callable[[str], None] | None = None


@dataclass(frozen=True)
class AppliedBatch:
    """What one committed batch changed, for the refresh lanes and the Dagster reporter."""

    tables: frozenset[str]  # "<product>.<table>" whose raw copy changed (truncates included)
    reloaded: frozenset[str]  # fully (re)loaded by a batch tick: everything about them may have changed
    counts: Mapping[str, apply.Counts]
    transactions: int
    changes: int
    commit_lsn: str | None
    first_committed_at: datetime | None
    committed_at: datetime | None
    applied_at: datetime
    feed_position: int | None
    lag_bytes: int
    lag_seconds: float

    @property
    def touched(self) -> frozenset[str]:
        return self.tables | self.reloaded


@dataclass
class Outcome:
    """The result of applying one batch (pure data)."""

    applied: list[Transaction] = field(default_factory=list)
    skipped: int = 0
    skipped_end: int = 0  # end of the last skipped transaction's commit record
    changes: apply.ChangeSet | None = None
    resync: str | None = None  # why the stream must hand over to a batch tick (None: it need not)
    rest: list[Transaction] = field(default_factory=list)  # not applied: re-read after the resync


def drift_reason(rel: Relation, target: apply.Target | None, seen_types: dict) -> str | None:
    """Why a Relation message means the stream can no longer apply this table's changes, or None.

    The raw copy holds the columns of its last full load; a Relation with other column names, or with a
    column whose type changed since this process first saw the relation, needs a batch tick's drift
    handling (added columns reload the table, dropped or retyped ones block it)."""
    if target is None:
        return None
    names = set(rel.column_names)
    if names != set(target.columns):
        added, dropped = sorted(names - set(target.columns)), sorted(set(target.columns) - names)
        return f"{target.qualified}: source columns changed (added {added or '-'}, dropped {dropped or '-'})"
    types = {c.name: (c.type_oid, c.typmod) for c in rel.columns}
    before = seen_types.setdefault(target.qualified, types)
    if before != types:
        retyped = sorted(c for c in types if before.get(c) != types[c])
        return f"{target.qualified}: column type changed ({', '.join(retyped)})"
    return None


def unloaded_reason(rel: Relation, targets: Mapping[str, apply.Target], registry: set[str]) -> str | None:
    """A registry table that is not receiving changes (pending, never loaded) got some: a tick loads it."""
    qualified = f"{rel.namespace}.{rel.name}"
    if qualified in registry and qualified not in targets:
        return f"{qualified} is not loaded yet"
    return None


def _hook(stage: str) -> None:
    if BATCH_HOOK is not None:
        BATCH_HOOK(stage)


def apply_batch(
    wh: psycopg.Connection,
    batch: list[Transaction],
    targets: Mapping[str, apply.Target],
    relations: dict[int, Relation],
    cursor: int,
    seen_types: dict,
    registry: set[str],
) -> Outcome:
    """Fold `batch` into a ChangeSet and write it inside the caller's open warehouse transaction
    (the caller stores the cursor and commits). Stops before a transaction the stream cannot apply
    (Outcome.resync says why; Outcome.rest holds it and what follows)."""
    changes = apply.ChangeSet(targets=dict(targets))
    out = Outcome(changes=changes)

    rel_of = relation_lookup(relations)

    for i, txn in enumerate(batch):
        if txn.begin.final_lsn <= cursor:
            # Already applied before a crash between the warehouse commit and the slot's confirmation.
            for msg in txn.messages:
                if isinstance(msg, Relation):
                    relations[msg.relid] = msg
            out.skipped += 1
            out.skipped_end = max(out.skipped_end, txn.commit.end_lsn)
            continue
        reason = None
        for msg in txn.messages:
            if isinstance(msg, Relation):
                reason = drift_reason(msg, targets.get(f"{msg.namespace}.{msg.name}"), seen_types) or unloaded_reason(
                    msg, targets, registry)
                if reason:
                    break
        if reason:
            out.resync, out.rest = reason, batch[i:]
            break
        txn_lsn = lsn_to_str(txn.begin.final_lsn)
        for msg in txn.messages:
            if isinstance(msg, Relation):
                relations[msg.relid] = msg
            elif isinstance(msg, (Insert, Update, Delete)):
                changes.add(msg, rel_of, txn_lsn)
                if changes.pending >= FLUSH_OPS:
                    apply.flush(wh, changes)
            elif isinstance(msg, Truncate):
                apply.flush(wh, changes)
                apply.truncate(wh, changes.truncated_targets(msg, rel_of), changes)
        if changes.needs_reload:
            # A key change with unchanged TOAST data: the row cannot be rebuilt from the stream. Nothing of
            # this transaction is kept for that table; the tick reloads it from a snapshot.
            out.resync = f"{', '.join(sorted(changes.needs_reload))}: a change the stream alone cannot apply"
            out.applied.append(txn)
            out.rest = batch[i + 1:]
            break
        out.applied.append(txn)
    apply.flush(wh, changes)
    return out


@dataclass
class Position:
    """How far this process has applied and confirmed."""

    cursor: int = 0  # commit LSN of the last applied transaction
    end: int = 0  # end of that commit record
    committed_at: datetime | None = None
    confirmed: int = 0
    batches: int = 0
    transactions: int = 0
    changes: int = 0


class LiveIngest:
    """The streaming loop. `run()` blocks until `stop` is set (see the module docstring)."""

    def __init__(self, source_url: str, warehouse_url: str, *, listeners: Sequence[Callable[[AppliedBatch], None]] = (),
                 stop: threading.Event, max_batch_changes: int = 5_000, max_batch_delay: float = 0.2,
                 status_every: float = STATUS_EVERY, lanes_status: Callable[[], dict] | None = None):
        self.source_url, self.warehouse_url = source_url, warehouse_url
        self.listeners = list(listeners)
        self.stop = stop
        self.max_batch_changes, self.max_batch_delay = max_batch_changes, max_batch_delay
        self.status_every = status_every
        self.lanes_status = lanes_status or (lambda: {})
        self.source_db, self.warehouse_db = database_name(source_url), database_name(warehouse_url)
        self.slot, self.publication = state.stream_names(self.source_db, self.warehouse_db)
        self.position = Position()
        self.started_at = datetime.now(timezone.utc)
        self.registry = {t.qualified for t in TABLES}
        self._status_at = 0.0
        self._logged_at = 0.0
        self._source_flush = 0
        self._pending_since: datetime | None = None

    # -- the process ----------------------------------------------------------------------------------

    def run(self) -> None:
        with psycopg.connect(self.warehouse_url, autocommit=True, application_name="tessera-live") as lock_conn:
            state.ensure_meta(lock_conn)
            if not state.try_live_lock(lock_conn, self.slot):
                raise RuntimeError(f"another `tessera live` already streams change stream {self.slot}")
            self._write_status(lock_conn, "starting", force=True)
            attempt = 0
            reloaded: frozenset[str] = frozenset(t.qualified for t in TABLES)  # the first pass: refresh everything
            while not self.stop.is_set():
                try:
                    self._catch_up(reloaded)
                    reason = self._stream(lock_conn)
                    attempt = 0
                except (psycopg.OperationalError, OSError, _psycopg2_errors()) as exc:
                    delay = RESYNC_BACKOFF[min(attempt, len(RESYNC_BACKOFF) - 1)]
                    attempt += 1
                    log.warning("live: %s; retrying in %s s", exc, delay)
                    self.stop.wait(delay)
                    reloaded = frozenset()
                    continue
                if reason is None:
                    break
                log.warning("live: handing over to a batch tick: %s", reason)
                self._write_status(lock_conn, "resyncing", force=True)
                reloaded = frozenset(self.registry)
            self._write_status(lock_conn, "stopped", force=True)

    def _catch_up(self, reloaded: frozenset[str]) -> None:
        """One batch tick (the live lock is held, so it is told not to yield), then tell the listeners."""
        started = time.monotonic()
        results = pipeline.sync(self.source_url, self.warehouse_url, yield_to_live=False)
        loaded = frozenset(q for q, r in results.items() if r.mode in ("full", "full+incremental"))
        changed = frozenset(q for q, r in results.items() if r.inserted or r.updated or r.deleted or r.truncated)
        with psycopg.connect(self.warehouse_url, autocommit=True) as wh:
            row = state.get_stream(wh, self.source_db)
        if row and row.cursor_lsn:
            self.position.cursor = lsn_from_str(row.cursor_lsn)
            self.position.end = lsn_from_str(row.cursor_end_lsn or row.cursor_lsn)
            self.position.committed_at = row.cursor_committed_at
        log.info("live: catch-up tick in %.1f s (%s table(s) loaded, %s changed)", time.monotonic() - started,
                 len(loaded), len(changed))
        if loaded or changed or reloaded:
            self._notify(AppliedBatch(
                tables=changed, reloaded=loaded | reloaded, counts={}, transactions=0, changes=0,
                commit_lsn=row.cursor_lsn if row else None, first_committed_at=None,
                committed_at=row.cursor_committed_at if row else None, applied_at=datetime.now(timezone.utc),
                feed_position=None, lag_bytes=0, lag_seconds=0.0))

    def _stream(self, lock_conn: psycopg.Connection) -> str | None:
        """Stream until stopped (None) or until a change needs a batch tick (its reason)."""
        with psycopg.connect(self.warehouse_url, autocommit=True, application_name="tessera-live") as wh_ac, \
                psycopg.connect(self.warehouse_url, application_name="tessera-live-apply") as wh, \
                psycopg.connect(self.source_url, autocommit=True, application_name="tessera-live-monitor") as src_ac:
            stream.check_wal_level(src_ac)
            with state.stream_lock(wh_ac, self.slot):
                targets = pipeline.current_targets(wh_ac)
                replication = ReplicationStream(self.source_url, self.slot, self.publication)
                try:
                    replication.start(0)
                    log.info("live: streaming slot %s from its confirmed position (cursor %s)", self.slot,
                             lsn_to_str(self.position.cursor) if self.position.cursor else "-")
                    return self._loop(replication, wh, src_ac, lock_conn, targets)
                finally:
                    replication.close()

    def _loop(self, replication: ReplicationStream, wh, src_ac, lock_conn, targets) -> str | None:
        batcher = MicroBatcher(self.max_batch_changes, self.max_batch_delay)
        relations: dict[int, Relation] = {}
        seen_types: dict = {}
        self._write_status(lock_conn, "streaming", force=True, src_ac=src_ac)
        while not self.stop.is_set():
            messages = replication.read(READ_LIMIT)
            for msg in messages:
                batcher.add(msg)
            if batcher.complete and self._pending_since is None:
                self._pending_since = batcher.complete[0].commit.commit_time
            idle = not messages
            if batcher.due(idle):
                reason = self._apply(batcher.take(), wh, src_ac, replication, targets, relations, seen_types)
                if reason:
                    return reason
                continue
            if idle and batcher.empty:
                # Nothing received is unapplied: the server's decoded position is safe to confirm, so the
                # slot does not hold back WAL that other databases wrote meanwhile.
                server = replication.server_position
                if server > max(replication.confirmed, self.position.end):
                    replication.confirm(server)
                    self.position.confirmed = server
            self._write_status(lock_conn, "streaming", src_ac=src_ac)
            if idle:
                replication.wait(batcher.wait_hint(0.5))
        return None

    def _apply(self, batch, wh, src_ac, replication, targets, relations, seen_types) -> str | None:
        started = time.monotonic()
        with wh.transaction():
            out = apply_batch(wh, batch, targets, relations, self.position.cursor, seen_types, self.registry)
            changes = out.changes
            last = out.applied[-1].commit if out.applied else None
            feed_position = None
            if last is not None:
                state.record_row_counts(wh, changes.net, changes.recount)
                for qualified in changes.needs_reload:
                    state.set_pending(wh, *qualified.split(".", 1))
                state.set_cursor(wh, self.source_db, lsn_to_str(last.commit_lsn), lsn_to_str(last.end_lsn), last.commit_time)
                if changes.counts:
                    feed_position = wh.execute("SELECT max(position) FROM tessera_meta.change_feed").fetchone()[0]
            _hook("applied")
        applied_at = datetime.now(timezone.utc)
        _hook("committed")
        if last is not None:
            self.position.cursor, self.position.end, self.position.committed_at = last.commit_lsn, last.end_lsn, last.commit_time
            replication.confirm(last.end_lsn)
            self.position.confirmed = last.end_lsn
        elif out.skipped_end:
            replication.confirm(out.skipped_end)  # only re-read transactions: confirm past them
        n_changes = sum(t.changes for t in out.applied)
        self.position.batches += 1
        self.position.transactions += len(out.applied)
        self.position.changes += n_changes
        self._pending_since = None
        if out.applied:
            first = out.applied[0].commit.commit_time
            lag_bytes = max(0, self._source_flush - last.end_lsn) if self._source_flush else 0
            touched = frozenset(q for q, c in changes.counts.items())
            log.debug("live: batch of %s transaction(s), %s change(s) in %.3f s", len(out.applied), n_changes,
                      time.monotonic() - started)
            self._notify(AppliedBatch(
                tables=touched, reloaded=frozenset(), counts=dict(changes.counts), transactions=len(out.applied),
                changes=n_changes, commit_lsn=lsn_to_str(last.commit_lsn), first_committed_at=first,
                committed_at=last.commit_time, applied_at=applied_at, feed_position=feed_position,
                lag_bytes=lag_bytes, lag_seconds=round((applied_at - first).total_seconds(), 3)))
        if out.skipped:
            log.info("live: %s transaction(s) at or below the cursor skipped (applied before a restart)", out.skipped)
        return out.resync

    def _notify(self, batch: AppliedBatch) -> None:
        for listener in self.listeners:
            try:
                listener(batch)
            except Exception:  # a listener's bug must not stop the ingest
                log.exception("live: a batch listener failed")

    def _write_status(self, conn, phase: str, *, force: bool = False, src_ac=None) -> None:
        now = time.monotonic()
        if not force and now - self._status_at < self.status_every:
            return
        self._status_at = now
        if src_ac is not None:
            self._source_flush = lsn_from_str(src_ac.execute("SELECT pg_current_wal_flush_lsn()::text").fetchone()[0])
        done = max(self.position.end, self.position.confirmed)
        lag_bytes = max(0, self._source_flush - done) if self._source_flush and done else None
        pending = self._pending_since
        lag_seconds = (datetime.now(timezone.utc) - pending).total_seconds() if pending else 0.0
        try:
            lanes = self.lanes_status()
        except Exception as exc:  # status is best effort
            lanes = {"error": str(exc)}
        since_log = now - self._logged_at
        if since_log >= LOG_EVERY or (lag_seconds > LAG_WARNING_SECONDS and since_log >= 5):
            self._logged_at = now
            log.log(logging.WARNING if lag_seconds > LAG_WARNING_SECONDS else logging.INFO,
                    "live: %s, applied to %s, %s batches / %s transactions / %s changes so far, behind by %s bytes "
                    "and %.1f s", phase, lsn_to_str(self.position.cursor) if self.position.cursor else "-",
                    self.position.batches, self.position.transactions, self.position.changes,
                    lag_bytes if lag_bytes is not None else "?", lag_seconds)
        state.write_live_status(conn, self.source_db, {
            "pid": os.getpid(), "host": socket.gethostname(), "started_at": self.started_at, "state": phase,
            "applied_lsn": lsn_to_str(self.position.cursor) if self.position.cursor else None,
            "applied_committed_at": self.position.committed_at,
            "source_flush_lsn": lsn_to_str(self._source_flush) if self._source_flush else None,
            "lag_bytes": lag_bytes, "lag_seconds": round(max(lag_seconds, 0.0), 3),
            "batches": self.position.batches, "transactions": self.position.transactions,
            "changes": self.position.changes, "lanes": lanes,
        })


def _psycopg2_errors() -> type:
    import psycopg2

    return psycopg2.OperationalError


def run(source_url: str, warehouse_url: str, *, listeners: Sequence[Callable[[AppliedBatch], None]] = (),
        stop: threading.Event, max_batch_changes: int = 5_000, max_batch_delay: float = 0.2,
        status_every: float = STATUS_EVERY, lanes_status: Callable[[], dict] | None = None) -> LiveIngest:
    """Stream the source's changes into the warehouse until `stop` is set (see the module docstring)."""
    live = LiveIngest(source_url, warehouse_url, listeners=listeners, stop=stop, max_batch_changes=max_batch_changes,
                      max_batch_delay=max_batch_delay, status_every=status_every, lanes_status=lanes_status)
    live.run()
    return live
