"""`tessera live` as users run it: the CLI process with its refresh lanes and its Dagster instance,
SIGKILLed under a writer, restarted, and compared with the source and with a full rebuild."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from core.db import database_name
from test_dbt import _assert_marts_match
from test_ingest_support import add_mindflow_user, diff_all
from test_live import Writer, _wait_gone

REPO_ROOT = Path(__file__).resolve().parent.parent


def _start(dbs, dagster_home: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "DAGSTER_HOME": str(dagster_home),
           "TESSERA_SOURCE_URL": dbs.source_url, "TESSERA_WAREHOUSE_URL": dbs.warehouse_url}
    return subprocess.Popen([sys.executable, "-m", "orchestration.cli", "-v", "live", "--no-embeddings",
                             "--max-batch-delay-ms", "50"], cwd=REPO_ROOT, env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _status(dbs) -> dict | None:
    from assets.ingest import state

    with psycopg.connect(dbs.warehouse_url) as conn:
        if conn.execute("SELECT to_regclass('tessera_meta.live_status')").fetchone()[0] is None:
            return None
        return state.live_status(conn, database_name(dbs.source_url))


def _lanes_idle(lanes) -> bool:
    return isinstance(lanes, dict) and bool(lanes) and all(
        not lane["running"] and not lane["pending_tables"] and not lane["failing"] for lane in lanes.values())


def _wait(dbs, proc: subprocess.Popen, log: Path, predicate, what: str, timeout: float = 240) -> dict:
    """The first live_status row of this process that satisfies `predicate`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"tessera live exited with {proc.returncode}:\n{log.read_text()[-4000:]}"
        row = _status(dbs)
        if row and row["pid"] == proc.pid and predicate(row):
            return row
        time.sleep(0.2)
    raise AssertionError(f"tessera live never {what}: {_status(dbs)}\n{log.read_text()[-4000:]}")


def _in_raw_copy(dbs, user_id: str) -> bool:
    with psycopg.connect(dbs.warehouse_url) as conn:
        return conn.execute("SELECT 1 FROM raw_mindflow.users WHERE id = %s", (user_id,)).fetchone() is not None


@pytest.mark.slow
def test_tessera_live_killed_under_a_writer_leaves_raw_copies_and_marts_as_a_full_rebuild(modelled, tmp_path, monkeypatch):
    from assets.dbt.project import run_dbt

    dbs = modelled
    run_dbt(["run", "--exclude", "config.materialized:view"], url=dbs.warehouse_url, check=True)
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    log = tmp_path / "live.log"
    with Writer(dbs.source_url) as writer:
        proc = _start(dbs, dagster_home, log)
        try:
            # killed once while it streams and its lanes refresh behind it
            _wait(dbs, proc, log, lambda row: row["state"] == "streaming" and row["batches"] >= 3, "streamed three batches")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
            _wait_gone(dbs)
            proc = _start(dbs, dagster_home, log)
            _wait(dbs, proc, log, lambda row: row["state"] == "streaming" and row["batches"] >= 2,
                  "streamed after its restart")
            writer.stop.set()
            for thread in writer.threads:
                thread.join(30)
            assert not writer.errors, writer.errors
            # a last commit after the writer's: once it is in the raw copy, everything before it is too
            with psycopg.connect(dbs.source_url) as src:
                marker, _ = add_mindflow_user(src, entries=1)
            applied = _wait(dbs, proc, log, lambda row: _in_raw_copy(dbs, marker), "applied the last commit")
            _wait(dbs, proc, log, lambda row: row["updated_at"] > applied["updated_at"] and _lanes_idle(row["lanes"]),
                  "went idle after the last commit")
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # the clean stop
                assert proc.wait(60) == 0, log.read_text()[-4000:]

    assert diff_all(dbs.source_url, dbs.warehouse_url) == {}
    _assert_marts_match(dbs.warehouse_url)

    # what the UI reads: runless materializations made by live, with the batch assets' metadata
    import dagster as dg

    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    instance = dg.DagsterInstance.get()
    raw = instance.get_latest_materialization_event(dg.AssetKey(["raw_mindflow", "journal_entries"]))
    assert raw.run_id == "" and raw.asset_materialization.metadata["tessera/live"].value is True
    mart = instance.get_latest_materialization_event(dg.AssetKey(["marts", "journals_view"]))
    meta = mart.asset_materialization.metadata
    with psycopg.connect(dbs.warehouse_url) as conn:
        rows = conn.execute("SELECT count(*) FROM marts.journals_view").fetchone()[0]
    assert meta["tessera/live"].value is True and meta["dagster/row_count"].value == rows
    assert meta["commit_to_visible_seconds"].value >= 0
