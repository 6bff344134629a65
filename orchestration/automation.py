"""Automation that keeps everything current without a person.

- Ingest: a sensor on the source's change position. Each product has a logical replication slot; the
  sensor peeks one decoded change per slot and requests an ingest run when any product has changes
  (or has never been loaded). Runs are keyed by the slots' positions, so a position is ingested once;
  the ingest assets run in the `tessera_ingest` pool (limit 1) and the job carries a run-level
  concurrency tag, so two ingests never overlap.
- Downstream: declarative automation (AutomationCondition) on the assets themselves (read views
  eager, i.e. every tick; rollups hourly; insights after each period closes; persona nightly),
  evaluated by one automation sensor that is on by default.
- Retention: a daily schedule.
"""

import dagster as dg
import psycopg

from orchestration.settings import Settings
from sources.registry import PRODUCTS

INGEST_CONCURRENCY_TAG = {"tessera/concurrency": "ingest"}

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("ingest"),
    tags=INGEST_CONCURRENCY_TAG,
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


def _dbname(url: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(url).get("dbname") or ""


def pending_change_positions(source_url: str, warehouse_url: str) -> dict[str, str | None]:
    """{product: slot position} for products with changes waiting (None: no slot yet, i.e. never
    loaded). Products with nothing to ingest are absent, and so are products whose slot an ingest is
    reading right now (peeking an active slot fails; that ingest will take the changes)."""
    from assets.ingest import state

    pending: dict[str, str | None] = {}
    with psycopg.connect(source_url, autocommit=True) as conn:
        for product in PRODUCTS:
            slot, publication = state.stream_names(_dbname(source_url), _dbname(warehouse_url), product)
            row = conn.execute(
                "SELECT confirmed_flush_lsn::text, active FROM pg_replication_slots WHERE slot_name = %s", (slot,)
            ).fetchone()
            if row is None:
                pending[product] = None
                continue
            if row[1]:
                continue
            has_change = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_logical_slot_peek_binary_changes(%s, NULL, 1, "
                "'proto_version', '1', 'publication_names', %s))",
                (slot, publication),
            ).fetchone()[0]
            if has_change:
                pending[product] = row[0]
    return pending


def ingest_run_request(pending: dict[str, str | None]) -> dg.RunRequest | None:
    if not pending:
        return None
    key = "ingest:" + ",".join(f"{p}@{pos or 'initial'}" for p, pos in sorted(pending.items()))
    return dg.RunRequest(run_key=key, tags={**INGEST_CONCURRENCY_TAG, "tessera/products": ",".join(sorted(pending))})


@dg.sensor(job=ingest_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Requests an ingest run when the source's change stream has something new.")
def source_changes_sensor(context: dg.SensorEvaluationContext):
    settings = Settings.from_env()
    source_url, warehouse_url = settings.database_urls()
    pending = pending_change_positions(source_url, warehouse_url)
    request = ingest_run_request(pending)
    if request is None:
        return dg.SkipReason("no new changes in the source")
    context.log.info("changes waiting for %s", ", ".join(sorted(pending)))
    return request


automation_sensor = dg.AutomationConditionSensorDefinition(
    "tessera_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)

defs = dg.Definitions(
    jobs=[ingest_job, retention_job],
    schedules=[retention_schedule],
    sensors=[source_changes_sensor, automation_sensor],
)
