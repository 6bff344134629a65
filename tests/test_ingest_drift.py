"""Schema drift: an added column appears (with metadata), a dropped or retyped column blocks only its
table with a clear message, and a resync brings it back."""

from __future__ import annotations

import dagster as dg
import psycopg

from assets.ingest.definitions import ingest_asset, keys_of
from assets.ingest.drift import compare
from assets.ingest.pipeline import resync_table, sync_all
from core.db import columns_of
from assets.resources import SourceDatabase, WarehouseDatabase
from test_ingest_support import add_mindflow_user, add_mosaic_legacy, diff_all


def test_compare_is_pure_and_classifies():
    raw = [("id", "uuid"), ("a", "text"), ("b", "integer"), ("_ingested_at", "timestamptz"), ("_source_lsn", "pg_lsn")]
    assert not compare([("id", "uuid"), ("a", "text"), ("b", "integer")], raw).any
    added = compare([("id", "uuid"), ("a", "text"), ("b", "integer"), ("c", "jsonb")], raw)
    assert added.added == (("c", "jsonb"),) and not added.blocking
    dropped = compare([("id", "uuid"), ("b", "integer")], raw)
    assert dropped.dropped == ("a",) and dropped.blocking
    retyped = compare([("id", "uuid"), ("a", "text"), ("b", "bigint")], raw)
    assert retyped.retyped == (("b", "integer", "bigint"),) and retyped.blocking
    assert "resync" in retyped.message("p.t") and "b integer -> bigint" in retyped.message("p.t")


def _resources(dbs):
    return {"source": SourceDatabase(url=dbs.source_url), "warehouse": WarehouseDatabase(url=dbs.warehouse_url)}


def test_added_column_appears_with_metadata(databases):
    src, wh = databases.source_url, databases.warehouse_url
    with psycopg.connect(src, autocommit=True) as conn:
        add_mindflow_user(conn, entries=3)
    mindflow = keys_of("mindflow")
    assert dg.materialize([ingest_asset], resources=_resources(databases), selection=mindflow).success
    with psycopg.connect(src, autocommit=True) as conn:
        conn.execute("ALTER TABLE mindflow.journal_entries ADD COLUMN sentiment numeric(4,3) DEFAULT 0.25")
        conn.execute("UPDATE mindflow.journal_entries SET sentiment = 0.9 WHERE date = '2025-01-01'")
    result = dg.materialize([ingest_asset], resources=_resources(databases), selection=mindflow)
    assert result.success
    mats = {
        e.event_specific_data.materialization.asset_key: e.event_specific_data.materialization
        for e in result.get_asset_materialization_events()
    }
    meta = mats[dg.AssetKey(["raw_mindflow", "journal_entries"])].metadata
    assert meta["drift_events"].value == [{"kind": "added", "column": "sentiment", "type": "numeric(4,3)"}]
    assert meta["full_load_rows"].value == 3  # reloaded so old rows carry their values
    with psycopg.connect(wh) as conn:
        assert ("sentiment", "numeric(4,3)") in columns_of(conn, "raw_mindflow", "journal_entries")
        values = sorted(float(v) for (v,) in conn.execute("SELECT sentiment FROM raw_mindflow.journal_entries").fetchall())
        assert values == [0.25, 0.25, 0.9]
        events = conn.execute(
            "SELECT kind, column_name FROM tessera_meta.ingest_drift_events WHERE table_name = 'journal_entries' AND kind = 'added'"
        ).fetchall()
        assert events == [("added", "sentiment")]
    # Later changes to the new column flow incrementally.
    with psycopg.connect(src, autocommit=True) as conn:
        conn.execute("UPDATE mindflow.journal_entries SET sentiment = 0.5 WHERE sentiment = 0.25")
    again = sync_all(src, wh, products=["mindflow"])
    assert again["mindflow.journal_entries"]["updated"] == 2
    from sources.registry import tables_for

    assert diff_all(src, wh, tables_for("mindflow")) == {}


