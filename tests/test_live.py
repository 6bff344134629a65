"""`tessera live`'s ingest: micro-batches from the replication stream, applied exactly once, handing over
to and from the batch path without a gap."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from assets.ingest import apply, live, state
from assets.ingest.pgoutput import Begin, Column, Commit, DecodeError, Insert, Relation
from assets.ingest.pipeline import sync, sync_all
from assets.ingest.replication import MicroBatcher
from core.db import database_name
from test_ingest_support import add_mindflow_user, diff_all, kill_when_flagged

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _txn(batcher: MicroBatcher, lsn: int, changes: int) -> None:
    batcher.add(Begin(final_lsn=lsn, commit_time=T0, xid=lsn))
    for i in range(changes):
        batcher.add(Insert(relid=1, new=(str(i),)))
    batcher.add(Commit(flags=0, commit_lsn=lsn, end_lsn=lsn + 8, commit_time=T0))


# ---------------------------------------------------------------------------------------------
# Pure: the micro-batcher and the drift rule
# ---------------------------------------------------------------------------------------------

def test_batcher_closes_only_at_a_commit_boundary_by_size():
    clock = FakeClock()
    b = MicroBatcher(max_changes=5, max_delay=10.0, clock=clock)
    _txn(b, 100, 3)
    assert not b.due(idle=False)  # 3 changes, no time passed, the stream still busy
    b.add(Begin(final_lsn=200, commit_time=T0, xid=2))
    for i in range(4):
        b.add(Insert(relid=1, new=(str(i),)))
    assert not b.due(idle=False) and b.in_transaction  # 7 changes received, but only 3 in whole transactions
    b.add(Commit(flags=0, commit_lsn=200, end_lsn=208, commit_time=T0))
    assert b.due(idle=False)
    batch = b.take()
    assert [t.begin.final_lsn for t in batch] == [100, 200] and [t.changes for t in batch] == [3, 4]
    assert b.empty and not b.due(idle=True)


def test_batcher_closes_by_delay_or_when_the_stream_is_idle():
    clock = FakeClock()
    b = MicroBatcher(max_changes=1000, max_delay=0.2, clock=clock)
    _txn(b, 100, 1)
    assert not b.due(idle=False)
    assert b.wait_hint(1.0) == pytest.approx(0.2)
    clock.now = 0.15
    assert not b.due(idle=False) and b.wait_hint(1.0) == pytest.approx(0.05)
    assert b.due(idle=True)  # nothing more to read: no reason to wait
    clock.now = 0.25
    assert b.due(idle=False)
    assert len(b.take()) == 1


def test_batcher_keeps_relations_with_their_transaction_and_refuses_broken_streams():
    b = MicroBatcher(clock=FakeClock())
    rel = Relation(relid=1, namespace="mindflow", name="tags", replica_identity="d",
                   columns=(Column("id", 2950, -1, True),))
    b.add(rel)  # between transactions: kept for the next one
    _txn(b, 100, 1)
    (txn,) = b.take()
    assert txn.messages[0] is rel and txn.changes == 1
    with pytest.raises(DecodeError):
        MicroBatcher().add(Commit(flags=0, commit_lsn=1, end_lsn=2, commit_time=T0))
    bad = MicroBatcher()
    bad.add(Begin(final_lsn=5, commit_time=T0, xid=1))
    with pytest.raises(DecodeError):
        bad.add(Commit(flags=0, commit_lsn=6, end_lsn=7, commit_time=T0))
    with pytest.raises(ValueError):
        MicroBatcher(max_changes=0)


def test_drift_reason_sees_added_dropped_and_retyped_columns():
    target = apply.Target("mindflow", "tags", ("id",), ("id", "name"))
    same = Relation(1, "mindflow", "tags", "d", (Column("id", 2950, -1, True), Column("name", 25, -1, False)))
    seen: dict = {}
    assert live.drift_reason(same, target, seen) is None
    added = Relation(1, "mindflow", "tags", "d", same.columns + (Column("color", 25, -1, False),))
    assert "added ['color']" in live.drift_reason(added, target, seen)
    dropped = Relation(1, "mindflow", "tags", "d", same.columns[:1])
    assert "dropped ['name']" in live.drift_reason(dropped, target, seen)
    retyped = Relation(1, "mindflow", "tags", "d", (same.columns[0], Column("name", 1043, 14, False)))
    assert "type changed (name)" in live.drift_reason(retyped, target, seen)
    assert live.drift_reason(same, None, seen) is None  # not a registry table: nothing to apply
    assert live.unloaded_reason(same, {}, {"mindflow.tags"}) == "mindflow.tags is not loaded yet"
    assert live.unloaded_reason(same, {"mindflow.tags": target}, {"mindflow.tags"}) is None


# ---------------------------------------------------------------------------------------------
# Streaming against the embedded Postgres
# ---------------------------------------------------------------------------------------------

class Running:
    """A LiveIngest on a thread, with every AppliedBatch it announced."""

    def __init__(self, dbs, **kwargs):
        self.stop = threading.Event()
        self.batches: list[live.AppliedBatch] = []
        self.error: list[BaseException] = []
        self.live = live.LiveIngest(dbs.source_url, dbs.warehouse_url, listeners=[self.batches.append],
                                    stop=self.stop, status_every=0.2, **kwargs)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self.live.run()
        except BaseException as exc:
            self.error.append(exc)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(60)
        assert not self.thread.is_alive(), "live did not stop within 60 s"

    def wait_streaming(self, warehouse_url, source_db, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert not self.error, self.error
            with psycopg.connect(warehouse_url) as conn:
                if conn.execute("SELECT to_regclass('tessera_meta.live_status')").fetchone()[0]:
                    row = state.live_status(conn, source_db)
                    if row and row["state"] == "streaming":
                        return row
            time.sleep(0.1)
        raise AssertionError("live never reached the streaming state")


def _wait_converged(dbs, runner, timeout=60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert not runner.error, runner.error
        if not diff_all(dbs.source_url, dbs.warehouse_url):
            return
        time.sleep(0.2)
    raise AssertionError(f"raw copies never converged: {sorted(diff_all(dbs.source_url, dbs.warehouse_url))}")


def test_live_streams_each_change_once_and_confirms_the_slot(ingested):
    source_db = database_name(ingested.source_url)
    with Running(ingested) as runner:
        runner.wait_streaming(ingested.warehouse_url, source_db)
        with psycopg.connect(ingested.source_url, autocommit=True) as src:
            user_id, entries = add_mindflow_user(src, entries=3)
        _wait_converged(ingested, runner)  # the inserts applied: what follows is not folded into them
        with psycopg.connect(ingested.source_url, autocommit=True) as src:
            src.execute("UPDATE mindflow.journal_entries SET content = 'edited live', word_count = 2 WHERE id = %s",
                        (entries[0],))
            src.execute("DELETE FROM mindflow.journal_entries WHERE id = %s", (entries[1],))
            with src.transaction():  # one source transaction touching two products
                src.execute("UPDATE mindflow.journal_entries SET mood = 'sad' WHERE id = %s", (entries[2],))
                src.execute("UPDATE mosaic.stories SET title = title || ' (live)' WHERE id = (SELECT id FROM mosaic.stories ORDER BY id LIMIT 1)")
        _wait_converged(ingested, runner)
        with psycopg.connect(ingested.warehouse_url) as wh:
            stream_row = state.get_stream(wh, source_db)
            feed_ops = dict(wh.execute(
                "SELECT op, count(*) FROM tessera_meta.change_feed WHERE table_name = 'raw_mindflow.journal_entries' "
                "AND (coalesce(new, old) ->> 'id') = ANY(%s) GROUP BY op", (entries,)).fetchall())
        # every change reached the feed exactly once: 3 inserts, 2 updates, 1 tombstone
        assert feed_ops == {"I": 3, "U": 2, "D": 1}
        touched = set().union(*(b.tables for b in runner.batches))
        assert {"mindflow.users", "mindflow.user_settings", "mindflow.journal_entries", "mosaic.stories"} <= touched
        assert runner.batches[0].reloaded  # the first announcement: the catch-up pass over every table
        streamed = [b for b in runner.batches if b.transactions]
        assert all(b.committed_at >= b.first_committed_at and b.applied_at >= b.committed_at for b in streamed)
        assert sum(b.counts["mindflow.journal_entries"].inserted for b in streamed
                   if "mindflow.journal_entries" in b.counts) == 3
        # the slot is confirmed up to what the warehouse committed (standby status updates)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with psycopg.connect(ingested.source_url) as src:
                confirmed = src.execute("SELECT confirmed_flush_lsn::text, active FROM pg_replication_slots "
                                        "WHERE slot_name = %s", (stream_row.slot_name,)).fetchone()
            with psycopg.connect(ingested.source_url) as src:
                caught_up = src.execute("SELECT %s::pg_lsn >= %s::pg_lsn", (confirmed[0], stream_row.cursor_end_lsn)).fetchone()[0]
            if caught_up:
                break
            time.sleep(0.2)
        assert caught_up and confirmed[1], f"slot at {confirmed}, cursor end {stream_row.cursor_end_lsn}"
        # the status row is written at most every status_every: wait until it reports every announced batch
        announced = (sum(b.transactions for b in runner.batches), sum(b.changes for b in runner.batches))
        assert announced[0] >= 4 and announced[1] >= 9
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with psycopg.connect(ingested.warehouse_url) as wh:
                status = state.live_status(wh, source_db)
            if (status["transactions"], status["changes"]) == announced:
                break
            time.sleep(0.2)
        assert (status["transactions"], status["changes"]) == announced and status["applied_lsn"] is not None
    with psycopg.connect(ingested.warehouse_url) as wh:
        assert state.live_status(wh, source_db)["state"] == "stopped"


def test_batch_ingest_yields_while_live_streams_and_takes_over_without_a_gap(ingested):
    import dagster as dg

    from assets.ingest.definitions import ingest_asset
    from assets.resources import SourceDatabase, WarehouseDatabase

    source_db = database_name(ingested.source_url)
    with Running(ingested) as runner:
        runner.wait_streaming(ingested.warehouse_url, source_db)
        with pytest.raises(state.StreamBusy):
            sync(ingested.source_url, ingested.warehouse_url)
        assert runner.thread.is_alive()  # it refused at once: it did not wait for the live process to stop
        result = dg.materialize([ingest_asset], resources={
            "source": SourceDatabase(url=ingested.source_url), "warehouse": WarehouseDatabase(url=ingested.warehouse_url)})
        assert result.success
        assert result.get_asset_materialization_events() == []  # live reports these; the run adds nothing
        with psycopg.connect(ingested.source_url, autocommit=True) as src:
            add_mindflow_user(src, entries=1)
        _wait_converged(ingested, runner)
        runner.stop.set()
    # committed while nobody streams: the batch path picks up from live's confirmed position
    with psycopg.connect(ingested.source_url, autocommit=True) as src:
        add_mindflow_user(src, entries=2)
    results = sync_all(ingested.source_url, ingested.warehouse_url)
    assert results["mindflow.journal_entries"]["inserted"] == 2  # exactly what came after live stopped
    assert results["mindflow.users"]["inserted"] == 1
    assert diff_all(ingested.source_url, ingested.warehouse_url) == {}
    # and back to live: it starts from the batch path's cursor, nothing re-applied
    with Running(ingested) as runner:
        runner.wait_streaming(ingested.warehouse_url, source_db)
        with psycopg.connect(ingested.source_url, autocommit=True) as src:
            add_mindflow_user(src, entries=1)
        _wait_converged(ingested, runner)
        streamed = [b for b in runner.batches if b.transactions]
        assert sum(b.counts.get("mindflow.journal_entries", apply.Counts()).inserted for b in streamed) == 1


def test_a_source_column_added_while_streaming_is_loaded_by_a_handover(ingested):
    source_db = database_name(ingested.source_url)
    with Running(ingested) as runner:
        runner.wait_streaming(ingested.warehouse_url, source_db)
        with psycopg.connect(ingested.source_url, autocommit=True) as src:
            src.execute("ALTER TABLE mindflow.tags ADD COLUMN live_note text")
            src.execute("UPDATE mindflow.tags SET live_note = 'noted' WHERE id = (SELECT id FROM mindflow.tags ORDER BY id LIMIT 1)")
            add_mindflow_user(src, entries=1)
        _wait_converged(ingested, runner, timeout=90)
        with psycopg.connect(ingested.warehouse_url) as wh:
            noted = wh.execute("SELECT count(*) FROM raw_mindflow.tags WHERE live_note = 'noted'").fetchone()[0]
        assert noted == 1
        assert any("mindflow.tags" in b.reloaded for b in runner.batches[1:])  # the lanes hear of the reload
        runner.wait_streaming(ingested.warehouse_url, source_db)  # and it streams again afterwards
        with psycopg.connect(ingested.source_url, autocommit=True) as src:
            add_mindflow_user(src, entries=1)
        _wait_converged(ingested, runner)


def test_a_second_live_process_refuses_to_start(ingested):
    source_db = database_name(ingested.source_url)
    with Running(ingested) as runner:
        runner.wait_streaming(ingested.warehouse_url, source_db)
        other = live.LiveIngest(ingested.source_url, ingested.warehouse_url, stop=threading.Event())
        with pytest.raises(RuntimeError, match="already streams"):
            other.run()


# ---------------------------------------------------------------------------------------------
# SIGKILL under a concurrent writer with late-committing transactions
# ---------------------------------------------------------------------------------------------


# Runs `live` in a child process; after `after` batches the hook announces the stage through a flag file
# and hangs there, so the parent can SIGKILL the process at exactly that point.
KILL_CHILD = """
import sys, time, pathlib, threading
from assets.ingest import live
source, warehouse, flag, stage, after = sys.argv[1:6]
flag, after, seen = pathlib.Path(flag), int(after), []
def hook(at):
    if at == stage:
        seen.append(at)
        if len(seen) >= after:
            flag.write_text(at)
            time.sleep(600)
