"""The warm in-process dbt session (assets/dbt/runner.py) against the embedded Postgres: it builds the
project, refreshes the incremental marts after a source change (through the lean incremental path
and mood_calendar_cache's unchanged-month shortcut), and the refreshed marts equal a full rebuild."""

from __future__ import annotations

import os
import time

import psycopg
import pytest

STORED = ["--exclude", "config.materialized:view"]
VOLATILE = {"computed_at"}  # now() at build time: a kept month keeps its first computation time


def _fingerprints(url: str) -> dict[str, dict]:
    from bench.dbt import mart_fingerprints

    return mart_fingerprints(url, volatile=VOLATILE)


def _hot_updates(url: str, mart: str, above: int | None = None) -> int:
    """HOT updates of a mart so far (the statistics of a closed backend land within a moment: polled
    for up to 5 s when `above` is given)."""
    with psycopg.connect(url, autocommit=True) as wh:
        for _ in range(50):
            n = wh.execute("select n_tup_hot_upd from pg_stat_user_tables where schemaname = 'marts' and relname = %s",
                           (mart,)).fetchone()[0]
            if above is None or n > above:
                return n
            time.sleep(0.1)
    return n


@pytest.mark.slow
def test_warm_session_refresh_equals_full_rebuild(ingested):
    from assets.dbt.runner import DbtCommandError, DbtSession
    from assets.ingest.pipeline import sync_all

    env_before = os.environ.get("TESSERA_DBT_DBNAME")
    with DbtSession(ingested.warehouse_url) as dbt:
        assert os.environ.get("TESSERA_DBT_DBNAME") == env_before  # set only while a command runs
        built = dbt.invoke(["run"])
        assert built.success and built.nodes["journals_view"].status == "success"
        assert built.nodes["mood_calendar_cache"].resource_type == "model"
        assert not built.failed()
        # what the commands compile goes to the session's own target directory, removed on close
        target = dbt.target_path
        assert any(p.parts[-3:-1] == ("marts", "mindflow") for p in target.rglob("journals_view.sql"))

        with psycopg.connect(ingested.source_url, autocommit=True) as src:
            live = """select je.id, je.user_id, je.date, je.mood::text from mindflow.journal_entries je
                      join mindflow.users u on u.id = je.user_id
                      where je.deleted_at is null and u.deleted_at is null and je.mood is not null order by je.id"""
            rows = src.execute(live).fetchall()
            titled, moody, gone = rows[0], rows[len(rows) // 2], rows[-1]
            new_mood = next(m for m in ("happy", "sad") if m != moody[3])
            src.execute("update mindflow.journal_entries set title = title || ' (edited)' where id = %s", (titled[0],))
            src.execute("update mindflow.journal_entries set mood = %s where id = %s", (new_mood, moody[0]))
            src.execute("update mindflow.journal_entries set deleted_at = now() where id = %s", (gone[0],))
            src.execute("delete from mindflow.attachments where id = (select min(id::text)::uuid from mindflow.attachments)")
        sync_all(ingested.source_url, ingested.warehouse_url)
        hot_before = _hot_updates(ingested.warehouse_url, "journals_view")
        mood_hot_before = _hot_updates(ingested.warehouse_url, "mood_calendar_cache")

        refresh = dbt.run(*STORED)
        assert refresh.success and {n.status for n in refresh.nodes.values()} == {"success"}
        assert "journals_view" in refresh.nodes and "stg_mindflow__users" not in refresh.nodes
        refreshed = _fingerprints(ingested.warehouse_url)

        with psycopg.connect(ingested.warehouse_url) as wh:
            one = lambda q, *a: wh.execute(q, a).fetchone()  # noqa: E731
            assert one("select title from marts.journals_view where id = %s", titled[0])[0].endswith(" (edited)")
            assert one("select count(*) from marts.journals_view where id = %s", gone[0])[0] == 0
            day = one("""select d->>'mood' from marts.mood_calendar_cache m, jsonb_array_elements(m.calendar_data) d
                         where m.user_id = %s and d->>'date' = %s and (d->>'hasEntry')::boolean
                         order by 1 limit 1""", moody[1], moody[2].isoformat())
            assert day is not None
            moods_that_day = [r[0] for r in wh.execute(
                """select d->>'mood' from marts.mood_calendar_cache m, jsonb_array_elements(m.calendar_data) d
                   where m.user_id = %s and d->>'date' = %s""", (moody[1], moody[2].isoformat()))]
            assert new_mood in moods_that_day
            # the edited entry was updated in place: a HOT update (fillfactor 80, no index on a changed column)
            assert one("select reloptions from pg_class where oid = 'marts.journals_view'::regclass")[0] == ["fillfactor=80"]
            # the titled entry's month keeps its calendar: only its _ingested_at moves on, a HOT update
            # (fillfactor 70, no index on _ingested_at)
            assert one("select reloptions from pg_class where oid = 'marts.mood_calendar_cache'::regclass")[0] == [
                "fillfactor=70"]
        assert _hot_updates(ingested.warehouse_url, "journals_view", above=hot_before) > hot_before
        assert _hot_updates(ingested.warehouse_url, "mood_calendar_cache", above=mood_hot_before) > mood_hot_before

        rebuilt_run = dbt.run(*STORED, full_refresh=True)
        assert rebuilt_run.success
        assert _fingerprints(ingested.warehouse_url) == refreshed

        with pytest.raises(DbtCommandError, match="tessera_no_such_macro"):
            dbt.invoke(["run-operation", "tessera_no_such_macro"])
    assert not target.exists()


@pytest.mark.slow
def test_lean_incremental_path_enforces_the_contract(ingested, tmp_path):
    """A refresh through the lean incremental path (macros/materialization_incremental.sql) checks the
    model's output against its contract itself: a column whose type strays fails the run with the
    column named, and the mart keeps its rows (the pre-hook's deletes roll back with it)."""
    import shutil

    from assets.dbt.project import PROJECT_DIR
    from assets.dbt.runner import DbtCommandError, DbtSession

    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    with DbtSession(ingested.warehouse_url, project_dir=project) as dbt:
        assert dbt.invoke(["run", "--select", "+active_agent_sessions"]).success
        with psycopg.connect(ingested.warehouse_url) as wh:
            before = wh.execute("select count(*) from marts.active_agent_sessions").fetchone()[0]
        assert before > 0
        model = project / "models" / "marts" / "devassist" / "active_agent_sessions.sql"
        text = model.read_text()
        assert "coalesce(d.approvals, 0) as approvals" in text
        model.write_text(text.replace("coalesce(d.approvals, 0) as approvals", "coalesce(d.approvals, 0)::text as approvals"))
        dbt.reparse()
        with psycopg.connect(ingested.source_url, autocommit=True) as src:  # a touched key for the pre-hook
            src.execute("update devassist.agent_sessions set token_cost = token_cost + 1 "
                        "where agent_session_id = (select min(agent_session_id::text)::uuid from devassist.agent_sessions)")
        from assets.ingest.pipeline import sync_all

        sync_all(ingested.source_url, ingested.warehouse_url)
        with pytest.raises(DbtCommandError, match=r"contract of .*active_agent_sessions.*approvals: contract bigint, model text"):
            dbt.invoke(["run", "--select", "active_agent_sessions"])
        with psycopg.connect(ingested.warehouse_url) as wh:
            assert wh.execute("select count(*) from marts.active_agent_sessions").fetchone()[0] == before


IDLE_KEYS = {"story_access": "(user_id, story_id)", "legacy_story_summary": "legacy_id",
             "observation_pipeline_status": "person_id"}  # marts of products the test below leaves alone


def _ctids(wh, query: str, *args) -> dict:
    """{key: ctid} of the rows a query returns as (key, ctid)."""
    return {key: ctid for key, ctid in wh.execute(query, args).fetchall()}


@pytest.mark.slow
def test_refresh_rewrites_only_what_changed(ingested):
    """A refresh after one learner's study day is deleted in the source: the marts of products that did not
    change are left as they are (idle: no row rewritten, only their log cursor moves on), and
    coach_daily_progress (settle_rows) rewrites only that learner's rows whose values change (the day,
    and the streak days after it), not the learner's year. user_profile_view (refresh_when_idle) still
    recomputes a row computed on an earlier day. The refreshed marts equal a full rebuild."""
    from assets.dbt.runner import DbtSession
    from assets.ingest.pipeline import sync_all

    with DbtSession(ingested.warehouse_url) as dbt:
        assert dbt.invoke(["run"]).success
        with psycopg.connect(ingested.warehouse_url, autocommit=True) as wh:
            # a learner's active day with active days before it and after it
            learner, day = wh.execute(
                """select user_id, day from (
                       select user_id, day, row_number() over w as nth, count(*) over (partition by user_id) as days
                       from marts.coach_daily_progress window w as (partition by user_id order by day)) d
                   where days >= 6 and nth = days / 2 order by days desc, user_id limit 1""").fetchone()
            coach_before = _ctids(wh, "select (user_id, day)::text, ctid::text from marts.coach_daily_progress")
            values_before = {r[0]: r[1:] for r in wh.execute(
                "select day, streak_days, completed_tasks, study_minutes from marts.coach_daily_progress "
                "where user_id = %s", (learner,))}
            idle_before = {mart: _ctids(wh, f"select {key}::text, ctid::text from marts.{mart}")
                           for mart, key in IDLE_KEYS.items()}
            cursors_before = dict(wh.execute("select mart, snapshot::text from tessera_meta.mart_log_cursors").fetchall())
            yesterday = wh.execute("update marts.user_profile_view set computed_at = computed_at - interval '1 day' "
                                   "where id = (select min(id::text)::uuid from marts.user_profile_view) "
                                   "returning id").fetchone()[0]
        with psycopg.connect(ingested.source_url, autocommit=True) as src:
            gone = src.execute("delete from coach.study_sessions where user_id = %s "
                               "and (recorded_at at time zone 'UTC')::date = %s", (learner, day)).rowcount
        assert gone >= 1
        sync_all(ingested.source_url, ingested.warehouse_url)

        refresh = dbt.run(*STORED)
        assert refresh.success
        with psycopg.connect(ingested.warehouse_url) as wh:
            for mart, before in idle_before.items():  # idle: not a row rewritten, the cursor moved on
                assert before and _ctids(wh, f"select {IDLE_KEYS[mart]}::text, ctid::text from marts.{mart}") == before, mart
            cursors = dict(wh.execute("select mart, snapshot::text from tessera_meta.mart_log_cursors").fetchall())
            assert cursors["story_access"] != cursors_before["story_access"]

            coach_after = _ctids(wh, "select (user_id, day)::text, ctid::text from marts.coach_daily_progress")
            values_after = {r[0]: r[1:] for r in wh.execute(
                "select day, streak_days, completed_tasks, study_minutes from marts.coach_daily_progress "
                "where user_id = %s", (learner,))}
            changed_days = {d for d in values_before.keys() | values_after.keys()
                            if values_before.get(d) != values_after.get(d)}
            assert day in changed_days and min(changed_days) == day  # nothing before the deleted day changes
            rewritten = {k for k in coach_before.keys() & coach_after.keys() if coach_before[k] != coach_after[k]}
            assert rewritten == {f"({learner},{d})" for d in changed_days if d in values_after and d in values_before}
            assert len(coach_before) - len(coach_after) == len(values_before) - len(values_after)

            computed = wh.execute("select computed_at::date = current_date from marts.user_profile_view where id = %s",
                                  (yesterday,)).fetchone()[0]
            assert computed  # rebuilt although no MindFlow row changed
        refreshed = _fingerprints(ingested.warehouse_url)
        assert dbt.run(*STORED, full_refresh=True).success
        assert _fingerprints(ingested.warehouse_url) == refreshed


PROBE_FIRST = """{{ config(materialized='table', schema='probe', pre_hook=[
    "create temp table tessera_probe_leak as select 1 as x",
    "set application_name = 'tessera_probe_leaked'"]) }}
select pg_backend_pid() as pid
"""
PROBE_SECOND = """{{ config(materialized='table', schema='probe') }}
-- depends_on: {{ ref('probe_first') }}
select pg_backend_pid() as pid,
       (select count(*) from pg_class where relname = 'tessera_probe_leak'
          and relnamespace = pg_my_temp_schema())::int as leaked_temp_tables,
       current_setting('application_name') as application_name
"""


@pytest.mark.slow
def test_a_thread_keeps_one_connection_reset_between_nodes(ingested, tmp_path):
    """DbtSession keeps one connection per dbt thread for a whole command (assets/dbt/kept_connections.py):
    two models run one after the other on one thread share a server process, the second sees none of
    the first's session state (its temp table, a session setting), and no connection outlives the
    command. Without reuse_connections every node gets a new server process."""
    import shutil

    from assets.dbt.project import PROJECT_DIR
    from assets.dbt.runner import DbtSession

    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (project / "models" / "probe").mkdir()
    (project / "models" / "probe" / "probe_first.sql").write_text(PROBE_FIRST)
    (project / "models" / "probe" / "probe_second.sql").write_text(PROBE_SECOND)
    probes = ["run", "--select", "probe_first", "probe_second", "--threads", "1"]

    def probed() -> tuple[int, tuple]:
        with psycopg.connect(ingested.warehouse_url) as wh:
            return (wh.execute("select pid from probe.probe_first").fetchone()[0],
                    wh.execute("select pid, leaked_temp_tables, application_name from probe.probe_second").fetchone())

    def still_connected(pids) -> set[int]:
        """Those of `pids` still connected after up to 5 s (a closed backend exits asynchronously)."""
        with psycopg.connect(ingested.warehouse_url, autocommit=True) as wh:
            for _ in range(50):
                alive = {r[0] for r in wh.execute("select pid from pg_stat_activity where pid = any(%s)", (list(pids),))}
                if not alive:
                    break
                time.sleep(0.1)
        return alive

    with DbtSession(ingested.warehouse_url, project_dir=project) as dbt:
        assert dbt.reuse_connections
        run = dbt.invoke(probes)
        assert [run.nodes[n].status for n in ("probe_first", "probe_second")] == ["success", "success"]
    first_pid, (second_pid, leaked_temp_tables, application_name) = probed()
    assert second_pid == first_pid  # one server process for both nodes of the thread
    assert leaked_temp_tables == 0 and application_name != "tessera_probe_leaked"  # reset in between
    assert not still_connected({first_pid})  # closed when the command ended

    with DbtSession(ingested.warehouse_url, project_dir=project, reuse_connections=False) as dbt:
        assert dbt.invoke(probes).success
    first_pid, (second_pid, leaked_temp_tables, _) = probed()
    assert second_pid != first_pid and leaked_temp_tables == 0
    assert not still_connected({first_pid, second_pid})
