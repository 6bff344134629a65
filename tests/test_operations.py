"""Operations (issue 8): automation evaluated in process, erasure end to end, retention, BI access.

Everything runs against the embedded Postgres. Datasets are tiny (the machine is shared): the
end-to-end test materializes the stores that hold a MindFlow user's data (dbt marts, mood analytics,
journal vectors and search index, persona traits) rather than every asset; embedding all sources and
the insight periods is left to `tessera demo`.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from psycopg import sql

from assets.ingest import retention as copy_retention
from assets.operations import bi_access, erasure, retention

REPO = Path(__file__).resolve().parent.parent
TINY = {"users": 6, "days": 14, "seed": 7}
CANARY = "zqxcanaryvortex"
ERASURES = dg.AssetKey(["tessera_meta", "erasures"])
RETENTION = dg.AssetKey(["tessera_meta", "retention_log"])
BI_ACCESS = dg.AssetKey(["tessera_meta", "bi_access"])
# what the end-to-end tests materialize (materialize_all patterns: asset key, schema or group)
STORES = ("dbt_staging", "dbt_eligibility", "dbt_changes", "dbt_intermediate", "dbt_marts", "mood", "vectors/journal_entries",
          "search/journal_entries", "persona/trait_matrix", "persona/knowledge_entries")


def _defs():
    from orchestration.definitions import defs

    return defs


def materialize(*patterns: str) -> list:
    from orchestration.commands.materialize import materialize_all

    results = materialize_all(patterns, backfill_days=TINY["days"] + 2, echo=lambda *_: None)
    failed = [(r.keys, r.failed_steps) for r in results if not r.success]
    assert not failed, failed
    return results


def tiny_source(databases) -> None:
    from sources.generator import generate

    generate(databases.source_url, **TINY)


# ---------------------------------------------------------------------------------------------
# Automation: sensors, schedules and automation conditions evaluated in process
# ---------------------------------------------------------------------------------------------

def _tick(sensor_def, instance):
    return sensor_def.evaluate_tick(dg.build_sensor_context(instance=instance))


def test_ingest_sensor_follows_the_source_change_position(databases):
    from assets.ingest.pipeline import sync_all

    tiny_source(databases)
    sensor = _defs().get_sensor_def("source_changes_sensor")
    assert sensor.job_name == "ingest_job"
    with dg.instance_for_test() as instance:
        first = _tick(sensor, instance)
        assert len(first.run_requests) == 1 and "initial" in first.run_requests[0].run_key
        assert first.run_requests[0].tags["tessera/concurrency"] == "ingest"

        sync_all(databases.source_url, databases.warehouse_url)
        quiet = _tick(sensor, instance)
        assert quiet.run_requests == [] and "no new changes" in quiet.skip_message

        with psycopg.connect(databases.source_url) as src:
            src.execute("UPDATE mindflow.journal_entries SET title = title || ' (edited)' "
                        "WHERE id = (SELECT id FROM mindflow.journal_entries ORDER BY id LIMIT 1)")
        changed = _tick(sensor, instance)
        assert len(changed.run_requests) == 1
        request = changed.run_requests[0]
        assert request.tags["tessera/products"] == "mindflow" and "mindflow@" in request.run_key

        sync_all(databases.source_url, databases.warehouse_url)
        assert _tick(sensor, instance).run_requests == []


def test_retention_schedule_targets_the_retention_asset():
    defs = _defs()
    schedule = defs.get_schedule_def("retention_daily")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    with dg.instance_for_test() as instance:
        data = schedule.evaluate_tick(dg.build_schedule_context(
            instance=instance, scheduled_execution_time=dt.datetime(2026, 1, 2, 3, tzinfo=dt.timezone.utc)))
    assert len(data.run_requests) == 1
    job = defs.resolve_job_def(schedule.job_name)
    assert set(job.asset_layer.executable_asset_keys) >= {RETENTION}
    assert {k for k in job.asset_layer.executable_asset_keys if k.path[0] != "tessera_meta"} == set()


def test_ingest_never_overlaps_pool_tag_and_instance_limits(tmp_path):
    defs = _defs()
    graph = defs.resolve_asset_graph()
    ingest_keys = [k for k in graph.materializable_asset_keys if graph.get(k).group_name == "ingest"]
    assert ingest_keys
    job = defs.resolve_job_def("ingest_job")
    assert job.tags["tessera/concurrency"] == "ingest"
    for key in ingest_keys:
        assert graph.get(key).pools == {"tessera_ingest"}
    for assets_def in defs.assets:
        if isinstance(assets_def, dg.AssetsDefinition) and set(assets_def.keys) & set(ingest_keys):
            policy = assets_def.node_def.retry_policy
            assert policy is not None and policy.backoff == dg.Backoff.EXPONENTIAL
    shutil.copyfile(REPO / "orchestration" / "dagster.yaml", tmp_path / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    config = instance.get_concurrency_config()
    assert config.pool_config.default_pool_limit == 1
    assert {"key": "tessera/concurrency", "value": "ingest", "limit": 1} in config.run_queue_config.tag_concurrency_limits
    instance.dispose()


def _requested(result) -> set:
    return {r.key for r in result.results if r.true_subset.size > 0}


def test_automation_requests_marts_and_erasure_after_raw_updates():
    defs = _defs()
    graph = defs.resolve_asset_graph()
    raw_keys = [k for k in graph.materializable_asset_keys if k.path[0].startswith("raw_")]
    with dg.instance_for_test() as instance:
        for key in raw_keys:  # everything materialized once, then a quiet tick
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        for key in _requested(first):  # the requested runs happened
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        quiet = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
        assert dg.AssetKey(["marts", "journals_view"]) not in _requested(quiet)

        # the source changed: ingest materializes the MindFlow raw copies
        for table in ("users", "journal_entries"):
            instance.report_runless_asset_event(dg.AssetMaterialization(dg.AssetKey(["raw_mindflow", table])))
        after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=quiet.cursor)
    requested = _requested(after)
    for key in (["marts", "journals_view"], ["marts", "user_profile_view"], ["marts", "mood_calendar_cache"],
                ["tessera_meta", "erasures"], ["vectors", "journal_entries"]):
        assert dg.AssetKey(key) in requested, key
    # nothing downstream of devassist alone was touched
    assert dg.AssetKey(["marts", "active_agent_sessions"]) not in requested


# ---------------------------------------------------------------------------------------------
# Erasure, BI access and retention, end to end on a tiny dataset
# ---------------------------------------------------------------------------------------------

def _pick_mindflow_user(src) -> tuple[str, str]:
    """A live MindFlow user not in private mode, and one of their public live entries."""
    return src.execute(
        """SELECT u.id::text, e.id::text FROM mindflow.users u
             JOIN mindflow.journal_entries e ON e.user_id = u.id AND e.deleted_at IS NULL AND NOT e.is_private
             LEFT JOIN mindflow.user_settings s ON s.user_id = u.id
            WHERE u.deleted_at IS NULL AND NOT coalesce(s.private_mode, false)
            ORDER BY (SELECT count(*) FROM mindflow.journal_entries x WHERE x.user_id = u.id) DESC, e.date DESC
            LIMIT 1""").fetchone()


AUDIT_RELATIONS = {("raw_mindflow", "audit_logs"), ("raw_coach", "audit_logs"), ("raw_devassist", "audit_log"),
                   ("raw_personakit", "system_events"), ("tessera_meta", "erasures")}


def relations_holding(conn, needle: str) -> list[str]:
    """Every relation of every warehouse schema (tables, views, materialized views) whose rows contain
    `needle` anywhere, except the audit trails and views over them."""
    found = []
    rels = conn.execute(
        """SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
              AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
            ORDER BY 1, 2""").fetchall()
    for schema, name in rels:
        if (schema, name) in AUDIT_RELATIONS or ("audit" in name and schema == "staging"):
            continue
        hit = conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {} t WHERE strpos(lower(t::text), %s) > 0)").format(
            sql.Identifier(schema, name)), (needle.lower(),)).fetchone()[0]
        if hit:
            found.append(f"{schema}.{name}")
    return found


def _as(url: str, role: str) -> psycopg.Connection:
    return psycopg.connect(psycopg.conninfo.make_conninfo(url, user=role))


@pytest.mark.slow
def test_erasure_bi_access_and_cli_end_to_end(databases):
    from assets.ingest.pipeline import sync_all
    from click.testing import CliRunner

    from orchestration.cli import main

    tiny_source(databases)
    with psycopg.connect(databases.source_url) as src:
        user, entry = _pick_mindflow_user(src)
        src.execute("UPDATE mindflow.journal_entries SET content = content || %s WHERE id = %s",
                    (f" {CANARY} ", entry))
    sync_all(databases.source_url, databases.warehouse_url)
    materialize(*STORES, "tessera_meta/bi_access")

    with psycopg.connect(databases.warehouse_url) as wh:
        # the user and the canary are everywhere they should be before the deletion
        before = relations_holding(wh, user)
        for where in ("raw_mindflow.journal_entries", "marts.journals_view", "analytics.mood_events",
                      "vectors.journal_entries"):
            assert where in before, (where, before)
        assert any(r.startswith("search.") for r in relations_holding(wh, CANARY))
        other_users = [r[0] for r in wh.execute(
            "SELECT DISTINCT user_id::text FROM marts.journals_view WHERE user_id <> %s ORDER BY 1", (user,))]
        total_entries = wh.execute("SELECT count(*) FROM marts.journals_view").fetchone()[0]
    assert other_users

    # --- BI access: read-only roles, marts and analytics only, RLS on per-user marts ----------
    with _as(databases.warehouse_url, bi_access.DASHBOARD_ROLE) as dash:
        for forbidden in ("raw_mindflow.users", "vectors.journal_entries", "persona.trait_matrix"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                dash.execute(f"SELECT 1 FROM {forbidden} LIMIT 1")
            dash.rollback()
        assert dash.execute("SELECT count(*) FROM marts.journals_view").fetchone()[0] == 0  # no user set
        dash.execute("SELECT set_config('app.current_user_id', %s, false)", (user,))
        seen = {r[0] for r in dash.execute("SELECT DISTINCT user_id::text FROM marts.journals_view")}
        assert seen == {user}
        assert {r[0] for r in dash.execute("SELECT id::text FROM marts.user_profile_view")} == {user}
        assert {r[0] for r in dash.execute("SELECT DISTINCT user_id::text FROM analytics.mood_events")} == {user}
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            dash.execute("DELETE FROM marts.journals_view")
        dash.rollback()
    with _as(databases.warehouse_url, bi_access.ANALYST_ROLE) as analyst:
        # every entry, through the masked view (private text and emails are not the analyst's)
        assert analyst.execute("SELECT count(*) FROM analyst.journals_view").fetchone()[0] == total_entries
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            analyst.execute("SELECT 1 FROM marts.journals_view LIMIT 1")
        analyst.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            analyst.execute("SELECT 1 FROM raw_mindflow.journal_entries LIMIT 1")

    # --- the account is deleted in the source: one run (ingest, erasure, downstream) -------------
    with psycopg.connect(databases.source_url) as src:
        src.execute("UPDATE mindflow.users SET deleted_at = now() WHERE id = %s", (user,))
    sync_all(databases.source_url, databases.warehouse_url)
    results = materialize("tessera_meta/erasures", *STORES)
    assert results
    with psycopg.connect(databases.warehouse_url) as wh:
        assert relations_holding(wh, user) == []
        assert relations_holding(wh, CANARY) == []
        assert erasure.find_subject(wh, uuid.UUID(user)) == []
        trigger, removed = wh.execute("SELECT trigger, rows_removed FROM tessera_meta.erasures WHERE subject_id = %s",
                                      (user,)).fetchone()
        assert trigger == "source_deletion" and removed.get("raw_mindflow.journal_entries", 0) > 0
        # audit logs are kept, other users are untouched
        assert wh.execute("SELECT count(*) FROM raw_mindflow.audit_logs WHERE user_id = %s", (user,)).fetchone()[0] > 0
        assert wh.execute("SELECT count(DISTINCT user_id) FROM marts.journals_view").fetchone()[0] == len(other_users)
    from orchestration.notebook import search_journal

    assert search_journal(CANARY, user_id=user).hits == []

    # --- on demand: tessera erase --user ID ------------------------------------------------------
    victim = other_users[0]
    result = CliRunner().invoke(main, ["erase", "--user", victim])
    assert result.exit_code == 0, result.output
    assert "verified: no derived store holds the id" in result.output
    with psycopg.connect(databases.warehouse_url) as wh:
        assert relations_holding(wh, victim) == []
        assert wh.execute("SELECT trigger FROM tessera_meta.erasures WHERE subject_id = %s", (victim,)).fetchone()[0] == "on_demand"
    bad = CliRunner().invoke(main, ["erase", "--user", "not-a-uuid"])
    assert bad.exit_code != 0 and "not a user id" in bad.output


def test_retention_removes_only_expired_rows_and_reports_them(databases):
    from assets.ingest.pipeline import sync_all

    tiny_source(databases)
    sync_all(databases.source_url, databases.warehouse_url)
    with psycopg.connect(databases.warehouse_url) as wh:
        # age a few copies past their rules (the generator writes recent data)
        wh.execute("UPDATE raw_mindflow.application_logs SET timestamp = now() - interval '31 days' "
                   "WHERE ctid IN (SELECT ctid FROM raw_mindflow.application_logs LIMIT 3)")
        wh.execute("UPDATE raw_mindflow.audit_logs SET timestamp = now() - interval '6 years' "
                   "WHERE ctid IN (SELECT ctid FROM raw_mindflow.audit_logs LIMIT 2)")
        wh.execute("UPDATE raw_coach.dialogue_messages SET created_at = now() - interval '366 days' "
                   "WHERE ctid IN (SELECT ctid FROM raw_coach.dialogue_messages LIMIT 2)")
        audit_before = wh.execute("SELECT count(*) FROM raw_mindflow.audit_logs").fetchone()[0]
        wh.commit()
    results = materialize("tessera_meta/retention_log")
    with dg.instance_for_test():
        pass
    from orchestration.dagster_home import ensure_dagster_home

    ensure_dagster_home()
    instance = dg.DagsterInstance.get()
    event = instance.get_latest_materialization_event(RETENTION)
    metadata = event.asset_materialization.metadata
    assert metadata["rows_removed"].value >= 5
    table = metadata["by_table"].value
    assert "| raw_mindflow.application_logs | 3 |" in table
    assert "| raw_coach.dialogue_messages | 2 |" in table
    assert "| raw_mindflow.audit_logs | 0 |" in table
    with psycopg.connect(databases.warehouse_url) as wh:
        assert wh.execute("SELECT count(*) FROM raw_mindflow.audit_logs").fetchone()[0] == audit_before
        # analytics not built: the mood area's retention is skipped, not failed
        assert retention.analytics_retention(wh) == {}
    assert results


def test_retention_rules_match_the_seeds():
    rules = {r.name: r.keep for r in copy_retention.retention_rules()}
    assert rules["raw_mindflow.audit_logs"] == "7 years"
    assert rules["raw_mindflow.application_logs"] == "30 days"
    assert rules["raw_coach.dialogue_messages"] == "365 days"
    from assets.mood import schema

    assert {h.table: h.retention for h in schema.HYPERTABLES if h.retention} == {
        "mood_events": "1 year", "user_activity_events": "6 months"}


def test_erasure_request_building_without_servers():
    body = erasure.es_delete_body("userId", ["b", "a"], ["2", "1"])
    assert body["query"]["bool"]["should"][0] == {"terms": {"userId": ["a", "b"]}}
    assert body["query"]["bool"]["should"][1] == {"ids": {"values": ["1", "2"]}}
    assert erasure.elasticsearch_erasure_hook in erasure.ERASURE_HOOKS
    assert erasure.es_probe_body("submittedBy", "x") == {"query": {"term": {"submittedBy": "x"}}}
    with pytest.raises(ValueError):
        erasure.parse_subject("42")
    assert bi_access.user_column("marts", "user_profile_view", {"id", "email"}) == "id"
    assert bi_access.user_column("marts", "journals_view", {"id", "user_id"}) == "user_id"
    assert bi_access.user_column("marts", "legacy_story_summary", {"legacy_id"}) is None
