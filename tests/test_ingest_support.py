"""Helpers shared by the ingest tests: hand-made source rows and a table-by-table source/warehouse diff."""

from __future__ import annotations

import uuid

import psycopg
from psycopg import sql

from core.db import columns_of
from sources.registry import TABLES


def table_fingerprint(url: str, schema: str, table: str, columns: list[str]) -> tuple[int, str]:
    """(row count, md5 over the sorted md5 of every row's text form) for the given columns."""
    query = sql.SQL(
        "SELECT count(*), coalesce(md5(string_agg(h, '' ORDER BY h)), '') "
        "FROM (SELECT md5(ROW({cols})::text) AS h FROM {schema}.{table}) s"
    ).format(cols=sql.SQL(", ").join(map(sql.Identifier, columns)), schema=sql.Identifier(schema), table=sql.Identifier(table))
    with psycopg.connect(url) as conn:
        count, digest = conn.execute(query).fetchone()
    return count, digest


def diff_all(source_url: str, warehouse_url: str, tables=TABLES) -> dict[str, tuple]:
    """Tables whose raw copy differs from the source: {qualified: (source fingerprint, raw fingerprint)}."""
    differences = {}
    with psycopg.connect(source_url) as conn:
        cols = {t.qualified: [c for c, _ in columns_of(conn, t.product, t.name)] for t in tables}
    for t in tables:
        src = table_fingerprint(source_url, t.product, t.name, cols[t.qualified])
        raw = table_fingerprint(warehouse_url, t.raw_schema, t.name, cols[t.qualified])
        if src != raw:
            differences[t.qualified] = (src, raw)
    return differences


def add_mindflow_user(conn: psycopg.Connection, entries: int = 2) -> tuple[str, list[str]]:
    user_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO mindflow.users (id, email, password_hash, display_name) VALUES (%s, %s, 'x', 'Test User')",
        (user_id, f"u{user_id[:8]}@example.com"),
    )
    conn.execute("INSERT INTO mindflow.user_settings (user_id) VALUES (%s)", (user_id,))
    entry_ids = []
    for day in range(entries):
        entry_id = str(uuid.uuid4())
        conn.execute(
            """INSERT INTO mindflow.journal_entries (id, user_id, date, title, content, mood, word_count)
               VALUES (%s, %s, DATE '2025-01-01' + %s, 'A day', 'Some words about the day', 'happy', 5)""",
            (entry_id, user_id, day),
        )
        entry_ids.append(entry_id)
    return user_id, entry_ids


def add_mosaic_legacy(conn: psycopg.Connection, stories: int = 2) -> tuple[str, list[str]]:
    user_id, legacy_id = str(uuid.uuid4()), str(uuid.uuid4())
    conn.execute(
        "INSERT INTO mosaic.users (id, email, full_name) VALUES (%s, %s, 'Member')",
        (user_id, f"m{user_id[:8]}@example.com"),
    )
    conn.execute(
        "INSERT INTO mosaic.legacies (id, person_name, created_by) VALUES (%s, 'Ada', %s)", (legacy_id, user_id)
    )
    story_ids = []
    for i in range(stories):
        story_id = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO mosaic.stories (id, legacy_id, submitted_by, title, content) VALUES (%s, %s, %s, %s, 'remembered')",
            (story_id, legacy_id, user_id, f"story {i}"),
        )
        conn.execute(
            """INSERT INTO mosaic.story_plugin_metadata (story_id, plugin_id, metadata_type, metadata_value)
               VALUES (%s, 'sentiment', 'score', '{"score": 0.5}')""",
            (story_id,),
        )
        story_ids.append(story_id)
    return legacy_id, story_ids


def kill_when_flagged(child: str, args: list[str], flag, what: str, poll: float = 0.05) -> str:
    """Run `python -c child *args` from the repository; once it writes `flag` (it then hangs there),
    SIGKILL it. The flag's text."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-c", child, *args], cwd=root,
                            env={**os.environ, "PYTHONPATH": str(root)})
    try:
        deadline = time.monotonic() + 120
        while not flag.exists():
            assert proc.poll() is None, f"the child exited with {proc.returncode} before reaching {what}"
            assert time.monotonic() < deadline, f"the child never reached {what}"
            time.sleep(poll)
        note = flag.read_text()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return note
