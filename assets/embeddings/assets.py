"""One asset per embedded source (keys ["vectors", <table>], group "embeddings"), each with a blocking
privacy check. The work is in store.sync_source; the assets only wire resources and report."""


import dagster as dg
from psycopg import sql

from assets.embeddings.resources import EmbeddingModel
from assets.embeddings.sources import SCHEMA, SOURCES, EmbeddedSource
from assets.embeddings.store import (
    active_model,
    ensure_vectors_schema,
    sync_source,
)
from assets.resources import WarehouseDatabase


def build_embedding_asset(source: EmbeddedSource) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(source.asset_key),
        group_name="embeddings",
        description=source.description,
        deps=[dg.AssetKey([schema, table]) for schema, table in source.upstream],
        kinds={"postgres", "pgvector"},
        # the eligibility models are dbt views (virtual assets): react to the raw tables behind them
        automation_condition=dg.AutomationCondition.eager().resolve_through_virtual(),
    )
    def _embed(context: dg.AssetExecutionContext, warehouse: WarehouseDatabase,
               embedding_model: EmbeddingModel) -> dg.MaterializeResult:
        encoder = embedding_model.get_encoder()
        context.log.info(f"embedding {source.table} with {encoder.model_id} ({encoder.dimension} dims)")
        with warehouse.connect() as conn:
            result = sync_source(conn, source, encoder, batch_docs=embedding_model.batch_docs, logger=context.log)
        return dg.MaterializeResult(metadata=embedding_metadata(result))

    return _embed


def build_privacy_check(source: EmbeddedSource) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(source.asset_key),
        name=PRIVACY_CHECK,
        blocking=True,
        description="No vector belongs to a document outside the eligible set (deleted, private, "
                    "private mode, erased owner, unapproved), and every row uses the active model.",
    )
    def _check(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
        with warehouse.connect() as conn:
            passed, metadata = evaluate_privacy(conn, source)
        return dg.AssetCheckResult(passed=passed, metadata=metadata)

    return _check


PRIVACY_CHECK = "only_eligible_documents"


def embedding_metadata(result) -> dict:
    """Materialization metadata of one embedding sync (a store.SyncResult): the asset and the live lane."""
    meta = result.metadata()
    return {
        "docs_embedded": dg.MetadataValue.int(meta["docs_embedded"]),
        "chunks": dg.MetadataValue.int(meta["chunks_embedded"]),
        "removed": dg.MetadataValue.int(meta["docs_removed"]),
        "skipped_unchanged": dg.MetadataValue.int(meta["skipped_unchanged"]),
        "model_id": dg.MetadataValue.text(meta["model_id"]),
        "docs_per_s": dg.MetadataValue.float(float(meta["docs_per_second"])),
        "eligible_docs": dg.MetadataValue.int(meta["eligible_docs"]),
        "docs_new": dg.MetadataValue.int(meta["docs_new"]),
        "docs_changed": dg.MetadataValue.int(meta["docs_changed"]),
        "metadata_refreshed": dg.MetadataValue.int(meta["metadata_refreshed"]),
        "dimension": dg.MetadataValue.int(meta["dimension"]),
        "previous_model": dg.MetadataValue.text(meta["previous_model"] or ""),
        "swapped_model": dg.MetadataValue.bool(meta["swapped_model"]),
        "old_model_rows_deleted": dg.MetadataValue.int(meta["old_model_rows_deleted"]),
        "seconds": dg.MetadataValue.float(meta["total_seconds"]),
    }


def evaluate_privacy(conn, source: EmbeddedSource) -> tuple[bool, dict]:
    """The privacy check's verdict and metadata: no vector of a document outside the eligible set, and
    every row of the active model (the check and the live lane)."""
    ensure_vectors_schema(conn)
    conn.commit()
    table = sql.Identifier(SCHEMA, source.table)
    ineligible = conn.execute(sql.SQL(
        "SELECT count(DISTINCT v.source_id) FROM {table} v"
        " WHERE v.source_id NOT IN (SELECT q.source_id FROM ({query}) q)"
    ).format(table=table, query=source.eligible_query())).fetchone()[0]
    active = active_model(conn, source)
    stray = conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE model_id IS DISTINCT FROM %s").format(table),
                         (active[0] if active else None,)).fetchone()[0]
    return ineligible == 0 and stray == 0, {"ineligible_docs": ineligible, "rows_not_of_active_model": stray,
                                            "active_model": active[0] if active else ""}


EMBEDDING_ASSETS = [build_embedding_asset(s) for s in SOURCES]
EMBEDDING_CHECKS = [build_privacy_check(s) for s in SOURCES]
