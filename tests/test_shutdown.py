"""SIGTERM stops `tessera materialize` and the benchmarks within seconds, leaving nothing half-written:
the interrupted step rolls back, a bench drops the databases it created, and the next run converges.
(`tessera simulate` is covered in test_console.py.)"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.test_console import REPO, _env, _tessera

pytestmark = pytest.mark.slow

STOP_WITHIN_S = 20  # generous for a loaded 2-core CI machine; the grace period itself is 5-10 s


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(proc: subprocess.Popen) -> tuple[int, str, float]:
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=STOP_WITHIN_S)  # raises TimeoutExpired if it ignores SIGTERM
    return proc.returncode, out + err, time.monotonic() - sent


def _row_counts(url: str, tables: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url) as conn:
        return {t: conn.execute(sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(t[0]), sql.Identifier(t[1])))
                .fetchone()[0] for t in tables}


def test_sigterm_stops_materialize_mid_step_and_the_next_run_converges(seeded):
    from sources.registry import TABLES

    env = _env(seeded)
    logs = seeded.home / "logs"
    proc = subprocess.Popen(_tessera("materialize"), env=env, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)

    def step_running() -> bool:
        return any("STEP_START" in p.read_text(errors="replace") for p in logs.glob("materialize-*.log"))

    _wait_for(step_running, 300, "the first step to start")
    code, console, _ = _stop(proc)
    assert code == 130, console[-3000:]
    # Either the step saw the interrupt and rolled back, or (a step inside a subprocess or a Dagster
    # section that defers interrupts) the grace period ended and the children were terminated: both
    # leave only committed batches behind, which the next run must take up from.
    assert "interrupted" in console or "terminating child processes" in console, console[-3000:]
    assert "Traceback" not in console, console[-3000:]

    again = subprocess.run(_tessera("materialize", "ingest"), env=env, cwd=REPO, capture_output=True, text=True,
                           timeout=900)
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
    src = _row_counts(seeded.source_url, [(t.product, t.name) for t in TABLES])
    raw = _row_counts(seeded.warehouse_url, [(t.raw_schema, t.name) for t in TABLES])
    # every raw copy equals its source, except where the first run got as far as the retention asset,
    # which removes expired rows from the raw copies of tables with a retention rule (never adds any)
    kept = {(t.raw_schema, t.name) for t in TABLES if t.retention}
    want = {(f"raw_{s}", n): c for (s, n), c in src.items()}
    assert {k: c for k, c in raw.items() if k not in kept} == {k: c for k, c in want.items() if k not in kept}
    assert all(raw[k] <= want[k] for k in kept)


def _bench_databases(server_url: str, pattern: str) -> list[str]:
    import psycopg

    with psycopg.connect(server_url) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern,))]


def test_sigterm_stops_a_benchmark_and_it_drops_its_databases(databases, embedded_server):
    proc = subprocess.Popen(_tessera("bench", "ingest", "--users", "2000", "--days", "365"), env=_env(databases),
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    admin = embedded_server.url()
    mine = f"bench_ingest_%_{proc.pid}"
    _wait_for(lambda: _bench_databases(admin, mine), 120, "the bench's source database")
    time.sleep(2.0)  # generating the source by now
    code, console, _ = _stop(proc)
    assert code == 130, console[-3000:]
    assert "interrupted" in console and "Traceback" not in console, console[-3000:]
    assert _bench_databases(admin, mine) == []


def test_abandoned_runs_are_unfinished_runs_of_stopped_commands_only():
    from orchestration.commands.materialize import abandoned

    runs = [("gone", "STARTED", "11:1.00"), ("live", "STARTED", "22:2.00"), ("done", "SUCCESS", "11:1.00"),
            ("daemon", "STARTED", None), ("queued", "NOT_STARTED", "11:1.00")]
    assert abandoned(runs, alive=lambda tag: tag == "22:2.00") == ["gone", "queued"]


def test_a_stopped_commands_run_is_marked_failed_and_ours_is_kept(tmp_path):
    import dagster as dg

    from orchestration.commands.materialize import PROCESS_TAG, process_tag, release_abandoned_runs

    @dg.op
    def noop():
        return 1

    @dg.job
    def tiny():
        noop()

    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        dead = instance.create_run_for_job(tiny, tags={PROCESS_TAG: "999999:1.00"})
        ours = instance.create_run_for_job(tiny, tags={PROCESS_TAG: process_tag()})
        daemon = instance.create_run_for_job(tiny)
        assert release_abandoned_runs(instance) == [dead.run_id]
        status = {r: instance.get_run_by_id(r).status for r in (dead.run_id, ours.run_id, daemon.run_id)}
    assert status == {dead.run_id: dg.DagsterRunStatus.FAILURE, ours.run_id: dg.DagsterRunStatus.NOT_STARTED,
                      daemon.run_id: dg.DagsterRunStatus.NOT_STARTED}
