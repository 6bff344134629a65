"""Drain the change stream (one slot for every product) into the warehouse, exactly once.

Each batch: peek up to BATCH_CHANGES messages (whole transactions; pgoutput without streaming emits a
transaction only at its commit), fold them into a ChangeSet and write it in ONE warehouse transaction
that also stores the cursor (commit LSN of the last applied transaction). Only after that commit is the
slot advanced. A crash between the two re-reads transactions whose commit LSN <= cursor: they are
skipped, so every transaction is applied once. The drain stops at the source's flushed WAL position
captured when it starts (a busy source cannot keep a tick running forever); when the stream holds
nothing more before that position, the slot is advanced to it.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import psycopg

from assets.ingest import apply, state, stream
from assets.ingest.pgoutput import (
    Begin,
    Commit,
    DecodeError,
    Delete,
    Insert,
    Relation,
    Truncate,
    Update,
    decode,
    lsn_from_str,
    lsn_to_str,
    relation_lookup,
)

log = logging.getLogger(__name__)

# Messages per peek (rounded up to whole transactions). Every peek decodes again from the slot's
# restart point, so few large batches are cheaper than many small ones; memory stays bounded either way
# (the server keeps the peek's result in a tuplestore, Python folds FETCH_ROWS at a time).
BATCH_CHANGES = 200_000
REANCHOR_BYTES = 64 << 20  # restart point further behind than this after a tick's drain: drain once more (pipeline)
FETCH_ROWS = 2_000  # rows per fetch from the server-side cursor
FLUSH_OPS = 5_000  # pending row operations before writing them to the warehouse (on the worker thread)

# Test hook: called as hook(stage) with stage "applied" (warehouse batch written, not yet committed)
# and "committed" (cursor committed, slot not yet advanced). None in production.
BATCH_HOOK: Callable[[str], None] | None = None


@dataclass
class DrainResult:
    counts: dict[str, apply.Counts] = field(default_factory=dict)
    transactions: int = 0
    skipped: int = 0  # re-read transactions at or below the stored cursor
    batches: int = 0
    cursor_lsn: str | None = None
    cursor_committed_at: object | None = None
    needs_reload: set[str] = field(default_factory=set)
    unknown_relations: set[str] = field(default_factory=set)
    seconds: float = 0.0
    peek_seconds: float = 0.0  # the server decoding the WAL (until the first rows of each peek arrive)
    advance_seconds: float = 0.0
    apply_sql_seconds: float = 0.0  # the warehouse running the upserts, patches and deletes


class _Applier:
    """Writes full ChangeSet parts to the warehouse on a worker thread, one at a time and in order,
    while the caller decodes the next messages (psycopg releases the GIL while the server works).
    Every part is written inside the caller's warehouse transaction, on the same connection."""

    def __init__(self, wh: psycopg.Connection):
        self.wh = wh
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tessera-apply")
        self.in_flight: tuple[Future, apply.ChangeSet] | None = None

    def submit(self, changes: apply.ChangeSet) -> None:
        self.wait(changes)
        part = changes.detach()
        self.in_flight = (self.pool.submit(apply.flush, self.wh, part), part)

    def wait(self, changes: apply.ChangeSet) -> None:
        """Wait for the part in flight; its net row counts are added to `changes`."""
        if self.in_flight is None:
            return
        future, part = self.in_flight
        self.in_flight = None
        future.result()
        changes.merge_net(part)

    def __enter__(self) -> "_Applier":
        return self

    def __exit__(self, *exc) -> None:
        if self.in_flight is not None:  # leaving on an error: let the worker finish before the rollback
            try:
                self.in_flight[0].result()
            except Exception:  # the original error is the one that matters
                pass
            self.in_flight = None
        self.pool.shutdown(wait=True)


def _hook(stage: str) -> None:
    if BATCH_HOOK is not None:
        BATCH_HOOK(stage)