live.BATCH_HOOK = hook
live.run(source, warehouse, stop=threading.Event(), max_batch_changes=50, max_batch_delay=0.05)
"""


class Writer:
    """Commits journal entries and edits continuously; every third transaction stays open a while
    (it began before others that commit first, so the stream orders it by its commit)."""

    def __init__(self, source_url):
        self.source_url = source_url
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(2)]

    def _run(self, worker: int):
        import random

        rng = random.Random(worker)
        try:
            with psycopg.connect(self.source_url, autocommit=True) as conn:
                n = 0
                while not self.stop.is_set():
                    n += 1
                    with conn.transaction():
                        _, entries = add_mindflow_user(conn, entries=2)
                        conn.execute("UPDATE mindflow.journal_entries SET content = content || ' more' WHERE id = %s",
                                     (entries[0],))
                        if n % 3 == worker:
                            time.sleep(rng.uniform(0.3, 1.2))  # a late committer
                    if n % 5 == 0:
                        conn.execute("DELETE FROM mindflow.journal_entries WHERE id = %s", (entries[1],))
                    time.sleep(rng.uniform(0.0, 0.05))
        except BaseException as exc:
            self.errors.append(exc)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)


def _kill_at(dbs, tmp_path, stage: str, after: int) -> None:
    flag = tmp_path / f"flag-{stage}-{after}"
    kill_when_flagged(KILL_CHILD, [dbs.source_url, dbs.warehouse_url, str(flag), stage, str(after)], flag, stage,
                      poll=0.02)
    _wait_gone(dbs)


def _wait_gone(dbs) -> None:
    """The servers notice the killed client (its warehouse transaction rolls back, the slot turns inactive)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with psycopg.connect(dbs.source_url) as src:
            active = src.execute("SELECT count(*) FROM pg_replication_slots WHERE database = current_database() "
                                 "AND active").fetchone()[0]
        with psycopg.connect(dbs.warehouse_url) as wh:
            busy = wh.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                              "AND application_name LIKE 'tessera-live%%'").fetchone()[0]
        if not active and not busy:
            return
        time.sleep(0.1)
    raise AssertionError("the killed live process's sessions never went away")


