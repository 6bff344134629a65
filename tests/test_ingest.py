"""Ingest: full load, incremental change capture (updates, soft and hard deletes, cascades, late commits,
unchanged TOAST values), exactly-once bookkeeping. Real embedded Postgres, hand-made rows."""

from __future__ import annotations

import random
import string

import psycopg

from assets.ingest.pipeline import sync_all, sync_product
from sources.registry import tables_for
from test_ingest_support import add_mindflow_user, add_mosaic_legacy, diff_all


def _raw_count(url, table, where="true", params=()):
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()[0]


def test_full_load_copies_every_table_with_layout(databases):
    with psycopg.connect(databases.source_url, autocommit=True) as conn:
        add_mindflow_user(conn, entries=3)
        add_mosaic_legacy(conn, stories=2)
    results = sync_all(databases.source_url, databases.warehouse_url)
    assert results["mindflow.journal_entries"]["mode"] in ("full", "full+incremental")
    assert results["mindflow.journal_entries"]["row_count"] == 3
    assert results["mosaic.stories"]["full_load_rows"] == 2
    assert diff_all(databases.source_url, databases.warehouse_url) == {}
    with psycopg.connect(databases.source_url) as src, psycopg.connect(databases.warehouse_url) as wh:
        from core.db import columns_of

        source_cols = columns_of(src, "mindflow", "journal_entries")
        raw_cols = columns_of(wh, "raw_mindflow", "journal_entries")
        assert raw_cols == source_cols + [("_ingested_at", "timestamp with time zone"), ("_source_lsn", "pg_lsn")]
        pk = wh.execute(
            """SELECT array_agg(a.attname ORDER BY a.attname) FROM pg_index i
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                WHERE i.indrelid = 'raw_mosaic.story_mentions'::regclass AND i.indisprimary"""
        ).fetchone()[0]
        assert pk == ["person_id", "story_id"]
        assert wh.execute("SELECT count(*) FROM raw_mindflow.journal_entries WHERE _source_lsn IS NULL").fetchone()[0] == 0


def test_incremental_updates_soft_and_hard_deletes_and_cascades(databases):
    src_url, wh_url = databases.source_url, databases.warehouse_url
    with psycopg.connect(src_url, autocommit=True) as conn:
        user_id, entries = add_mindflow_user(conn, entries=3)
        legacy_id, stories = add_mosaic_legacy(conn, stories=3)
    first = sync_all(src_url, wh_url)
    assert first["mosaic.story_plugin_metadata"]["row_count"] == 3
    with psycopg.connect(src_url, autocommit=True) as conn:
        conn.execute("UPDATE mindflow.journal_entries SET title = 'edited', version = version + 1 WHERE id = %s", (entries[0],))
        conn.execute("UPDATE mindflow.journal_entries SET deleted_at = now() WHERE id = %s", (entries[1],))
        conn.execute("DELETE FROM mindflow.journal_entries WHERE id = %s", (entries[2],))
        conn.execute("DELETE FROM mosaic.stories WHERE id = %s", (stories[0],))  # cascades to plugin metadata
        conn.execute("UPDATE mosaic.users SET full_name = 'Renamed'")
        add_mindflow_user(conn, entries=1)
    second = sync_all(src_url, wh_url)
    entries_result = second["mindflow.journal_entries"]
    assert entries_result["mode"] == "incremental"
    assert (entries_result["inserted"], entries_result["updated"], entries_result["deleted"]) == (1, 2, 1)
    assert second["mosaic.story_plugin_metadata"]["deleted"] == 1  # the cascade arrived
    assert second["mosaic.story_plugin_metadata"]["row_count"] == 2
    assert _raw_count(wh_url, "raw_mindflow.journal_entries", "id = %s", (entries[2],)) == 0
    assert _raw_count(wh_url, "raw_mindflow.journal_entries", "id = %s AND deleted_at IS NOT NULL", (entries[1],)) == 1
    assert _raw_count(wh_url, "raw_mindflow.journal_entries", "title = 'edited' AND version = 2") == 1
    assert diff_all(src_url, wh_url) == {}
    # An account deletion that cascades through a whole user: users, settings, entries all go.
    with psycopg.connect(src_url, autocommit=True) as conn:
        conn.execute("DELETE FROM mindflow.users WHERE id = %s", (user_id,))
        conn.execute("DELETE FROM mosaic.legacies WHERE id = %s", (legacy_id,))
    third = sync_all(src_url, wh_url)
    assert third["mosaic.stories"]["deleted"] == 2
    assert _raw_count(wh_url, "raw_mindflow.user_settings", "user_id = %s", (user_id,)) == 0
    assert diff_all(src_url, wh_url) == {}
    # Nothing new: an incremental tick changes nothing and reports zero.
    fourth = sync_all(src_url, wh_url)
    assert sum(r["inserted"] + r["updated"] + r["deleted"] for r in fourth.values()) == 0