def drain(
    src: psycopg.Connection,
    wh: psycopg.Connection,
    stream_row: state.Stream,
    targets: dict[str, apply.Target],
    upto_lsn: str,
) -> DrainResult:
    """`src` and `wh` are non-autocommit connections owned by the caller."""
    started = time.monotonic()
    result = DrainResult(cursor_lsn=stream_row.cursor_lsn, cursor_committed_at=stream_row.cursor_committed_at)
    relations: dict[int, Relation] = {}
    cursor = lsn_from_str(stream_row.cursor_lsn) if stream_row.cursor_lsn else 0

    rel_of = relation_lookup(relations)

    drained_to_target = False
    while True:
        changes = apply.ChangeSet(targets=targets)
        last_commit: Commit | None = None
        in_txn = skip = False
        messages = 0
        with src.transaction():
            with src.cursor(name="tessera_peek") as cur:
                cur.execute(
                    stream.PEEK_SQL,
                    stream.peek_params(stream_row.slot_name, stream_row.publication, upto_lsn, BATCH_CHANGES),
                )
                with wh.transaction(), _Applier(wh) as applier:
                    peek_started = time.monotonic()
                    rows = cur.fetchmany(FETCH_ROWS)
                    result.peek_seconds += time.monotonic() - peek_started
                    while rows:
                        for _lsn, data in rows:
                            messages += 1
                            msg = decode(data)
                            if isinstance(msg, Begin):
                                in_txn = True
                                skip = msg.final_lsn <= cursor
                                txn_lsn = lsn_to_str(msg.final_lsn)
                            elif isinstance(msg, Commit):
                                in_txn = False
                                last_commit = msg
                                if skip:
                                    result.skipped += 1
                                else:
                                    result.transactions += 1
                                    cursor = msg.commit_lsn
                                    result.cursor_lsn = lsn_to_str(msg.commit_lsn)
                                    result.cursor_committed_at = msg.commit_time
                            elif isinstance(msg, Relation):
                                relations[msg.relid] = msg
                                if f"{msg.namespace}.{msg.name}" not in targets:
                                    result.unknown_relations.add(f"{msg.namespace}.{msg.name}")
                            elif skip:
                                continue
                            elif isinstance(msg, (Insert, Update, Delete)):
                                changes.add(msg, rel_of, txn_lsn, len(data))
                                if changes.pending >= FLUSH_OPS:
                                    applier.submit(changes)
                            elif isinstance(msg, Truncate):
                                applier.wait(changes)
                                apply.flush(wh, changes)
                                apply.truncate(wh, changes.truncated_targets(msg, rel_of), changes)
                        rows = cur.fetchmany(FETCH_ROWS)
                    if in_txn:
                        # Cannot happen without the 'streaming' option; refuse rather than apply half.
                        raise DecodeError("peek ended inside a transaction; nothing of this batch was applied")
                    applier.wait(changes)
                    if last_commit is None:
                        drained_to_target = True
                        break
                    apply.flush(wh, changes)
                    state.record_row_counts(wh, changes.net, changes.recount)
                    if result.cursor_lsn and result.cursor_lsn != stream_row.cursor_lsn:
                        state.set_cursor(
                            wh,
                            stream_row.source_database,
                            result.cursor_lsn,
                            lsn_to_str(last_commit.end_lsn),
                            result.cursor_committed_at,
                        )
                    _hook("applied")
        _hook("committed")
        # The peek stopped at the target, not at the batch limit, when it returned fewer messages than
        # asked: nothing more of this publication committed before the target, so the slot goes there
        # in one advance (each advance decodes the WAL from the restart point again).
        exhausted = messages < BATCH_CHANGES
        advance_to = last_commit.end_lsn
        if exhausted:
            advance_to = max(advance_to, lsn_from_str(upto_lsn))
        advance_started = time.monotonic()
        with src.transaction():
            stream.advance(src, stream_row.slot_name, lsn_to_str(advance_to))
        result.advance_seconds += time.monotonic() - advance_started
        stream_row.cursor_lsn = result.cursor_lsn
        result.batches += 1
        result.apply_sql_seconds += changes.sql_seconds
        for name, counts in changes.counts.items():
            result.counts.setdefault(name, apply.Counts()).add(counts)
        result.needs_reload |= changes.needs_reload
        log.info(
            "change stream %s: batch %s, %s messages, %s transactions applied so far (cursor %s)",
            stream_row.slot_name, result.batches, messages, result.transactions, result.cursor_lsn,
        )
        if exhausted or last_commit.end_lsn >= lsn_from_str(upto_lsn):
            break
    if drained_to_target:
        # Nothing of this publication committed before the target: confirm it, so the next peek does not
        # re-read WAL that other databases and schemas wrote meanwhile (and the server may recycle it).
        advance_started = time.monotonic()
        with src.transaction():
            stream.advance(src, stream_row.slot_name, upto_lsn)
        result.advance_seconds += time.monotonic() - advance_started
    result.seconds = time.monotonic() - started
    log.info(
        "change stream %s drained to %s in %.2f s (decode %.2f s, apply SQL %.2f s, advance %.2f s): "
        "%s transactions, %s batches",
        stream_row.slot_name, upto_lsn, result.seconds, result.peek_seconds, result.apply_sql_seconds,
        result.advance_seconds, result.transactions, result.batches,
    )
    return result
