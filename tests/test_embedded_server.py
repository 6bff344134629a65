"""`tessera up` / `tessera down` on the embedded server: reuse, crash recovery, concurrent start-up,
and external URLs that must start nothing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

TESSERA = [sys.executable, "-m", "orchestration.cli"]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env["TESSERA_HOME"] = str(home)
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(TESSERA + args, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _pid(output: str) -> int:
    return int(re.search(r"pid (\d+)", output).group(1))


def _postmasters(pgdata: Path) -> list[int]:
    """Postmasters of this data directory: its postgres processes whose parent is not one of them."""
    from core.embedded import _orphaned_backends

    members = set(_orphaned_backends(pgdata))
    parents = {pid: int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) for pid in members}
    return [pid for pid, parent in parents.items() if parent not in members]


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "h"
    yield home
    subprocess.run(TESSERA + ["down"], env=_env(home), capture_output=True, timeout=120)


def test_up_twice_reuses_the_server_and_down_stops_it(home):
    env = _env(home)
    first = _run(["up"], env)
    assert "migrations applied now: 0001_mindflow.sql" in first
    second = _run(["up"], env)
    assert _pid(first) == _pid(second)
    assert "none (up to date)" in second
    assert "stopped" in _run(["down"], env)
    assert not (home / "pgdata" / "postmaster.pid").exists()
    assert "not running" in _run(["down"], env)


def test_up_recovers_after_kill_9(home):
    env = _env(home)
    pid = _pid(_run(["up"], env))
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    assert (home / "pgdata" / "postmaster.pid").exists()  # stale pid file left behind
    again = _run(["up"], env)
    assert _pid(again) != pid
    url = re.search(r"source:\s+(\S+)", again).group(1)
    with psycopg.connect(url) as conn:  # data survived the crash
        assert conn.execute("SELECT count(*) FROM public.tessera_migrations").fetchone()[0] >= 5


def test_concurrent_up_shares_one_server(home):
    env = _env(home)
    procs = [subprocess.Popen(TESSERA + ["up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, out + err
        outputs.append(out)
    assert len({_pid(out) for out in outputs}) == 1
    assert len(_postmasters(home / "pgdata")) == 1


def test_external_urls_start_nothing(home, embedded_server):
    env = _env(home, TESSERA_SOURCE_URL=embedded_server.url("postgres"),
               TESSERA_WAREHOUSE_URL=embedded_server.url("postgres"))
    out = _run(["status"], env)
    assert "embedded Postgres" not in out
    from core.settings import Settings

    settings = Settings.from_env(env)
    assert not settings.uses_embedded
    assert settings.database_urls() == (embedded_server.url("postgres"), embedded_server.url("postgres"))
    assert not (home / "pgdata").exists()