def test_tick_reports_its_phases(databases):
    """The tick's seconds by phase (Dagster logs them; `tessera bench ingest` builds its floor from them):
    a first tick is a full load with nothing to apply, a later one applies through SQL and loads nothing."""
    src_url, wh_url = databases.source_url, databases.warehouse_url
    with psycopg.connect(src_url, autocommit=True) as conn:
        _user_id, entries = add_mindflow_user(conn, entries=4)
    first: dict = {}
    sync_all(src_url, wh_url, timings=first)
    assert set(first) == {"total_s", "plan_s", "full_loads_s", "change_stream_s", "decode_s", "apply_sql_s", "advance_s"}
    assert first["full_loads_s"] > 0 and first["apply_sql_s"] == 0
    with psycopg.connect(src_url, autocommit=True) as conn:
        conn.execute("UPDATE mindflow.journal_entries SET title = 'phase' WHERE id = ANY(%s)", (entries,))
    second: dict = {}
    results = sync_all(src_url, wh_url, timings=second)
    assert results["mindflow.journal_entries"]["updated"] == 4
    assert second["full_loads_s"] == 0 and second["apply_sql_s"] > 0
    assert second["total_s"] >= second["change_stream_s"] >= second["apply_sql_s"]


def test_late_commit_of_long_transaction_arrives(databases):
    """A transaction that wrote first but commits after a later one (and after a sync) still arrives."""
    src_url, wh_url = databases.source_url, databases.warehouse_url
    with psycopg.connect(src_url, autocommit=True) as conn:
        add_mindflow_user(conn, entries=1)
    sync_all(src_url, wh_url)
    long_tx = psycopg.connect(src_url)
    try:
        user_id, _ = add_mindflow_user(long_tx, entries=2)  # written, not committed
        with psycopg.connect(src_url, autocommit=True) as conn:
            add_mindflow_user(conn, entries=1)  # later transaction, committed first
        middle = sync_all(src_url, wh_url, products=["mindflow"])
        assert middle["mindflow.users"]["row_count"] == 2
        long_tx.commit()
    finally:
        long_tx.close()
    sync_all(src_url, wh_url)
    assert _raw_count(wh_url, "raw_mindflow.users", "id = %s", (user_id,)) == 1
    assert diff_all(src_url, wh_url) == {}


