"""The ingest assets: graph shape, and in-process materialization against the embedded Postgres."""

from __future__ import annotations

import dagster as dg
import psycopg

from assets.ingest.definitions import POOL, defs, ingest_asset, ingest_assets, keys_of
from assets.resources import SourceDatabase, WarehouseDatabase
from sources.registry import TABLES
from test_ingest_support import add_mindflow_user, add_mosaic_legacy


def test_one_asset_per_registry_table_in_group_ingest():
    specs = {spec.key: spec for assets_def in ingest_assets for spec in assets_def.specs}
    assert set(specs) == {dg.AssetKey(t.asset_key) for t in TABLES}
    for table in TABLES:
        spec = specs[dg.AssetKey(table.asset_key)]
        assert spec.group_name == "ingest"
        assert spec.description == table.description
    for assets_def in ingest_assets:
        assert assets_def.can_subset
        node = assets_def.node_def
        assert node.pool == POOL
        assert node.retry_policy is not None and node.retry_policy.backoff == dg.Backoff.EXPONENTIAL
    assert len({key for assets_def in defs.assets for key in assets_def.keys}) == len(TABLES)


def test_materialize_reports_metadata(databases):
    with psycopg.connect(databases.source_url, autocommit=True) as conn:
        add_mindflow_user(conn, entries=2)
        add_mosaic_legacy(conn, stories=2)
    resources = {
        "source": SourceDatabase(url=databases.source_url),
        "warehouse": WarehouseDatabase(url=databases.warehouse_url),
    }
    selection = keys_of("mindflow", "mosaic")
    first = dg.materialize([ingest_asset], resources=resources, selection=selection)
    assert first.success
    by_key = {m.asset_key: m for m in first.get_asset_materialization_events() for m in [m.event_specific_data.materialization]}
    assert set(by_key) == set(selection)
    entries = by_key[dg.AssetKey(["raw_mindflow", "journal_entries"])].metadata
    assert entries["rows_inserted"].value == 2
    assert entries["dagster/row_count"].value == 2
    for name in ("rows_updated", "rows_deleted", "bytes", "cursor_lsn", "lag_bytes", "lag_seconds", "drift_events"):
        assert name in entries
    # Incremental tick of a subset: one table selected, its metadata shows the change.
    with psycopg.connect(databases.source_url, autocommit=True) as conn:
        conn.execute("UPDATE mindflow.journal_entries SET deleted_at = now()")
    second = dg.materialize(
        [ingest_asset], resources=resources, selection=[dg.AssetKey(["raw_mindflow", "journal_entries"])]
    )
    assert second.success
    mats = [e.event_specific_data.materialization for e in second.get_asset_materialization_events()]
    assert [m.asset_key for m in mats] == [dg.AssetKey(["raw_mindflow", "journal_entries"])]
    assert mats[0].metadata["rows_updated"].value == 2
    assert mats[0].metadata["cursor_lsn"].value
