"""Definitions of the ingest area: one multi-asset per product, one AssetSpec per registry table.

Keys mirror the warehouse ([raw_<product>, <table>]); descriptions come from the registry. Every
product's asset runs in the `tessera_ingest` pool (set its limit to 1 on the instance so two ingests
never overlap; a warehouse advisory lock per product also guarantees it) and retries transient errors
(dropped connections, a restarting server) with exponential backoff. A table blocked by schema drift
fails its asset with the reason, after the product's other tables have materialized.
"""


import dagster as dg

from orchestration.resources import SourceDatabase, WarehouseDatabase
from sources.registry import PRODUCTS, tables_for

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


def build_product_asset(product: str) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            key=table.asset_key,
            description=table.description or f"Raw copy of {table.qualified}",
            group_name="ingest",
            kinds={"postgres"},
            metadata={"source_table": table.qualified, "primary_key": ", ".join(table.key)},
        )
        for table in tables_for(product)
    ]

    @dg.multi_asset(
        name=f"ingest_{product}",
        specs=specs,
        can_subset=True,
        pool=POOL,
        retry_policy=RETRY,
        description=f"Change capture of the {product} schema into raw_{product} (full load, then logical decoding).",
    )
    def _ingest(context: dg.AssetExecutionContext, source: SourceDatabase, warehouse: WarehouseDatabase):
        from assets.ingest.pipeline import sync_product

        selected = [key.path[-1] for key in context.selected_asset_keys]
        context.log.info(f"ingest tick for {product}: {len(selected)} table(s)")
        results = sync_product(source.get_url(), warehouse.get_url(), product, tables=selected)
        blocked = []
        for name, result in results.items():
            data = result.as_dict()
            if data["status"] == "blocked":
                context.log.error(data["error"])
                blocked.append(data["error"])
                continue
            yield dg.MaterializeResult(asset_key=dg.AssetKey([f"raw_{product}", name]), metadata=table_metadata(data))
        if blocked:
            raise dg.Failure(
                description=f"{len(blocked)} {product} table(s) blocked by schema drift",
                metadata={"blocked": dg.MetadataValue.md("\n".join(f"- {b}" for b in blocked))},
                allow_retries=False,
            )

    return _ingest


ingest_assets = [build_product_asset(product) for product in PRODUCTS]

defs = dg.Definitions(assets=ingest_assets)