def test_unchanged_toast_value_is_kept(databases):
    src_url, wh_url = databases.source_url, databases.warehouse_url
    rng = random.Random(3)
    big = "".join(rng.choice(string.ascii_letters + " ") for _ in range(9000))  # incompressible: TOASTed
    with psycopg.connect(src_url, autocommit=True) as conn:
        _, entries = add_mindflow_user(conn, entries=1)
        sync_all(src_url, wh_url, products=["mindflow"])
        conn.execute("UPDATE mindflow.journal_entries SET content = %s WHERE id = %s", (big, entries[0]))
        conn.execute("UPDATE mindflow.journal_entries SET title = 'title only' WHERE id = %s", (entries[0],))
    sync_product(src_url, wh_url, "mindflow")
    with psycopg.connect(wh_url) as wh:
        title, content = wh.execute("SELECT title, content FROM raw_mindflow.journal_entries WHERE id = %s", (entries[0],)).fetchone()
    assert (title, content) == ("title only", big)
    # Title-only update in a later tick: the 'u' (unchanged) marker must not wipe the stored content.
    with psycopg.connect(src_url, autocommit=True) as conn:
        conn.execute("UPDATE mindflow.journal_entries SET mood = 'sad' WHERE id = %s", (entries[0],))
    sync_product(src_url, wh_url, "mindflow")
    with psycopg.connect(wh_url) as wh:
        mood, content = wh.execute("SELECT mood, content FROM raw_mindflow.journal_entries WHERE id = %s", (entries[0],)).fetchone()
    assert (mood, content) == ("sad", big)
    assert diff_all(src_url, wh_url, tables_for("mindflow")) == {}


def test_cursor_and_slot_bookkeeping(databases):
    src_url, wh_url = databases.source_url, databases.warehouse_url
    with psycopg.connect(src_url, autocommit=True) as conn:
        add_mindflow_user(conn)
    sync_all(src_url, wh_url, products=["mindflow"])
    with psycopg.connect(src_url, autocommit=True) as conn:
        add_mindflow_user(conn)
    result = sync_all(src_url, wh_url, products=["mindflow"])
    with psycopg.connect(wh_url) as wh:
        slot, cursor, end = wh.execute(
            "SELECT slot_name, cursor_lsn::text, cursor_end_lsn::text FROM tessera_meta.ingest_stream WHERE source_database = %s",
            (databases.source_db,),
        ).fetchone()
        runs = wh.execute("SELECT count(*) FROM tessera_meta.ingest_runs WHERE product = 'mindflow'").fetchone()[0]
        newest = wh.execute("SELECT max(_source_lsn)::text FROM raw_mindflow.journal_entries").fetchone()[0]  # last commit
    assert result["mindflow.users"]["cursor_lsn"] == cursor == newest
    assert runs == 2
    with psycopg.connect(src_url) as conn:
        confirmed = conn.execute(
            "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s", (slot,)
        ).fetchone()[0]
        assert conn.execute("SELECT %s::pg_lsn >= %s::pg_lsn", (confirmed, end)).fetchone()[0]


