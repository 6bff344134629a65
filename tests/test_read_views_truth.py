"""Read views tell the truth: rows breaking a quality rule stay in the marts, flagged, and the marts
still equal an independent pandas computation from the raw tables (with the quarantine filled from the
generator's planted breaks); only privacy-governed stores (story access for others) leave them out.

Real embedded Postgres (fixtures from conftest): the generator's small dataset, one ingest tick."""

from __future__ import annotations

import psycopg
import pytest

from quality.quarantine import refresh_quarantine
from quality.rules import ROW_RULES
from test_dbt import _assert_marts_match, _dbt


def _planted(source_url: str, rule: str) -> list[str]:
    with psycopg.connect(source_url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT record_key FROM public.generator_rule_breaks WHERE rule = %s ORDER BY 1", (rule,))]


def _quarantine_and_build(ingested) -> None:
    with psycopg.connect(ingested.warehouse_url) as conn:
        summary = refresh_quarantine(conn, ROW_RULES, "run-1")
    assert summary["active"] > 0
    _dbt(["build"], ingested.warehouse_url)


@pytest.mark.slow
def test_quarantined_rows_stay_flagged_in_the_marts_equal_to_pandas(ingested):
    _quarantine_and_build(ingested)
    sizes = _assert_marts_match(ingested.warehouse_url)
    assert sizes["journals_view"] > 0

    entries = _planted(ingested.source_url, "entry_word_count_matches")
    streaks = _planted(ingested.source_url, "streak_consistent")
    stories = _planted(ingested.source_url, "story_has_approver") + _planted(ingested.source_url, "story_content_not_empty")
    assert entries and streaks and stories
    with psycopg.connect(ingested.warehouse_url) as wh:
        one = lambda q, *a: wh.execute(q, a).fetchone()  # noqa: E731
        # an entry with a wrong word count is in journals_view, flagged, and counted in its calendar month
        live = [e for e in entries if one(
            "select count(*) from raw_mindflow.journal_entries je join raw_mindflow.users u on u.id = je.user_id "
            "where je.id = %s and je.deleted_at is null and u.deleted_at is null", e)[0]]
        assert live, "no planted word-count break on a live entry"
        for e in live:
            flagged, issues = one("select has_quality_issues, quality_issues from marts.journals_view where id = %s", e)
            assert flagged is True and "entry_word_count_matches" in issues
            assert one("""select m.flagged_entry_count from marts.mood_calendar_cache m
                          join raw_mindflow.journal_entries je on je.user_id = m.user_id
                           and m.year = extract(year from je.date) and m.month = extract(month from je.date)
                          where je.id = %s""", e)[0] >= 1
        assert one("select count(*) from marts.journals_view where has_quality_issues")[0] == len(live)

        # an inconsistent user_streaks row shows the app's figures (not 0) and the recomputed ones beside them
        for key in streaks:
            app = one("select user_id, current_streak, longest_streak from raw_mindflow.user_streaks where id = %s", key)
            row = one("""select current_streak, longest_streak, streak_matches_entries, streak_quality_issues
                         from marts.user_profile_view where id = %s""", app[0])
            if row is None:  # a deleted user leaves the view
                continue
            assert (row[0], row[1]) == (app[1], app[2])
            assert row[2] is False and "streak_consistent" in row[3]

        # a story breaking a rule is visible to its submitter only, flagged
        for story in stories:
            submitter = one("select submitted_by from raw_mosaic.stories where id = %s", story)[0]
            rows = wh.execute("select user_id, access_reason, has_quality_issues from marts.story_access "
                              "where story_id = %s", (story,)).fetchall()
            assert rows == [(submitter, "submitter", True)]


@pytest.mark.slow
def test_ungoverned_running_session_is_flagged_counted_and_the_mart_check_fires(ingested):
    from quality.gx_runner import run_suites
    from quality.suites import suite_by_name

    _quarantine_and_build(ingested)
    sessions = _planted(ingested.source_url, "agent_running_has_approval")
    assert sessions
    with psycopg.connect(ingested.warehouse_url) as wh:
        for s in sessions:
            user_id, cost = wh.execute(
                "select user_id, token_cost from raw_devassist.agent_sessions where agent_session_id = %s", (s,)).fetchone()
            flagged, status, issues = wh.execute(
                "select running_without_approval, status, quality_issues from marts.active_agent_sessions "
                "where agent_session_id = %s", (s,)).fetchone()
            assert (flagged, status) == (True, "running") and "agent_running_has_approval" in issues
            others = wh.execute(
                "select coalesce(sum(token_cost), 0), count(*) from raw_devassist.agent_sessions "
                "where user_id = %s and agent_session_id <> %s", (user_id, s)).fetchone()
            active = wh.execute("select is_active from raw_devassist.users where user_id = %s", (user_id,)).fetchone()[0]
            if active:
                total, n, flagged_n = wh.execute(
                    "select total_cost, total_sessions, flagged_sessions from marts.user_activity_summary "
                    "where user_id = %s", (user_id,)).fetchone()
                assert total == others[0] + cost and n == others[1] + 1 and flagged_n >= 1
        flagged_total = wh.execute(
            "select count(*) from marts.active_agent_sessions where running_without_approval").fetchone()[0]
    assert flagged_total == len(sessions)

    outcome = run_suites(ingested.warehouse_url, [suite_by_name("marts.active_agent_sessions")], run_id="r1")[0]
    fired = {r.id: r for r in outcome.results}["running_has_approval"]
    assert not fired.success and fired.unexpected_count == len(sessions)


@pytest.mark.slow
def test_a_fixed_row_loses_its_flag_on_the_incremental_refresh(ingested):
    """Fixing a planted break in the source releases it; the next ingest + quarantine + incremental dbt
    tick clears the flags (the quarantine change touches the mart keys) and the marts still equal pandas."""
    from assets.ingest.pipeline import sync_all

    _quarantine_and_build(ingested)
    entry = next(iter(_planted(ingested.source_url, "entry_word_count_matches")))
    session = next(iter(_planted(ingested.source_url, "agent_running_has_approval")))
    with psycopg.connect(ingested.source_url) as src:
        src.execute("""update mindflow.journal_entries set word_count =
                       (select count(*) from regexp_split_to_table(content, '\\s+') w where w ~ '[[:alnum:]]')
                       where id = %s""", (entry,))
        src.execute("""insert into devassist.governance_events (agent_session_id, event_type, framework_type, approved)
                       values (%s, 'pre_agent_spawn', 'consensus', true)""", (session,))
    sync_all(ingested.source_url, ingested.warehouse_url)
    with psycopg.connect(ingested.warehouse_url) as conn:
        released = refresh_quarantine(conn, ROW_RULES, "run-2")["released_rows"]
    assert sorted(r[0] for r in released) == ["devassist.agent_sessions", "mindflow.journal_entries"]
    _dbt(["build", "--exclude", "config.materialized:view"], ingested.warehouse_url)
    with psycopg.connect(ingested.warehouse_url) as wh:
        row = wh.execute("select has_quality_issues from marts.journals_view where id = %s", (entry,)).fetchone()
        assert row is None or row[0] is False
        row = wh.execute("select running_without_approval from marts.active_agent_sessions where agent_session_id = %s",
                         (session,)).fetchone()
        assert row == (False,)
    _assert_marts_match(ingested.warehouse_url)
