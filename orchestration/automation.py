"""Automation that keeps everything current without a person.

- Ingest: a sensor on the source's change position. All products share one logical replication slot;
  the sensor peeks its first decoded changes and requests an ingest run when any product has changes
  (or nothing has been loaded yet). Runs are keyed by the slots' positions, so a position is ingested once;
  the ingest assets run in the `tessera_ingest` pool (limit 1) and the job carries a run-level
  concurrency tag, so two ingests never overlap.
- Downstream: declarative automation (AutomationCondition) on the assets themselves (read views
  eager, i.e. every tick; rollups hourly; insights after each period closes; persona nightly),
  evaluated by three automation sensors, on by default, whose runs the run queue treats differently
  (core/run_queue.py): `tessera_automation` (read views, quarantine, search, analytics: high
  priority), `tessera_embeddings_automation` (the embeddings, in runs of their own) and
  `tessera_partitions_automation` (every partitioned asset: low priority, one run at a time, so a
  burst of insight partitions at start-up cannot fill the queue).
- Intervals, for read views within 30 s of a commit: the ingest sensor peeks the slot every 5 s (one
  cheap query), the automation sensors evaluate every 10 s (partitions every 60 s).
- Retention: a daily schedule.
"""

import dagster as dg
import psycopg

from core.db import database_name
from core.run_queue import (AI_RUN_TAGS, INGEST_RUN_TAGS, PARTITION_RUN_TAGS,
                                     READ_VIEW_RUN_TAGS)
from core.embedded import database_urls
from core.settings import Settings
from quality.definitions import FRESHNESS_CHECKS
from sources.registry import PRODUCTS

INGEST_SENSOR_INTERVAL = 5
AUTOMATION_INTERVAL = 10
PARTITIONS_AUTOMATION_INTERVAL = 60
AI_GROUPS = ("embeddings",)

# The raw tables with the checks that gate them (GX suites, seed monitors), without their last-update
# freshness checks: those are evaluated by their own sensor (quality/freshness.py) and cost every ingest
# run seconds for a verdict that cannot change minutes after a materialization.
ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("ingest") - dg.AssetSelection.checks(*FRESHNESS_CHECKS),
    tags=INGEST_RUN_TAGS,
    description="One ingest tick for every product (full load first, then the change stream).",
)

retention_job = dg.define_asset_job(
    "retention_job",
    selection=dg.AssetSelection.assets(dg.AssetKey(["tessera_meta", "retention_log"])),
    description="Applies the seeds' retention rules.",
)

retention_schedule = dg.ScheduleDefinition(
    name="retention_daily", job=retention_job, cron_schedule="0 3 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


def pending_change_positions(source_url: str, warehouse_url: str) -> dict[str, str | None]:
    """{product: slot position} for products with changes waiting (None for every product when there
    is no slot yet, and for products with a table never loaded). All products share one slot: its first
    decoded changes (at most PEEK_CHANGES) are peeked and the products are read from their Relation
    messages; when changes are there but no product could be told, every product is listed. Empty when nothing waits, and when an
    ingest is reading the slot right now (peeking an active slot fails; that ingest takes the changes)."""
    from assets.ingest import state
    from assets.ingest.pgoutput import relation_namespaces

    slot, publication = state.stream_names(database_name(source_url), database_name(warehouse_url))
    with psycopg.connect(source_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT confirmed_flush_lsn::text, active FROM pg_replication_slots WHERE slot_name = %s", (slot,)
        ).fetchone()
        if row is None:
            return {product: None for product in PRODUCTS}
        if row[1]:
            return {}
        never_loaded = _products_with_pending_tables(warehouse_url)
        messages = conn.execute(
            "SELECT data FROM pg_logical_slot_peek_binary_changes(%s, NULL, %s, "
            "'proto_version', '1', 'publication_names', %s)",
            (slot, PEEK_CHANGES, publication),
        ).fetchall()
    pending: dict[str, str | None] = {product: None for product in sorted(never_loaded)}
    if not messages:
        return pending
    seen = relation_namespaces(data for (data,) in messages) & set(PRODUCTS)
    pending.update({product: row[0] for product in (sorted(seen) or PRODUCTS)})
    return pending


PEEK_CHANGES = 1000


def _products_with_pending_tables(warehouse_url: str) -> set[str]:
    """Products with a table waiting for its full load (e.g. only a subset was materialized so far)."""
    try:
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            rows = conn.execute("SELECT DISTINCT product FROM tessera_meta.ingest_tables WHERE status = 'pending'").fetchall()
    except psycopg.errors.UndefinedTable:
        return set(PRODUCTS)
    return {r[0] for r in rows if r[0] in PRODUCTS}


def ingest_run_request(pending: dict[str, str | None]) -> dg.RunRequest | None:
    if not pending:
        return None
    key = "ingest:" + ",".join(f"{p}@{pos or 'initial'}" for p, pos in sorted(pending.items()))
    return dg.RunRequest(run_key=key, tags={**INGEST_RUN_TAGS, "tessera/products": ",".join(sorted(pending))})


WAITING_STATUSES = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING]


@dg.sensor(job=ingest_job, minimum_interval_seconds=INGEST_SENSOR_INTERVAL, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Requests an ingest run when the source's change stream has something new.")
def source_changes_sensor(context: dg.SensorEvaluationContext):
    waiting = context.instance.get_runs_count(dg.RunsFilter(job_name=ingest_job.name, statuses=WAITING_STATUSES))
    if waiting:
        # a run that has not started reads the slot from its cursor when it does: it takes these changes
        return dg.SkipReason(f"{waiting} ingest run(s) waiting to start; they take the new changes")
    settings = Settings.from_env()
    source_url, warehouse_url = database_urls(settings)
    pending = pending_change_positions(source_url, warehouse_url)
    request = ingest_run_request(pending)
    if request is None:
        return dg.SkipReason("no new changes in the source")
    context.log.info("changes waiting for %s", ", ".join(sorted(pending)))
    return request


def automation_sensors(partitioned_keys) -> list[dg.AutomationConditionSensorDefinition]:
    """The three automation sensors over disjoint selections (every asset is in exactly one):
    partitioned assets, the embeddings, and the rest."""
    partitioned = dg.AssetSelection.assets(*partitioned_keys)
    ai = dg.AssetSelection.groups(*AI_GROUPS) - partitioned
    return [
        dg.AutomationConditionSensorDefinition(
            "tessera_automation", target=dg.AssetSelection.all() - partitioned - ai, run_tags=READ_VIEW_RUN_TAGS,
            default_status=dg.DefaultSensorStatus.RUNNING, minimum_interval_seconds=AUTOMATION_INTERVAL,
            description="Read views, quarantine, search and analytics: high-priority runs."),
        dg.AutomationConditionSensorDefinition(
            "tessera_embeddings_automation", target=ai, run_tags=AI_RUN_TAGS,
            default_status=dg.DefaultSensorStatus.RUNNING, minimum_interval_seconds=AUTOMATION_INTERVAL,
            description="Embeddings, in runs of their own (one at a time)."),
        dg.AutomationConditionSensorDefinition(
            "tessera_partitions_automation", target=partitioned, run_tags=PARTITION_RUN_TAGS,
            default_status=dg.DefaultSensorStatus.RUNNING, minimum_interval_seconds=PARTITIONS_AUTOMATION_INTERVAL,
            description="Partitioned assets (insight periods, snapshots, mood event days): low priority, one run at a time."),
    ]


defs = dg.Definitions(
    jobs=[ingest_job, retention_job],
    schedules=[retention_schedule],
    sensors=[source_changes_sensor],
)
