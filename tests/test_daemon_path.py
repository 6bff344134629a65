"""The daemon path (issue: a committed journal entry reaches the read views within 30 s).

Runs launched by the daemon execute with the code location's executor; these tests run the ingest job
the way the daemon's run worker does (`dg.execute_job` on a reconstructable job, a real instance on
disk), against the embedded Postgres, and read what happened from the run's event log.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from test_ingest_support import add_mindflow_user

REPO = Path(__file__).resolve().parent.parent


def ingest_job():
    from orchestration.definitions import defs

    return defs.resolve_job_def("ingest_job")


def _instance(tmp_path: Path) -> dg.DagsterInstance:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    return dg.DagsterInstance.from_config(str(home))


def run_processes(instance: dg.DagsterInstance, run_id: str) -> dict:
    """What the run's event log says about processes: distinct pids that wrote events, step worker
    processes started, and steps executed."""
    records = instance.all_logs(run_id)
    workers = [r for r in records if r.dagster_event and r.dagster_event.event_type_value == "STEP_WORKER_STARTED"]
    steps = {r.step_key for r in records if r.dagster_event and r.dagster_event.event_type_value == "STEP_START"}
    return {"pids": {r.dagster_event.pid for r in records if r.dagster_event and r.dagster_event.pid is not None}, "step_workers": len(workers), "steps": steps}


@pytest.mark.slow
def test_ingest_tick_launches_no_process_per_step(databases, tmp_path):
    with psycopg.connect(databases.source_url, autocommit=True) as conn:
        add_mindflow_user(conn, entries=3)
    instance = _instance(tmp_path)
    try:
        result = dg.execute_job(dg.reconstructable(ingest_job), instance=instance)
        assert result.success
        seen = run_processes(instance, result.run_id)
        # the run executes the ingest step and every check on the raw tables (suites, monitors, freshness)
        assert len(seen["steps"]) > 5, seen["steps"]
        assert seen["step_workers"] == 0
        assert len(seen["pids"]) <= 2, seen["pids"]
        mats = {e.asset_key for e in result.get_asset_materialization_events()}
        assert dg.AssetKey(["raw_mindflow", "journal_entries"]) in mats
    finally:
        instance.dispose()


# ---------------------------------------------------------------------------------------------
# The run queue: hot runs first, cold runs capped (config as data, then the definitions' tags)
# ---------------------------------------------------------------------------------------------

def _runs_config(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text())["concurrency"]["runs"]


def test_run_queue_leaves_slots_for_ingest_and_read_views():
    from core.run_queue import HOT_RUNS_AT_ONCE, cold_limits_missing, slots_left_for_hot_runs

    for path in (REPO / "orchestration" / "dagster.yaml", REPO / "docker" / "dagster.yaml"):
        runs = _runs_config(path)
        assert cold_limits_missing(runs) == set(), path
        assert slots_left_for_hot_runs(runs) >= HOT_RUNS_AT_ONCE, path
    # the arithmetic itself: no cold limit leaves every slot, and a cold limit equal to the queue leaves none
    assert cold_limits_missing({"max_concurrent_runs": 4}) != set()
    assert slots_left_for_hot_runs({"max_concurrent_runs": 4}) == 4
    assert slots_left_for_hot_runs({"max_concurrent_runs": 2, "tag_concurrency_limits": [
        {"key": "dagster/backfill", "limit": 1}, {"key": "tessera/queue", "value": "ai", "limit": 1},
        {"key": "tessera/concurrency", "value": "ingest", "limit": 1}]}) == 0


def test_instance_reads_the_cold_limits(tmp_path):
    instance = _instance(tmp_path)
    try:
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    finally:
        instance.dispose()
    assert {"key": "tessera/queue", "value": "partitions", "limit": 1} in limits
    assert {"key": "dagster/backfill", "limit": 1} in limits


def test_the_run_queue_is_read_every_second(tmp_path):
    instance = _instance(tmp_path)
    try:
        assert instance.run_coordinator.dequeue_interval_seconds == 1
    finally:
        instance.dispose()


def test_the_ingest_job_gates_on_its_checks_and_leaves_freshness_to_its_sensor():
    from orchestration.definitions import defs
    from quality.definitions import FRESHNESS_CHECKS

    graph = defs.resolve_asset_graph()
    selection = defs.resolve_job_def("ingest_job").asset_layer.asset_graph
    checks = set(selection.asset_check_keys)
    freshness = {key for c in FRESHNESS_CHECKS for key in c.check_keys}
    raw = dg.AssetKey(["raw_mindflow", "journal_entries"])
    assert raw in selection.materializable_asset_keys
    assert dg.AssetCheckKey(raw, "gx_suite") in checks  # the blocking suite runs in the ingest run
    assert any(k.asset_key == raw for k in freshness) and not checks & freshness
    assert freshness <= set(graph.asset_check_keys)  # still defined, for their sensor


def test_priority_tags_land_on_the_requested_runs():
    from orchestration.automation import ingest_run_request
    from orchestration.definitions import defs
    from core.run_queue import PRIORITY_TAG, QUEUE_TAG

    request = ingest_run_request({"mindflow": "0/16B0000"})
    assert request.tags[PRIORITY_TAG] == "10" and request.tags["tessera/concurrency"] == "ingest"
    assert defs.resolve_job_def("ingest_job").tags[PRIORITY_TAG] == "10"
    for kind in ("weekly", "monthly", "yearly"):
        assert defs.resolve_job_def(f"insights_{kind}").tags[QUEUE_TAG] == "partitions"

    graph = defs.resolve_asset_graph()
    sensors = {s.name: s for s in defs.sensors if isinstance(s, dg.AutomationConditionSensorDefinition)}
    selected = {name: s.asset_selection.resolve(graph) for name, s in sensors.items()}
    assert set(selected) == {"tessera_automation", "tessera_embeddings_automation", "tessera_partitions_automation"}
    names = list(selected)
    for i, a in enumerate(names):  # disjoint: one asset, one sensor
        for b in names[i + 1:]:
            assert not selected[a] & selected[b], (a, b)
    automated = {k for k in graph.materializable_asset_keys if graph.get(k).automation_condition is not None}
    assert automated <= set().union(*selected.values())
    partitioned = {k for k in graph.materializable_asset_keys if graph.get(k).partitions_def is not None}
    assert partitioned <= selected["tessera_partitions_automation"]
    assert dg.AssetKey(["marts", "journals_view"]) in selected["tessera_automation"]
    assert dg.AssetKey(["quality", "quarantine"]) in selected["tessera_automation"]
    assert dg.AssetKey(["vectors", "journal_entries"]) in selected["tessera_embeddings_automation"]
    assert sensors["tessera_automation"].run_tags[PRIORITY_TAG] == "5"
    assert sensors["tessera_embeddings_automation"].run_tags[QUEUE_TAG] == "ai"
    assert sensors["tessera_partitions_automation"].run_tags[QUEUE_TAG] == "partitions"
    assert int(sensors["tessera_partitions_automation"].run_tags[PRIORITY_TAG]) < 0


def test_sensor_intervals_fit_the_30_second_contract():
    from orchestration.definitions import defs

    sensors = {s.name: s for s in defs.sensors}
    # a commit waits at most one ingest interval, then one automation interval, before its run is requested
    assert sensors["source_changes_sensor"].minimum_interval_seconds + \
        sensors["tessera_automation"].minimum_interval_seconds <= 15


# ---------------------------------------------------------------------------------------------
# Errors retrying cannot fix fail the run at once, with their message
# ---------------------------------------------------------------------------------------------

def test_error_classification_is_by_sqlstate():
    from assets.ingest.errors import permanent_reason

    for transient in ("08006", "40001", "40P01", "53300", "57P01", "55006", "55P03", None):
        assert permanent_reason(transient, "boom") is None, transient
    for permanent in ("55000", "42501", "58P01", "22023", "53400", "42704"):
        reason = permanent_reason(permanent, "logical decoding requires\n wal_level >= logical")
        assert reason and reason.startswith("logical decoding requires wal_level >= logical") and permanent in reason
    assert permanent_reason("XX000", "internal error") is None  # unknown: let the retry policy try
    assert permanent_reason(None, "wal_level=replica", known_permanent=True) == "wal_level=replica"
    # at connection start-up libpq gives only the server's text
    assert permanent_reason(None, 'connection failed: FATAL: invalid value for parameter "x": "y"')
    assert permanent_reason(None, "connection failed: FATAL: the database system is starting up") is None
    assert permanent_reason(None, "connection refused") is None


def test_a_bad_setting_from_the_server_is_permanent(databases):
    from assets.ingest.errors import classify

    url = databases.source_url + ("&" if "?" in databases.source_url else "?") + "options=-c%20statement_timeout%3Dsoon"
    with pytest.raises(psycopg.Error) as caught:
        psycopg.connect(url).close()
    reason = classify(caught.value)
    assert reason and "statement_timeout" in reason, (type(caught.value), caught.value.sqlstate, str(caught.value))


def _user_url(url: str, user: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    return make_conninfo(**{**conninfo_to_dict(url), "user": user})


def test_source_without_replication_privilege_fails_the_run_on_its_first_attempt(databases, tmp_path, monkeypatch):
    """A source login that may not create publications or replication slots (a real prerequisite of
    logical decoding): the ingest run fails once, with the server's message, and no step retry."""
    role = f"noreplication_{databases.source_db}"
    with psycopg.connect(databases.source_url, autocommit=True) as conn:
        add_mindflow_user(conn, entries=1)
        conn.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOREPLICATION')
    monkeypatch.setenv("TESSERA_SOURCE_URL", _user_url(databases.source_url, role))
    instance = _instance(tmp_path)
    try:
        result = dg.execute_job(dg.reconstructable(ingest_job), instance=instance, raise_on_error=False)
        assert not result.success
        records = instance.all_logs(result.run_id)
        types = [r.dagster_event.event_type_value for r in records if r.dagster_event]
        assert "STEP_UP_FOR_RETRY" not in types and "STEP_RESTARTED" not in types
        failures = [r.dagster_event for r in records
                    if r.dagster_event and r.dagster_event.event_type_value == "STEP_FAILURE"]
        assert len(failures) == 1 and failures[0].step_key == "ingest"
        message = failures[0].step_failure_data.user_failure_data.description
        assert "42501" in message and ("superuser" in message or "permission" in message or "replication" in message), message
    finally:
        instance.dispose()
        with psycopg.connect(databases.source_url, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def test_failed_steps_do_not_re_execute_the_run():
    import yaml

    for path in (REPO / "orchestration" / "dagster.yaml", REPO / "docker" / "dagster.yaml"):
        retries = yaml.safe_load(path.read_text())["run_retries"]
        assert retries["retry_on_asset_or_op_failure"] is False, path


def test_read_views_do_not_wait_for_an_ingest_in_progress():
    """A raw copy updated while the next ingest run is already queued or running: the read views are
    requested at once (stock eager() would hold them until that ingest finished)."""
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    raw_keys = [k for k in graph.materializable_asset_keys if k.path[0].startswith("raw_")]
    mindflow = [k for k in raw_keys if k.path[0] == "raw_mindflow"]
    with dg.instance_for_test() as instance:
        for key in raw_keys:
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        for key in {r.key for r in first.results if r.true_subset.size > 0}:
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        quiet = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
        for key in mindflow:
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        queued = instance.create_run_for_job(job_def=defs.resolve_job_def("ingest_job"),
                                             asset_selection=frozenset(mindflow), status=dg.DagsterRunStatus.STARTED)
        assert not queued.is_finished
        after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=quiet.cursor)
    requested = {r.key for r in after.results if r.true_subset.size > 0}
    assert dg.AssetKey(["marts", "journals_view"]) in requested
    assert dg.AssetKey(["marts", "mood_calendar_cache"]) in requested
    assert dg.AssetKey(["quality", "quarantine"]) in requested


def test_no_second_ingest_request_while_one_waits_to_start(databases):
    from orchestration.definitions import defs

    with psycopg.connect(databases.source_url, autocommit=True) as conn:
        add_mindflow_user(conn, entries=1)
    sensor = defs.get_sensor_def("source_changes_sensor")
    with dg.instance_for_test() as instance:
        first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert len(first.run_requests) == 1
        waiting = instance.create_run_for_job(job_def=defs.resolve_job_def("ingest_job"))
        assert waiting.status == dg.DagsterRunStatus.NOT_STARTED
        second = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert second.run_requests == [] and "waiting to start" in second.skip_message
        instance.report_run_failed(waiting)
        third = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert len(third.run_requests) == 1
