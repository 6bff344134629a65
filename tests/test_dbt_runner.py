"""The warm in-process dbt session (assets/dbt/runner.py) against the embedded Postgres: it builds the
project, refreshes the incremental marts after a source change (through the lean incremental path
and mood_calendar_cache's unchanged-month shortcut), and the refreshed marts equal a full rebuild."""

from __future__ import annotations

import os

import psycopg
import pytest

STORED = ["--exclude", "config.materialized:view"]
VOLATILE = {"computed_at"}  # now() at build time: a kept month keeps its first computation time


def _fingerprints(url: str) -> dict[str, dict]:
    from bench.dbt import mart_fingerprints

    return mart_fingerprints(url, volatile=VOLATILE)


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

        rebuilt_run = dbt.run(*STORED, full_refresh=True)
        assert rebuilt_run.success
        assert _fingerprints(ingested.warehouse_url) == refreshed

        with pytest.raises(DbtCommandError, match="tessera_no_such_macro"):
            dbt.invoke(["run-operation", "tessera_no_such_macro"])


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