def test_dropped_column_blocks_only_that_table_until_resync(databases):
    src, wh = databases.source_url, databases.warehouse_url
    with psycopg.connect(src, autocommit=True) as conn:
        add_mosaic_legacy(conn, stories=2)
    sync_all(src, wh, products=["mosaic"])
    with psycopg.connect(src, autocommit=True) as conn:
        conn.execute("ALTER TABLE mosaic.stories DROP COLUMN media_attachments")
        add_mosaic_legacy(conn, stories=1)
    result = dg.materialize([ingest_asset], resources=_resources(databases), selection=keys_of("mosaic"),
                            raise_on_error=False)
    assert not result.success
    materialized = {e.event_specific_data.materialization.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey(["raw_mosaic", "legacies"]) in materialized  # the other tables went on
    assert dg.AssetKey(["raw_mosaic", "stories"]) not in materialized
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "blocked by schema drift" in failure.event_specific_data.error.message
    with psycopg.connect(wh) as conn:
        status, reason = conn.execute(
            "SELECT status, blocked_reason FROM tessera_meta.ingest_tables WHERE product = 'mosaic' AND table_name = 'stories'"
        ).fetchone()
        assert status == "blocked"
        assert "media_attachments" in reason and "resync" in reason
        assert conn.execute("SELECT count(*) FROM raw_mosaic.legacies").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM raw_mosaic.stories").fetchone()[0] == 2  # frozen
    # A plain tick keeps it blocked and says why.
    again = sync_all(src, wh, products=["mosaic"])
    assert again["mosaic.stories"]["status"] == "blocked" and "media_attachments" in again["mosaic.stories"]["error"]
    assert again["mosaic.legacies"]["status"] == "loaded"
    # Resync: the raw table takes the source's columns and the rows come back in full.
    resynced = resync_table(src, wh, "mosaic.stories")
    assert resynced["status"] == "loaded" and resynced["full_load_rows"] == 3
    with psycopg.connect(wh) as conn:
        assert "media_attachments" not in [c for c, _ in columns_of(conn, "raw_mosaic", "stories")]
    from sources.registry import tables_for

    assert diff_all(src, wh, tables_for("mosaic")) == {}
    with psycopg.connect(src, autocommit=True) as conn:
        add_mosaic_legacy(conn, stories=1)
    assert sync_all(src, wh, products=["mosaic"])["mosaic.stories"]["inserted"] == 1


def test_retyped_column_blocks_table(databases):
    src, wh = databases.source_url, databases.warehouse_url
    with psycopg.connect(src, autocommit=True) as conn:
        add_mindflow_user(conn, entries=1)
    sync_all(src, wh, products=["mindflow"])
    with psycopg.connect(src, autocommit=True) as conn:
        conn.execute("ALTER TABLE mindflow.journal_entries ALTER COLUMN title TYPE varchar(400)")
        add_mindflow_user(conn, entries=1)
    result = sync_all(src, wh, products=["mindflow"])
    blocked = result["mindflow.journal_entries"]
    assert blocked["status"] == "blocked"
    assert "title character varying(200) -> character varying(400)" in blocked["error"]
    assert result["mindflow.users"]["inserted"] == 1 and result["mindflow.users"]["status"] == "loaded"
    # The CLI path resyncs it: the raw column takes the new type and the table is unblocked.
    from click.testing import CliRunner

    from assets.ingest.cli import ingest

    outcome = CliRunner().invoke(ingest, ["resync", "mindflow.journal_entries"])
    assert outcome.exit_code == 0, outcome.output
    assert '"status": "loaded"' in outcome.output
    with psycopg.connect(wh) as conn:
        assert ("title", "character varying(400)") in columns_of(conn, "raw_mindflow", "journal_entries")
    status = CliRunner().invoke(ingest, ["status"])
    assert "mindflow.journal_entries" in status.output and "blocked" not in status.output
