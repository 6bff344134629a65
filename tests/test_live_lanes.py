"""The refresh lanes of `tessera live` (orchestration/live_lanes.py): which lanes a batch wakes, the
coalescing and retries (pure, no database), and against the embedded Postgres: a change applied to the
raw copy reaches the read views, the search documents and the mood events exactly as a full rebuild
gives them, the runless Dagster events carry the batch assets' metadata, and a failing lane leaves the
others running."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Mapping

import dagster as dg
import psycopg
import pytest

from orchestration.live_lanes import (
    EmbeddingsLane,
    Lane,
    Lanes,
    Lineage,
    MoodLane,
    Refreshed,
    SearchLane,
    Work,
    build_lanes,
    live_metadata,
    work_of,
)
from sources.registry import TABLES


@dataclass(frozen=True)
class Batch:
    """A stand-in for assets.ingest.live.AppliedBatch with its fields (interface.md)."""

    tables: frozenset[str]
    reloaded: frozenset[str] = frozenset()
    counts: Mapping[str, dict] = field(default_factory=dict)
    transactions: int = 1
    changes: int = 1
    commit_lsn: str = "0/16B3748"
    first_committed_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    committed_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    applied_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    feed_position: int | None = None
    lag_bytes: int = 0
    lag_seconds: float = 0.0


def batch(*tables: str, reloaded=(), **counts) -> Batch:
    return Batch(tables=frozenset(tables), reloaded=frozenset(reloaded),
                 counts={t: {"updated": counts.get("updated", 1)} for t in tables})


def settle(lanes: Lanes, timeout: float) -> bool:
    """wait_idle, but give up as soon as a lane is failing (its status then says why)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lanes.wait_idle(1):
            return True
        if any(s["failing"] for s in lanes.status().values()):
            return False
    return False


