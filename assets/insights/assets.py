"""Dagster assets of the insights area: one time-partitioned asset per insight type.

All three write analytics.journal_insights (rows told apart by insight_type); their keys are
["analytics", "journal_insights", <type>]. Each partition is one period; a run replaces that period's
rows, so backfills and re-runs are idempotent. Cadence: each job runs when its period closes (Monday
03:00 UTC for the previous week, the 1st of the month, January 1st), after the hourly mood run has
caught up; the stale-insights sensor re-runs closed periods whose entries changed later (edit, soft
delete, privacy flip, account deletion), as recorded by the events maintenance.
"""

from datetime import datetime, timezone

import dagster as dg

from assets.insights.periods import INSIGHT_TYPES, partitions_def
from assets.resources import WarehouseDatabase
from core.run_queue import PARTITION_RUN_TAGS

GROUP = "insights"
MOOD_EVENTS = dg.AssetKey(["analytics", "mood_events"])
# The dbt views the insights read (assets/insights/sql): AI-eligible entries and live users.
VIEW_DEPS = [dg.AssetKey(["eligibility", "eligible_journal_entries"]), dg.AssetKey(["eligibility", "eligible_mindflow_users"])]


class InsightsConfig(dg.Config):
    use_llm: bool = False  # optional summary rewrite via TESSERA_LLM_URL (OpenAI-compatible); off by default


def insight_key(kind: str) -> dg.AssetKey:
    return dg.AssetKey(["analytics", "journal_insights", kind])


def _preview(conn, kind: str, start, end=None) -> dg.MetadataValue:
    """The five largest insights of one period (`end` narrows it to one range), as a markdown table."""
    found = conn.execute(
        "SELECT left(summary, 160), entries_analyzed, dominant_mood FROM analytics.journal_insights "
        "WHERE insight_type = %s AND start_date = %s AND (%s::date IS NULL OR end_date = %s::date) "
        "ORDER BY entries_analyzed DESC LIMIT 5", (kind, start, end, end)).fetchall()
    rows = "\n".join(f"| {n} | {m or ''} | {s.replace('|', '/')} |" for s, n, m in found)
    return dg.MetadataValue.md("| entries | dominant mood | summary |\n|---|---|---|\n" + rows)


def _make_asset(kind: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=insight_key(kind),
        group_name=GROUP,
        partitions_def=partitions_def(kind),
        deps=[dg.AssetDep(MOOD_EVENTS, partition_mapping=dg.TimeWindowPartitionMapping()), *VIEW_DEPS],
        description=f"{kind.capitalize()} journal insights per user (analytics.journal_insights, "
                    f"insight_type='{kind}'), from AI-eligible entries only.",
        retry_policy=dg.RetryPolicy(max_retries=2, delay=30),
    )
    def _insights(context: dg.AssetExecutionContext, config: InsightsConfig, warehouse: WarehouseDatabase):
        from assets.insights.build import build_period
        from assets.insights.periods import window_to_period

        start, end = window_to_period(*context.partition_time_window)
        with warehouse.connect() as conn:
            res = build_period(conn, kind, start, end, use_llm=config.use_llm)
            preview = _preview(conn, kind, start)
            conn.commit()
        return dg.MaterializeResult(metadata={
            "period": f"{start}..{end}", "dagster/row_count": res.users, "rows_replaced": res.rows_replaced,
            "purged_removed_users": res.purged_removed_users, "stale_marks_cleared": res.stale_marks_cleared,
            "preview": preview,
        })

    _insights.__name__ = f"journal_insights_{kind}"
    return _insights


INSIGHT_ASSETS = {kind: _make_asset(kind) for kind in INSIGHT_TYPES}


class CustomInsightsConfig(dg.Config):
    """A custom insight's range and users; empty dates mean the last 30 days up to today, no users all."""
    start_date: str = ""  # YYYY-MM-DD
    end_date: str = ""
    user_ids: list[str] = []
    use_llm: bool = False


CUSTOM_KEY = insight_key("custom")


