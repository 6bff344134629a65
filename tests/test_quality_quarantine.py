"""Quarantine against the generator's ground truth, release on fix, the seeds' monitors, check history.

Real embedded Postgres (fixtures from conftest): the generator's small dataset, one ingest tick."""

from __future__ import annotations

import psycopg
import pytest

from quality.quarantine import refresh_quarantine
from quality.rules import RULE_IDS, ROW_RULES


def _ground_truth(source_url: str) -> set[tuple[str, str, str]]:
    with psycopg.connect(source_url) as conn:
        return {tuple(r) for r in conn.execute("SELECT source_table, record_key, rule FROM public.generator_rule_breaks")}


def _active(warehouse_url: str) -> set[tuple[str, str, str]]:
    with psycopg.connect(warehouse_url) as conn:
        return {tuple(r) for r in conn.execute(
            "SELECT source_table, record_key, rule FROM quality.quarantine WHERE released_at IS NULL")}


def _quarantine(warehouse_url: str, run_id: str) -> dict:
    with psycopg.connect(warehouse_url) as conn:
        return refresh_quarantine(conn, ROW_RULES, run_id)


def test_every_planted_break_is_quarantined_with_its_rule_and_nothing_else(ingested):
    truth = _ground_truth(ingested.source_url)
    # The small dataset plants at least one break of every rule, so a missing rule would show here.
    assert {rule for _, _, rule in truth} == set(RULE_IDS)

    summary = _quarantine(ingested.warehouse_url, "run-1")
    assert summary["missing_tables"] == []
    quarantined = _active(ingested.warehouse_url)
    assert quarantined - truth == set(), "quarantined rows the generator did not plant"
    assert truth - quarantined == set(), "planted breaks that escaped the quarantine"

    with psycopg.connect(ingested.warehouse_url) as conn:
        rows = conn.execute(
            "SELECT source_table, record_key, rule, reason, row_data, run_id FROM quality.quarantine").fetchall()
        active_view = conn.execute("SELECT count(*) FROM quality.active_quarantine").fetchone()[0]
    assert active_view == len({(r[0], r[1]) for r in rows})
    for source_table, key, rule, reason, row_data, run_id in rows:
        assert run_id == "run-1" and reason
        key_column = next(r.table.key[0] for r in ROW_RULES if r.source_table == source_table)
        assert row_data[key_column] == key  # the row as JSON, keyed like the record
        assert "_ingested_at" not in row_data

    # A second run over unchanged data changes nothing (no duplicates, nothing released).
    again = _quarantine(ingested.warehouse_url, "run-2")
    assert again["newly_quarantined"] == 0 and again["released"] == 0
    assert _active(ingested.warehouse_url) == truth


def test_fixing_a_row_in_the_source_releases_it_on_the_next_run(ingested):
    from assets.ingest.pipeline import sync_all

    _quarantine(ingested.warehouse_url, "run-1")
    truth = _ground_truth(ingested.source_url)
    story = next(k for t, k, r in truth if r == "story_content_not_empty")
    goal = next(k for t, k, r in truth if r == "goal_confidence_in_range")
    with psycopg.connect(ingested.source_url) as conn:
        conn.execute("UPDATE mosaic.stories SET content = 'She planted the garden every spring.' WHERE id = %s", (story,))
        conn.execute("UPDATE personakit.goals SET confidence = 0.8 WHERE goal_id = %s", (goal,))

    # Before the ingest tick the warehouse still holds the broken rows: nothing is released.
    assert _quarantine(ingested.warehouse_url, "run-2")["released"] == 0

    sync_all(ingested.source_url, ingested.warehouse_url)
    summary = _quarantine(ingested.warehouse_url, "run-3")
    assert sorted(map(tuple, summary["released_rows"])) == sorted([
        ("mosaic.stories", story, "story_content_not_empty"),
        ("personakit.goals", goal, "goal_confidence_in_range"),
    ])
    active = _active(ingested.warehouse_url)
    assert active == truth - {("mosaic.stories", story, "story_content_not_empty"),
                              ("personakit.goals", goal, "goal_confidence_in_range")}
    with psycopg.connect(ingested.warehouse_url) as conn:
        released = conn.execute(
            "SELECT released_run_id, run_id FROM quality.quarantine WHERE record_key = %s", (story,)).fetchall()
        visible = conn.execute(
            "SELECT count(*) FROM quality.active_quarantine WHERE record_key IN (%s, %s)", (story, goal)).fetchone()[0]
    assert released == [("run-3", "run-1")]  # the history stays, with who quarantined and who released
    assert visible == 0  # downstream readers see the fixed rows again


def test_seed_monitors_see_the_planted_breaks_and_pass_once_quarantined(ingested):
    from quality.monitors import MONITORS, evaluate_monitor

    by_id = {m.id: m for m in MONITORS}
    truth = _ground_truth(ingested.source_url)
    with psycopg.connect(ingested.warehouse_url) as conn:
        before = {m.id: evaluate_monitor(conn, m) for m in MONITORS}
    planted_streaks = sum(1 for t, _, r in truth if r == "streak_consistent")
    assert before["mindflow_streak_consistency"].problems == planted_streaks > 0
    assert not before["mindflow_streak_consistency"].passed
    assert before["devassist_governance_consistency"].problems == sum(1 for *_, r in truth if r == "agent_running_has_approval")
    assert before["mosaic_incomplete_stories"].problems >= 1
    assert before["mosaic_orphaned_plugin_metadata"].problems >= 1

    _quarantine(ingested.warehouse_url, "run-1")
    with psycopg.connect(ingested.warehouse_url) as conn:
        after = {m.id: evaluate_monitor(conn, m) for m in MONITORS}
    for monitor_id in ("mindflow_streak_consistency", "devassist_governance_consistency",
                       "mosaic_incomplete_stories", "mosaic_orphaned_plugin_metadata"):
        assert after[monitor_id].passed, (monitor_id, after[monitor_id])
        assert after[monitor_id].quarantined == after[monitor_id].problems
    assert by_id["mosaic_incomplete_stories"].table.raw_schema == "raw_mosaic"


def test_quarantine_asset_and_its_blocking_guard_in_dagster(ingested):
    import dagster as dg

    from assets.resources import default_resources
    from quality.assets import all_rule_breaks_quarantined, quarantine

    result = dg.materialize([quarantine, all_rule_breaks_quarantined], resources=default_resources())
    assert result.success
    mat = result.asset_materializations_for_node("quality__quarantine")[0]
    truth = _ground_truth(ingested.source_url)
    assert mat.metadata["active"].value == len(truth)
    evaluation = result.get_asset_check_evaluations()[0]
    assert evaluation.passed
    with psycopg.connect(ingested.warehouse_url) as conn:
        run_ids = {r[0] for r in conn.execute("SELECT DISTINCT run_id FROM quality.quarantine")}
    assert run_ids == {result.run_id}


@pytest.mark.parametrize("rule", ROW_RULES, ids=lambda r: f"{r.id}@{r.source_table}")
def test_every_rule_is_a_registered_source_table(rule):
    assert rule.table.qualified == rule.source_table
    assert "{raw}" not in str(rule.predicate_sql().as_string(None))