def wait_until(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


# --- pure: no database ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lineage() -> Lineage:
    return Lineage.load()


def test_a_batch_wakes_the_lanes_that_read_its_tables(lineage):
    lanes = build_lanes("postgresql://nobody@/nowhere", instance=None, lineage=lineage)
    assert lanes.on_batch(batch("mindflow.journal_entries")) == ["raw", "read_views", "mood", "search", "embeddings"]
    assert lanes.on_batch(batch("mosaic.stories")) == ["raw", "read_views", "search", "embeddings"]
    assert lanes.on_batch(batch("devassist.agent_sessions")) == ["raw", "read_views"]
    # a table no derived store reads: only its raw copy is reported
    unread = sorted(t.qualified for t in TABLES if not any(
        t.qualified in lane.interest for lane in lanes.lanes if lane.name != "raw"))
    assert "coach.outbox" in unread
    assert lanes.on_batch(batch("coach.outbox")) == ["raw"]
    assert lanes.by_name["read_views"].status()["pending_tables"] == ["devassist.agent_sessions",
                                                                     "mindflow.journal_entries", "mosaic.stories"]
    without = build_lanes("postgresql://nobody@/nowhere", instance=None, embeddings=False, lineage=lineage)
    assert "embeddings" not in without.on_batch(batch("mindflow.journal_entries"))
    json.dumps(lanes.status())  # JSON-able, as live_status.lanes stores it


def test_lineage_comes_from_the_manifest(lineage):
    marts = {lineage.relation(u) for u in lineage.stored_downstream(["mindflow.journal_entries"])}
    assert ("marts", "journals_view") in marts and ("marts", "mood_calendar_cache") in marts
    assert not any(schema == "staging" for schema, _ in marts)  # views are never run
    search = SearchLane("postgresql://nobody@/nowhere", lineage)
    assert search.indices_for({"mindflow.tags"}) == ["journal"]
    assert search.indices_for({"mosaic.legacies"}) == ["story"]
    assert search.indices_for({"devassist.users"}) == []
    embeddings = EmbeddingsLane("postgresql://nobody@/nowhere", lineage)
    assert "coach.dialogue_messages" in embeddings.reads["coach_dialogue_messages"]


def test_work_coalesces_batches():
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    first = work_of(Batch(frozenset({"a.x", "a.y"}), counts={"a.x": {"inserted": 2}}, commit_lsn="0/1",
                          first_committed_at=t0, committed_at=t0 + timedelta(seconds=1)), frozenset({"a.x"}))
    second = work_of(Batch(frozenset({"a.x"}), reloaded=frozenset({"a.z"}), counts={"a.x": {"inserted": 3, "deleted": 1}},
                           commit_lsn="0/2", first_committed_at=t0 + timedelta(seconds=2),
                           committed_at=t0 + timedelta(seconds=3)), frozenset({"a.x", "a.z"}))
    assert work_of(Batch(frozenset({"a.y"})), frozenset({"a.x"})) is None
    both = first.merge(second)
    assert both.tables == {"a.x", "a.z"} and both.reloaded == {"a.z"} and both.batches == 2
    assert both.counts["a.x"]["inserted"] == 5 and both.counts["a.x"]["deleted"] == 1
    assert both.commit_lsn == "0/2" and both.first_committed_at == t0 and both.committed_at == t0 + timedelta(seconds=3)
    meta = live_metadata(both, t0 + timedelta(seconds=4))
    assert meta["tessera/live"] is True and meta["commit_to_visible_seconds"] == 4.0
    assert meta["source_committed_at"] == (t0 + timedelta(seconds=3)).isoformat()


class RecordingLane(Lane):
    """A lane whose refresh records its work, blocks until released, and fails when told to."""

    name = "recording"

    def __init__(self, interest, fail_times: int = 0):
        super().__init__(interest)
        self.seen: list[set[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail_times = fail_times

    def refresh(self, work: Work) -> Refreshed:
        self.entered.set()
        self.release.wait(10)
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("warehouse went away")
        self.seen.append(set(work.tables))
        return Refreshed()


def test_a_busy_lane_runs_once_for_the_union_of_what_arrived_meanwhile():
    lane = RecordingLane({"a.x", "a.y", "a.z"})
    lanes = Lanes([lane])
    lanes.start()
    try:
        lanes.on_batch(batch("a.x"))
        assert lane.entered.wait(5)
        # handing batches over never blocks on the running refresh (it is held until release is set)
        handing = threading.Thread(target=lambda: [lanes.on_batch(batch(t)) for t in ("a.y", "a.z", "a.y", "b.nobody")])
        handing.start()
        handing.join(10)
        assert not handing.is_alive()
        assert lane.status()["running"] and lane.status()["pending_tables"] == ["a.y", "a.z"]
        lane.release.set()
        assert lanes.wait_idle(10)
        assert lane.seen == [{"a.x"}, {"a.y", "a.z"}]
        assert lane.status()["runs"] == 2 and lane.status()["lag_seconds"] == 0.0
    finally:
        assert lanes.stop(10)


def test_a_lane_with_a_minimum_interval_holds_later_batches_back():
    lane = RecordingLane({"a.x", "a.y"})
    lane.min_interval = 60.0  # the raw-table reporting: at most one event per table per interval
    lane.release.set()
    lanes = Lanes([lane])
    lanes.start()
    try:
        lanes.on_batch(batch("a.x"))
        assert wait_until(lambda: lane.status()["runs"] == 1, 10)
        lanes.on_batch(batch("a.y"))
        lanes.on_batch(batch("a.x"))
        assert not lanes.wait_idle(1)
        assert lane.status()["pending_tables"] == ["a.x", "a.y"] and lane.seen == [{"a.x"}]
    finally:
        assert lanes.stop(5)  # stopping does not wait out the interval


@pytest.mark.skipif(not hasattr(__import__("os"), "setpriority") or not __import__("sys").platform.startswith("linux"),
                    reason="threads have a nice value of their own on Linux only")
def test_a_lane_refreshes_at_its_own_lower_priority_and_the_ingest_thread_keeps_its_own():
    import os

    def nice_here() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    class NiceLane(RecordingLane):
        nice = 4

        def refresh(self, work):
            self.niceness = nice_here()
            return super().refresh(work)

    before = nice_here()
    lane = NiceLane({"a.x"})
    lane.release.set()
    lanes = Lanes([lane])
    lanes.start()
    try:
        lanes.on_batch(batch("a.x"))
        assert wait_until(lambda: lane.status()["runs"] == 1, 10)
    finally:
        assert lanes.stop(5)
    assert lane.niceness == min(19, before + 4)
    assert nice_here() == before  # the caller's thread (live's ingest) is untouched
    assert MoodLane.nice > 0 and EmbeddingsLane.nice > MoodLane.nice and SearchLane.nice == Lane.nice == 0


def test_a_failing_refresh_is_kept_in_status_and_retried():
    lane = RecordingLane({"a.x"}, fail_times=1)
    lane.release.set()
    other = RecordingLane({"a.x"})
    other.name = "other"
    other.release.set()
    lanes = Lanes([lane, other])
    lanes.start()
    try:
        lanes.on_batch(batch("a.x"))
        assert lanes.wait_idle(15)
        status = lanes.status()
        assert status["recording"]["errors"] == 1 and "warehouse went away" in status["recording"]["last_error"]
        assert status["recording"]["runs"] == 1 and not status["recording"]["failing"]  # the retry succeeded
        assert lane.seen == [{"a.x"}] and other.seen == [{"a.x"}]
    finally:
        lanes.stop(10)


# --- against the embedded Postgres ----------------------------------------------------------------

def _rows(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


JOURNALS = "SELECT * FROM marts.journals_view ORDER BY id"
DOCUMENTS = ("SELECT id, user_id, date, title, content, mood, tags, is_private, private_mode, ai_eligible "
             "FROM search.journal_documents ORDER BY id")
MOOD_EVENTS = ("SELECT journal_entry_id, user_id, time, mood, mood_score, tags, mood_source, text_conflict, text_valence "
               "FROM analytics.mood_events ORDER BY journal_entry_id")


def _three_entries(source_url: str) -> tuple:
    with psycopg.connect(source_url) as conn:
        return conn.execute(
            "SELECT e.id FROM mindflow.journal_entries e JOIN mindflow.users u ON u.id = e.user_id "
            "LEFT JOIN mindflow.user_settings s ON s.user_id = e.user_id "
            "WHERE e.deleted_at IS NULL AND u.deleted_at IS NULL AND NOT e.is_private "
            "AND NOT coalesce(s.private_mode, false) AND e.mood IS NOT NULL ORDER BY e.id LIMIT 3").fetchall()


@pytest.mark.slow
def test_a_batch_reaches_read_views_search_and_mood_as_a_full_rebuild_does(modelled, tmp_path):
    from assets.dbt.project import run_dbt
    from assets.ingest.pipeline import sync
    from assets.mood.assets import ACTIVITY_EVENTS, MOOD_EVENTS as MOOD_KEY, maintain_events_pass
    from assets.search.definitions import refresh_index, search_backend
    from core.db import connect

    url = modelled.warehouse_url
    run_dbt(["run", "--exclude", "config.materialized:view"], url=url, check=True)
    instance = dg.DagsterInstance.ephemeral()
    lanes = build_lanes(url, instance=instance, embeddings=False)
    lanes.start()
    try:
        # the catch-up pass `live` starts with: every table reloaded
        everything = frozenset(t.qualified for t in TABLES)
        lanes.on_batch(Batch(tables=frozenset(), reloaded=everything))
        assert settle(lanes, 180), lanes.status()
        runs = {name: s["runs"] for name, s in lanes.status().items()}
        assert all(runs[name] >= 1 for name in ("read_views", "mood", "search")), lanes.status()

        (edited,), (deleted,), (private,) = _three_entries(modelled.source_url)
        with psycopg.connect(modelled.source_url) as conn:
            conn.execute("UPDATE mindflow.journal_entries SET title = 'zqlive edited title', updated_at = now() "
                         "WHERE id = %s", (edited,))
            conn.execute("UPDATE mindflow.journal_entries SET deleted_at = now() WHERE id = %s", (deleted,))
            conn.execute("UPDATE mindflow.journal_entries SET is_private = true WHERE id = %s", (private,))
        sync(modelled.source_url, url)
        assert lanes.on_batch(batch("mindflow.journal_entries", updated=3)) == ["raw", "read_views", "mood", "search"]
        assert settle(lanes, 120), lanes.status()
        status = lanes.status()
        assert all(s["last_error"] is None for s in status.values()), status

        journals = _rows(url, JOURNALS)
        titles = {r[0]: r for r in _rows(url, "SELECT id, title FROM marts.journals_view")}
        assert titles[edited][1] == "zqlive edited title" and deleted not in titles and private in titles
        documents = _rows(url, DOCUMENTS)
        by_id = {r[0]: r for r in documents}
        assert by_id[edited][3] == "zqlive edited title" and deleted not in by_id
        assert by_id[private][7] is True and by_id[private][9] is False  # keyword-only now
        events = _rows(url, MOOD_EVENTS)
        mood = {r[0]: r for r in events}
        assert deleted not in mood and mood[private][8] is None  # its text is no longer read

        # the runless events, with the batch assets' metadata
        raw = instance.get_latest_materialization_event(dg.AssetKey(["raw_mindflow", "journal_entries"]))
        meta = raw.asset_materialization.metadata
        assert meta["tessera/live"].value is True and meta["rows_updated"].value == 3
        assert meta["dagster/row_count"].value == _rows(url, "SELECT count(*) FROM raw_mindflow.journal_entries")[0][0]
        assert meta["cursor_lsn"].value == "0/16B3748"
        mart = instance.get_latest_materialization_event(dg.AssetKey(["marts", "journals_view"]))
        meta = mart.asset_materialization.metadata
        assert meta["dagster/row_count"].value == len(journals) and meta["tessera/live"].value is True
        assert "commit_to_visible_seconds" in meta and meta["unique_id"].value == "model.tessera.journals_view"
        index = instance.get_latest_materialization_event(dg.AssetKey(["search", "journal_entries"]))
        assert index.asset_materialization.metadata["documents_total"].value == len(documents)
        for key in (MOOD_KEY, ACTIVITY_EVENTS):
            event = instance.get_latest_materialization_event(key)
            assert event.asset_materialization.metadata["tessera/live"].value is True
        assert instance.get_latest_materialization_event(dg.AssetKey(["analytics", "mood_daily_summary"])) is not None
        # a table nobody reads: its raw copy is reported and nothing else runs
        before = {name: s["runs"] for name, s in lanes.status().items()}
        assert lanes.on_batch(batch("coach.outbox")) == ["raw"]
        assert lanes.wait_idle(30)
        after = {name: s["runs"] for name, s in lanes.status().items()}
        assert after["raw"] == before["raw"] + 1 and {k: v for k, v in after.items() if k != "raw"} == {
            k: v for k, v in before.items() if k != "raw"}
        assert _rows(url, JOURNALS) == journals
    finally:
        assert lanes.stop(60)

    # the batch path's full rebuild gives the same contents
    run_dbt(["run", "--full-refresh", "--select", "journals_view"], url=url, check=True)
    assert _rows(url, JOURNALS) == journals
    refresh_index(search_backend(url), "journal", full=True)
    assert _rows(url, DOCUMENTS) == documents
    today = datetime.now(timezone.utc).date()
    maintain_events_pass(lambda **kw: connect(url, **kw), full=True, window=(today, today))
    assert _rows(url, MOOD_EVENTS) == events


@pytest.mark.slow
def test_a_failing_lane_is_in_status_and_the_others_still_run(modelled, lineage):
    url = modelled.warehouse_url
    broken = MoodLane(url.replace(modelled.warehouse_db, "no_such_database"), lineage)
    search = SearchLane(url, lineage)
    lanes = Lanes([broken, search], instance=None)
    lanes.start()
    try:
        lanes.on_batch(batch("mindflow.journal_entries"))
        assert wait_until(lambda: search.status()["runs"] >= 1 and broken.status()["errors"] >= 2, 60), lanes.status()
        status = lanes.status()
        assert status["mood"]["failing"] and "no_such_database" in status["mood"]["last_error"]
        assert status["mood"]["pending_tables"] == ["mindflow.journal_entries"] or status["mood"]["running"]
        assert status["search"]["last_error"] is None
        assert _rows(url, "SELECT count(*) FROM search.journal_documents")[0][0] > 0
        assert not lanes.wait_idle(1)  # the failing lane keeps its work
    finally:
        assert lanes.stop(30)


@pytest.mark.slow
def test_embeddings_lane_embeds_reports_the_privacy_check_and_wakes_search(databases, encoder, lineage):  # noqa: F811
    from test_embeddings_store import add_entry, add_user, ingest_with_views

    ingest_with_views(databases)
    url = databases.warehouse_url
    with psycopg.connect(url) as wh:
        alice = add_user(wh)
        kept = add_entry(wh, alice, "We planted tomatoes and basil in the garden this morning.")
        flipped = add_entry(wh, alice, "A long walk by the river with my sister.")
        wh.commit()
    woken: list[Work] = []
    lane = EmbeddingsLane(url, lineage, on_vectors=woken.append, encoder=encoder)
    instance = dg.DagsterInstance.ephemeral()
    lanes = Lanes([lane], instance=instance)
    lanes.start()
    try:
        lanes.on_batch(batch("mindflow.journal_entries"))
        assert settle(lanes, 120), lanes.status()
        key = dg.AssetKey(["vectors", "journal_entries"])
        assert set(r[0] for r in _rows(url, "SELECT source_id FROM vectors.journal_entries")) == {kept, flipped}
        meta = instance.get_latest_materialization_event(key).asset_materialization.metadata
        assert meta["docs_embedded"].value == 2 and meta["tessera/live"].value is True
        check = instance.get_latest_asset_check_evaluation_record(dg.AssetCheckKey(key, "only_eligible_documents"))
        assert check is not None and check.event.asset_check_evaluation.passed
        assert woken and "mindflow.journal_entries" in woken[-1].tables

        with psycopg.connect(url) as wh:  # a privacy flip: the vector leaves at the next refresh
            wh.execute("UPDATE raw_mindflow.journal_entries SET is_private = true WHERE id = %s", (flipped,))
        lanes.on_batch(batch("mindflow.journal_entries"))
        assert settle(lanes, 120), lanes.status()
        assert set(r[0] for r in _rows(url, "SELECT source_id FROM vectors.journal_entries")) == {kept}
        meta = instance.get_latest_materialization_event(key).asset_materialization.metadata
        assert meta["removed"].value == 1
        assert lanes.status()["embeddings"]["runs"] == 2
    finally:
        assert lanes.stop(30)


from test_embeddings_store import encoder  # noqa: E402,F401  (the session's encoder fixture)