@pytest.mark.slow
def test_sigkill_mid_batch_under_a_late_committing_writer_loses_and_doubles_nothing(ingested, tmp_path):
    with Writer(ingested.source_url) as writer:
        time.sleep(1.0)
        _kill_at(ingested, tmp_path, "applied", after=3)  # batch written, not committed: rolled back
        _kill_at(ingested, tmp_path, "committed", after=2)  # committed, slot not confirmed: re-read, skipped
        _kill_at(ingested, tmp_path, "applied", after=5)
        with Running(ingested, max_batch_changes=50, max_batch_delay=0.05) as runner:
            runner.wait_streaming(ingested.warehouse_url, database_name(ingested.source_url))
            time.sleep(2.0)
            writer.stop.set()
            for t in writer.threads:
                t.join(30)
            assert not writer.errors, writer.errors
            _wait_converged(ingested, runner, timeout=120)
    with psycopg.connect(ingested.warehouse_url) as wh:
        doubled = wh.execute(
            """SELECT count(*) FROM (SELECT new ->> 'id' FROM tessera_meta.change_feed
                WHERE table_name = 'raw_mindflow.users' AND op IN ('I', 'U') GROUP BY 1 HAVING count(*) > 1) d""").fetchone()[0]
        users = wh.execute("SELECT count(*) FROM tessera_meta.change_feed WHERE table_name = 'raw_mindflow.users' "
                           "AND op = 'I'").fetchone()[0]
    # the writer never updates a user: a second feed row for one would be a transaction applied twice
    assert users > 20 and doubled == 0
    assert diff_all(ingested.source_url, ingested.warehouse_url) == {}