@dg.asset(
    key=CUSTOM_KEY,
    group_name=GROUP,
    deps=[MOOD_EVENTS, *VIEW_DEPS],
    description="Custom-range journal insights (analytics.journal_insights, insight_type='custom', seed 004): "
                "the same figures as a period's over the range and users given in the run config (default: "
                "the last 30 days, every user), from AI-eligible entries only. Launched on request.",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=30),
)
def journal_insights_custom(context: dg.AssetExecutionContext, config: CustomInsightsConfig,
                            warehouse: WarehouseDatabase) -> dg.MaterializeResult:
    from datetime import date

    from assets.insights.build import build_custom, custom_range

    start, end = custom_range(date.fromisoformat(config.start_date) if config.start_date else None,
                              date.fromisoformat(config.end_date) if config.end_date else None,
                              datetime.now(timezone.utc).date())
    with warehouse.connect() as conn:
        res = build_custom(conn, start, end, users=config.user_ids or None, use_llm=config.use_llm)
        preview = _preview(conn, "custom", start, end)
        conn.commit()
    return dg.MaterializeResult(metadata={
        "period": f"{start}..{end}", "users_requested": len(config.user_ids) or "all",
        "dagster/row_count": res.users, "rows_replaced": res.rows_replaced,
        "preview": preview,
    })
# The table as a whole (target of table-level quality checks); it is written through its three slices.
JOURNAL_INSIGHTS_TABLE = dg.AssetSpec(
    ["analytics", "journal_insights"], deps=[*(insight_key(k) for k in INSIGHT_TYPES), CUSTOM_KEY], group_name=GROUP,
    description="analytics.journal_insights: all insight rows; materialized by its weekly, monthly and yearly "
                "partitioned slices (analytics/journal_insights/<type>) and custom ranges on request.")
# Insight period runs are cold runs: low priority, one at a time (core/run_queue.py).
INSIGHT_JOBS = {kind: dg.define_asset_job(f"insights_{kind}", selection=dg.AssetSelection.assets(insight_key(kind)),
                                          tags=PARTITION_RUN_TAGS)
                for kind in INSIGHT_TYPES}
CLOSE_CRONS = {"weekly": "0 3 * * 1", "monthly": "0 3 1 * *", "yearly": "0 3 1 1 *"}  # 3h after the period closes


def _close_schedule(kind: str) -> dg.ScheduleDefinition:
    @dg.schedule(name=f"insights_{kind}_schedule", job=INSIGHT_JOBS[kind], cron_schedule=CLOSE_CRONS[kind],
                 default_status=dg.DefaultScheduleStatus.RUNNING,
                 execution_timezone="UTC")
    def _schedule(context: dg.ScheduleEvaluationContext):
        from assets.insights.periods import closed_period_key

        now = context.scheduled_execution_time or datetime.now(timezone.utc)
        key = closed_period_key(kind, now)  # the period that just closed
        return dg.RunRequest(run_key=f"{kind}-{key}", partition_key=key)

    return _schedule


INSIGHT_SCHEDULES = [_close_schedule(k) for k in INSIGHT_TYPES]


@dg.sensor(jobs=list(INSIGHT_JOBS.values()), minimum_interval_seconds=3600,
           default_status=dg.DefaultSensorStatus.RUNNING)
def stale_insights_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseDatabase):
    """Re-run closed insight periods whose inputs changed after they were built."""
    from assets.insights.periods import stale_partitions

    today = datetime.now(timezone.utc).date()
    with warehouse.connect() as conn:
        stale = stale_partitions(conn, closed_before=today)
        stamp = conn.execute("SELECT coalesce(max(marked_at)::text, '') FROM analytics._insight_dirty").fetchone()[0] \
            if any(stale.values()) else ""
    requests = [dg.RunRequest(run_key=f"stale:{kind}:{key}:{stamp}", job_name=f"insights_{kind}", partition_key=key)
                for kind, keys in stale.items() for key in keys]
    if not requests:
        return dg.SkipReason("no closed insight period changed since it was built")
    return requests
