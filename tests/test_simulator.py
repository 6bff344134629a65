"""The live-write simulator, and ingest under live writes: nothing lost, nothing doubled."""

from __future__ import annotations

import threading

import psycopg

from assets.ingest.pipeline import sync_all
from sources.simulator import simulate
from test_ingest_support import diff_all


def test_simulator_writes_every_kind_of_change(seeded):
    with psycopg.connect(seeded.source_url) as conn:
        before = dict(
            conn.execute(
                """SELECT 'entries', count(*) FROM mindflow.journal_entries
                   UNION ALL SELECT 'deleted_entries', count(*) FROM mindflow.journal_entries WHERE deleted_at IS NOT NULL
                   UNION ALL SELECT 'observations', count(*) FROM personakit.observations"""
            ).fetchall()
        )
    counts = simulate(seeded.source_url, seconds=6, rate=60, seed=3, connections=3)
    for op in ("entry_insert", "entry_edit", "story_insert", "observation_insert", "dialogue_insert", "long_transactions"):
        assert counts.get(op, 0) > 0, (op, counts)
    with psycopg.connect(seeded.source_url) as conn:
        entries = conn.execute("SELECT count(*) FROM mindflow.journal_entries").fetchone()[0]
        deleted = conn.execute("SELECT count(*) FROM mindflow.journal_entries WHERE deleted_at IS NOT NULL").fetchone()[0]
        observations = conn.execute("SELECT count(*) FROM personakit.observations").fetchone()[0]
        edited = conn.execute("SELECT count(*) FROM mindflow.journal_entries WHERE version > 1").fetchone()[0]
    assert entries == before["entries"] + counts["entry_insert"]
    assert deleted == before["deleted_entries"] + counts.get("entry_soft_delete", 0)
    assert observations == before["observations"] + counts["observation_insert"]
    assert edited > 0


def test_ingest_converges_under_live_writes_with_late_commits(seeded):
    """simulate() (long, late-committing transactions included) writes while sync_all runs again and
    again; after the writer stops and one more sync, every registry table matches: counts and row hashes."""
    src, wh = seeded.source_url, seeded.warehouse_url
    sync_all(src, wh)  # first tick: full loads, taken while nothing writes
    outcome: dict = {}

    def writer():
        outcome["counts"] = simulate(src, seconds=14, rate=40, seed=11, connections=4, long_transactions=True)

    thread = threading.Thread(target=writer)
    thread.start()
    ticks = 0
    applied = 0
    while thread.is_alive():
        results = sync_all(src, wh)
        applied += sum(r["inserted"] + r["updated"] + r["deleted"] for r in results.values())
        ticks += 1
    thread.join()
    final = sync_all(src, wh)
    applied += sum(r["inserted"] + r["updated"] + r["deleted"] for r in final.values())
    counts = outcome["counts"]
    assert counts.get("long_transactions", 0) >= 1
    assert ticks >= 2 and applied > 0
    assert diff_all(src, wh) == {}
    assert all(r["status"] == "loaded" for r in final.values())
