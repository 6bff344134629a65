"""What a user sees: `tessera demo` prints a short report, the log file holds the rest; SIGTERM stops
`tessera simulate` promptly and the next run works on a consistent source."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _env(databases) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONPATH=str(REPO), TESSERA_HOME=str(databases.home), DAGSTER_HOME=str(databases.home / "dagster"),
               TESSERA_SOURCE_URL=databases.source_url, TESSERA_WAREHOUSE_URL=databases.warehouse_url,
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return env


def _tessera(*args: str) -> list[str]:
    return [sys.executable, "-m", "orchestration.cli", *args]


def test_group_lines_and_warnings_from_events():
    from types import SimpleNamespace as NS

    from orchestration.console import digest_run, group_line

    key = lambda s: NS(to_user_string=lambda: s)  # noqa: E731
    groups = {"a": "ingest", "b": "dbt_marts"}
    events = [
        NS(event_type_value="ASSET_MATERIALIZATION", asset_key="a", timestamp=10.0),
        NS(event_type_value="ASSET_CHECK_EVALUATION", timestamp=11.0, event_specific_data=NS(
            asset_key=key("a"), check_name="c1", passed=False, severity=NS(value="WARN"))),
        NS(event_type_value="ASSET_MATERIALIZATION", asset_key="b", timestamp=14.5),
        NS(event_type_value="STEP_FAILURE", step_key="s2", timestamp=15.0,
           event_specific_data=NS(error=NS(message="boom\ntrace"))),
    ]
    digest = digest_run(events, lambda k: groups.get(getattr(k, "to_user_string", lambda: k)()), {"ingest": 1, "dbt_marts": 2},
                        {"b:rel", "a:c1"})
    ingest, marts = digest.groups
    assert (ingest.materialized, ingest.checks_warned, ingest.seconds) == (1, 1, 1.0)
    assert (marts.materialized, marts.seconds) == (1, 3.5)  # from the previous group's last event
    assert digest.warnings == ["step failed: s2 (boom)", "blocking check did not run: b:rel"]
    line = group_line(marts, 2, 9)
    assert line.startswith("[2/9] dbt_marts") and "1/2" in line and "3.5s" in line


@pytest.mark.slow
def test_demo_console_is_short_and_the_log_holds_the_events(databases):
    run = subprocess.run(_tessera("demo", "--users", "3", "--days", "7"), env=_env(databases), cwd=REPO,
                         capture_output=True, text=True, timeout=900)
    console = run.stdout + run.stderr
    assert run.returncode == 0, console[-3000:]
    lines = console.splitlines()
    assert len(lines) < 200, len(lines)
    assert "Traceback" not in console and " DEBUG " not in console
    assert re.search(r"^\[\s*\d+/\d+\] dbt_marts ", console, re.M)
    assert "WARNING blocking check did not run" not in console
    log = Path(re.search(r"Full log \(.*\): (\S+)", console).group(1))
    text = log.read_text()
    assert " - DEBUG - " in text and "STEP_START" in text and "ASSET_MATERIALIZATION" in text
    assert len(text.splitlines()) > 10 * len(lines)


@pytest.mark.slow
def test_sigterm_stops_simulate_quickly_and_the_next_run_converges(seeded):
    import psycopg

    env = _env(seeded)
    proc = subprocess.Popen(_tessera("simulate", "--seconds", "120", "--rate", "40", "--connections", "3"),
                            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)  # the command is importing and writing by now
    proc.send_signal(signal.SIGTERM)
    # stops well before its 120 s are up (communicate raises TimeoutExpired otherwise)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err[-2000:]
    assert '"stopped": true' in out, out[-2000:]
    assert "Traceback" not in err, err[-2000:]
    with psycopg.connect(seeded.source_url) as conn:
        open_writers = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'tessera-simulator%%'").fetchone()[0]
    assert open_writers == 0
    again = subprocess.run(_tessera("simulate", "--seconds", "2", "--rate", "20", "--connections", "2"),
                           env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr[-2000:]
    assert '"seconds"' in again.stdout