def test_one_shared_slot_drained_past_the_full_load_and_legacy_slots_dropped(databases, monkeypatch):
    """All products share one publication and one slot per (source, warehouse) pair; the first design's
    per-product slot and publication are dropped; the full-load tick leaves the slot past the WAL the
    loads themselves wrote, so the next tick only decodes what came after; every raw table has its
    _ingested_at index."""
    from assets.ingest import fullload, state
    from sources.registry import PRODUCTS, TABLES

    src_url, wh_url = databases.source_url, databases.warehouse_url
    legacy_slot, legacy_pub = state.legacy_stream_names(databases.source_db, databases.warehouse_db, "mindflow")
    with psycopg.connect(src_url, autocommit=True) as conn:
        conn.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (legacy_slot,))
        conn.execute(f'CREATE PUBLICATION "{legacy_pub}" FOR TABLES IN SCHEMA mindflow')
        add_mindflow_user(conn, entries=2)
        add_mosaic_legacy(conn, stories=2)
    after_loads = []
    real_load = fullload.load_table

    def load_and_note(src, wh, *args, **kwargs):
        loaded = real_load(src, wh, *args, **kwargs)
        after_loads.append(wh.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0])
        return loaded

    monkeypatch.setattr(fullload, "load_table", load_and_note)
    first = sync_all(src_url, wh_url)
    assert len(after_loads) == len(TABLES)
    slot, publication = state.stream_names(databases.source_db, databases.warehouse_db)
    with psycopg.connect(src_url) as conn:
        slots = [r[0] for r in conn.execute(
            "SELECT slot_name FROM pg_replication_slots WHERE database = current_database()").fetchall()]
        assert slots == [slot]
        pubs = [r[0] for r in conn.execute("SELECT pubname FROM pg_publication").fetchall()]
        assert pubs == [publication]
        schemas = {r[0] for r in conn.execute(
            "SELECT pn.pnnspid::regnamespace::text FROM pg_publication_namespace pn "
            "JOIN pg_publication p ON p.oid = pn.pnpubid WHERE p.pubname = %s",
            (publication,)).fetchall()}
        assert schemas == set(PRODUCTS)
        confirmed = conn.execute(
            "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s", (slot,)
        ).fetchone()[0]
        past = conn.execute(
            "SELECT bool_and(%s::pg_lsn >= l::pg_lsn) FROM unnest(%s::text[]) AS l", (confirmed, after_loads)
        ).fetchone()[0]
        assert past, (confirmed, after_loads[-1])
    assert all(r["mode"] in ("full", "full+incremental") for r in first.values())
    with psycopg.connect(wh_url) as wh:
        indexed = {r[0] for r in wh.execute(
            "SELECT schemaname || '.' || indexname FROM pg_indexes WHERE indexname LIKE '%%\\_\\_ingested\\_at'"
        ).fetchall()}
    assert indexed == {f"{t.raw_schema}.{t.name}__ingested_at" for t in TABLES}
    # Nothing changed: a quiet tick applies nothing.
    quiet = sync_all(src_url, wh_url)
    assert {r["mode"] for r in quiet.values()} == {"none"}


def test_row_counts_stay_exact_through_changes_and_truncate(databases):
    from core.db import count_rows
    from sources.registry import get_table

    src_url, wh_url = databases.source_url, databases.warehouse_url
    with psycopg.connect(src_url, autocommit=True) as conn:
        _, entries = add_mindflow_user(conn, entries=4)
        add_mosaic_legacy(conn, stories=3)
    sync_all(src_url, wh_url)
    with psycopg.connect(src_url, autocommit=True) as conn:
        add_mindflow_user(conn, entries=2)
        conn.execute("DELETE FROM mindflow.journal_entries WHERE id = %s", (entries[0],))
        conn.execute("UPDATE mindflow.journal_entries SET mood = 'sad' WHERE id = %s", (entries[1],))
        conn.execute("TRUNCATE mosaic.story_plugin_metadata")
    results = sync_all(src_url, wh_url)
    assert results["mosaic.story_plugin_metadata"]["truncated"] == 1
    with psycopg.connect(wh_url) as wh:
        for qualified, result in results.items():
            table = get_table(qualified)
            assert result["row_count"] == count_rows(wh, table.raw_schema, table.name), qualified
    assert results["mindflow.journal_entries"]["row_count"] == 5
    assert results["mosaic.story_plugin_metadata"]["row_count"] == 0
    assert diff_all(src_url, wh_url) == {}


def test_sensor_positions_name_the_products_with_changes(databases):
    from orchestration.automation import pending_change_positions

    src_url, wh_url = databases.source_url, databases.warehouse_url
    assert set(pending_change_positions(src_url, wh_url)) == {"mindflow", "mosaic", "personakit", "coach", "devassist"}
    sync_all(src_url, wh_url)
    assert pending_change_positions(src_url, wh_url) == {}
    with psycopg.connect(src_url, autocommit=True) as conn:
        add_mosaic_legacy(conn, stories=1)
        add_mindflow_user(conn, entries=1)
    pending = pending_change_positions(src_url, wh_url)
    assert set(pending) == {"mindflow", "mosaic"} and all(pending.values())
    sync_all(src_url, wh_url)
    assert pending_change_positions(src_url, wh_url) == {}
