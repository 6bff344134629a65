"""Definitions of the ingest area: one multi-asset (`ingest`) over every registry table, one AssetSpec each.

One asset because the change stream is one publication and one slot for all products: a tick decodes
the WAL once. Keys mirror the warehouse ([raw_<product>, <table>]); descriptions come from the registry;
any subset can be materialized. It runs in the `tessera_ingest` pool (set its limit to 1 on the instance
so two ingests never overlap; a warehouse advisory lock per stream also guarantees it) and retries
transient errors (dropped connections, a restarting server) with exponential backoff; errors retrying
cannot fix (no logical decoding, a missing privilege or extension, a bad setting: assets/ingest/errors.py)
fail the step at once with their message. A table blocked by schema drift is not materialized and fails
the step with the reason (no retry), after every other table has materialized.
"""


import dagster as dg

from assets.resources import SourceDatabase, WarehouseDatabase
from sources.registry import TABLES, get_table

POOL = "tessera_ingest"
RETRY = dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def table_metadata(result: dict) -> dict:
    """Materialization metadata for one table's tick (pure: tested without Dagster)."""
    events = result.get("drift_events") or []
    metadata = {
        "mode": result["mode"],
        "rows_inserted": dg.MetadataValue.int(result["inserted"]),
        "rows_updated": dg.MetadataValue.int(result["updated"]),
        "rows_deleted": dg.MetadataValue.int(result["deleted"]),
        "bytes": dg.MetadataValue.int(result["bytes"]),
        "cursor_lsn": dg.MetadataValue.text(result["cursor_lsn"] or ""),
        "lag_bytes": dg.MetadataValue.int(result["lag_bytes"]),
        "lag_seconds": dg.MetadataValue.float(float(result["lag_seconds"])),
        "dagster/row_count": dg.MetadataValue.int(result["row_count"] or 0),
        "drift_events": dg.MetadataValue.json(events),
    }
    if result.get("full_load_rows"):
        metadata["full_load_rows"] = dg.MetadataValue.int(result["full_load_rows"])
        metadata["full_load_seconds"] = dg.MetadataValue.float(float(result["full_load_seconds"]))
    if result.get("truncated"):
        metadata["truncates"] = dg.MetadataValue.int(result["truncated"])
    return metadata


def build_ingest_asset() -> dg.AssetsDefinition:
    """One multi-asset for every registry table: a tick decodes the shared change stream once, whatever
    the selection. Each table stays its own asset in the UI; outputs are optional, so a table blocked by
    schema drift is not materialized (the step then fails with the reasons) while the others are."""
    specs = [
        dg.AssetSpec(
            key=table.asset_key,
            description=table.description or f"Raw copy of {table.qualified}",
            group_name="ingest",
            kinds={"postgres"},
            skippable=True,
            metadata={"source_table": table.qualified, "primary_key": ", ".join(table.key)},
        )
        for table in TABLES
    ]

    @dg.multi_asset(
        name="ingest",
        specs=specs,
        can_subset=True,
        pool=POOL,
        retry_policy=RETRY,
        description="Change capture of the products' schemas into raw_<product> (full load, then logical "
        "decoding of one shared publication and slot).",
    )
    def _ingest(context: dg.AssetExecutionContext, source: SourceDatabase, warehouse: WarehouseDatabase):
        from assets.ingest.errors import classify
        from assets.ingest.pipeline import sync
        from assets.ingest.state import StreamBusy

        selected = sorted(".".join(key.path).removeprefix("raw_") for key in context.selected_asset_keys)
        context.log.info(f"ingest tick: {len(selected)} table(s)")
        timings: dict = {}
        try:
            results = sync(source.get_url(), warehouse.get_url(), tables=selected, timings=timings)
        except StreamBusy as exc:
            # `tessera live` applies the changes and reports their materializations itself.
            context.log.info(f"{exc}: nothing materialized by this run")
            return
        except Exception as exc:
            reason = classify(exc)
            if reason is None:
                raise  # transient: the retry policy takes it
            raise dg.Failure(description=reason, allow_retries=False) from exc
        context.log.info("ingest tick phases (s): " + ", ".join(f"{k} {v}" for k, v in timings.items()))
        blocked = []
        for qualified, result in results.items():
            data = result.as_dict()
            if data["status"] == "blocked":
                context.log.error(data["error"])
                blocked.append(data["error"])
                continue
            yield dg.MaterializeResult(asset_key=dg.AssetKey(get_table(qualified).asset_key), metadata=table_metadata(data))
        if blocked:
            raise dg.Failure(
                description=f"{len(blocked)} table(s) blocked by schema drift",
                metadata={"blocked": dg.MetadataValue.md("\n".join(f"- {b}" for b in blocked))},
                allow_retries=False,
            )

    return _ingest


ingest_asset = build_ingest_asset()
ingest_assets = [ingest_asset]


def keys_of(*products: str) -> list[dg.AssetKey]:
    """Asset keys of the given products' tables (a selection of the ingest asset)."""
    return [dg.AssetKey(t.asset_key) for t in TABLES if t.product in products]


defs = dg.Definitions(assets=ingest_assets)
