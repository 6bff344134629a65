"""The live-write simulator, and ingest under live writes: nothing lost, nothing doubled."""

from __future__ import annotations

import threading

import psycopg
import pytest

from assets.ingest.pipeline import sync_all
from sources.simulator import simulate
from test_ingest_support import diff_all


@pytest.mark.slow
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


@pytest.mark.slow
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



@pytest.mark.slow
def test_simulator_keeps_user_streaks_current_so_none_is_quarantined_for_lack_of_upkeep(seeded):
    """The simulator writes entries as the app does, and keeps user_streaks current as the app does: after
    `simulate`, an ingest tick and a quarantine run, the only streak rows quarantined are the generator's
    planted breaks, and none of a user the simulator wrote for (a write recomputes the row, fixing it)."""
    from assets.ingest.pipeline import sync_all
    from quality.quarantine import refresh_quarantine
    from quality.rules import rules_for

    with psycopg.connect(seeded.source_url) as src:
        (started_at,) = src.execute("SELECT now()").fetchone()
    counts = simulate(seeded.source_url, seconds=6, rate=60, seed=5, connections=3)
    assert counts.get("entry_insert", 0) > 0
    with psycopg.connect(seeded.source_url) as src:
        planted = {r[0] for r in src.execute(
            "SELECT record_key FROM public.generator_rule_breaks WHERE rule = 'streak_consistent'")}
        written = {str(r[0]) for r in src.execute(
            """SELECT s.id FROM mindflow.user_streaks s WHERE EXISTS (
                   SELECT 1 FROM mindflow.journal_entries e WHERE e.user_id = s.user_id AND e.updated_at > %s)""",
            (started_at,))}
    assert written, "the simulator wrote no entry"
    sync_all(seeded.source_url, seeded.warehouse_url)
    with psycopg.connect(seeded.warehouse_url) as wh:
        refresh_quarantine(wh, rules_for("mindflow.user_streaks"), "after-simulate")
        quarantined = {r[0] for r in wh.execute(
            "SELECT record_key FROM quality.quarantine WHERE released_at IS NULL AND rule = 'streak_consistent'")}
    assert quarantined <= planted, f"streak rows left stale by the simulator: {sorted(quarantined - planted)}"
    assert not quarantined & written, "a streak row of a user the simulator wrote for is still inconsistent"
