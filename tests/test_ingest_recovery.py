"""Crash safety: an ingest killed (SIGKILL) in the middle of a full-load COPY or of an incremental batch
leaves the warehouse consistent, and the next run converges with nothing lost and nothing doubled."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg

from assets.ingest.pipeline import sync_all
from test_ingest_support import add_mindflow_user, diff_all, kill_when_flagged


# Runs in a child process: installs a hook that announces itself through a flag file and then hangs,
# so the parent can SIGKILL the ingest at exactly that point.
CHILD = """
import sys, time, pathlib
from assets.ingest import fullload, incremental
from assets.ingest.pipeline import sync_all, resync_table
source, warehouse, flag, mode = sys.argv[1:5]
flag = pathlib.Path(flag)

def hang(note):
    flag.write_text(note)
    time.sleep(600)

if mode == "copy":
    fullload.FLUSH_BYTES = 4096  # small chunks: the hook fires in the middle of a small table's stream
    def on_chunk(label, nbytes):
        if label == "mindflow.journal_entries" and nbytes >= 3 * 4096:
            hang(f"{label} {nbytes}")
    fullload.COPY_PROGRESS_HOOK = on_chunk
else:
    incremental.BATCH_HOOK = lambda stage: hang(stage) if stage == mode else None
if len(sys.argv) > 5:
    resync_table(source, warehouse, sys.argv[5])
else:
    sync_all(source, warehouse)
"""


def _run_and_kill(dbs, tmp_path: Path, mode: str, *extra: str) -> str:
    flag = tmp_path / f"flag-{mode}"
    return kill_when_flagged(CHILD, [dbs.source_url, dbs.warehouse_url, str(flag), mode, *extra], flag, mode)


def _count(url: str, query: str, params=()) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchone()[0]


def _wait_backends_gone(dbs) -> None:
    """The server notices the killed client and rolls its transaction back; wait for that."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        busy = _count(
            dbs.warehouse_url,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tessera-ingest'",
        )
        if busy == 0:
            return
        time.sleep(0.1)


def test_kill_during_first_full_load_copy_then_converge(seeded, tmp_path):
    note = _run_and_kill(seeded, tmp_path, "copy")
    assert note.startswith("mindflow.journal_entries")
    _wait_backends_gone(seeded)
    with psycopg.connect(seeded.warehouse_url) as wh:
        exists = wh.execute("SELECT to_regclass('raw_mindflow.journal_entries') IS NOT NULL").fetchone()[0]
        if exists:  # the killed load's transaction created it: it must have been rolled back with it
            assert wh.execute("SELECT count(*) FROM raw_mindflow.journal_entries").fetchone()[0] == 0
        assert wh.execute(
            "SELECT status FROM tessera_meta.ingest_tables WHERE product = 'mindflow' AND table_name = 'journal_entries'"
        ).fetchone()[0] == "pending"
    results = sync_all(seeded.source_url, seeded.warehouse_url)
    assert results["mindflow.journal_entries"]["mode"].startswith("full")
    assert diff_all(seeded.source_url, seeded.warehouse_url) == {}


def test_kill_during_reload_copy_keeps_previous_copy(seeded, tmp_path):
    sync_all(seeded.source_url, seeded.warehouse_url)
    before = _count(seeded.warehouse_url, "SELECT count(*) FROM raw_mindflow.journal_entries")
    with psycopg.connect(seeded.source_url, autocommit=True) as conn:
        add_mindflow_user(conn, entries=3)
    _run_and_kill(seeded, tmp_path, "copy", "mindflow.journal_entries")
    _wait_backends_gone(seeded)
    # The reload's TRUNCATE + COPY died with its transaction: the previous copy is intact.
    assert _count(seeded.warehouse_url, "SELECT count(*) FROM raw_mindflow.journal_entries") == before
    sync_all(seeded.source_url, seeded.warehouse_url)
    assert _count(seeded.warehouse_url, "SELECT count(*) FROM raw_mindflow.journal_entries") == before + 3
    assert diff_all(seeded.source_url, seeded.warehouse_url) == {}


def test_kill_after_batch_commit_before_slot_advance_is_exactly_once(seeded, tmp_path):
    sync_all(seeded.source_url, seeded.warehouse_url)
    with psycopg.connect(seeded.source_url, autocommit=True) as conn:
        add_mindflow_user(conn, entries=2)
        conn.execute("UPDATE mindflow.journal_entries SET deleted_at = now() WHERE date < (SELECT min(date) + 3 FROM mindflow.journal_entries)")
    _run_and_kill(seeded, tmp_path, "committed")  # warehouse committed, slot not advanced
    _wait_backends_gone(seeded)
    assert diff_all(seeded.source_url, seeded.warehouse_url, _mindflow()) == {}
    again = sync_all(seeded.source_url, seeded.warehouse_url)
    # The re-read transactions are at or below the stored cursor: skipped, not applied twice.
    assert sum(r["inserted"] + r["updated"] + r["deleted"] for r in again.values()) == 0
    assert diff_all(seeded.source_url, seeded.warehouse_url) == {}


def test_kill_inside_batch_before_commit_then_converge(seeded, tmp_path):
    sync_all(seeded.source_url, seeded.warehouse_url)
    with psycopg.connect(seeded.source_url, autocommit=True) as conn:
        add_mindflow_user(conn, entries=2)
        conn.execute("DELETE FROM mindflow.journal_entries WHERE date = (SELECT min(date) FROM mindflow.journal_entries)")
    _run_and_kill(seeded, tmp_path, "applied")  # batch written, not committed
    _wait_backends_gone(seeded)
    again = sync_all(seeded.source_url, seeded.warehouse_url)
    assert again["mindflow.users"]["inserted"] == 1
    assert again["mindflow.journal_entries"]["inserted"] == 2
    assert again["mindflow.journal_entries"]["deleted"] >= 1
    assert diff_all(seeded.source_url, seeded.warehouse_url) == {}


def _mindflow():
    from sources.registry import tables_for

    return tables_for("mindflow")
