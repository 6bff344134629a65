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
