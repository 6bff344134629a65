"""Dagster assets of the mood area: thin wrappers over events.py / rollups.py / schema.py."""


from datetime import datetime, timedelta, timezone

import dagster as dg

from assets.resources import WarehouseDatabase

GROUP = "mood"
MOOD_EVENTS = dg.AssetKey(["analytics", "mood_events"])
ACTIVITY_EVENTS = dg.AssetKey(["analytics", "user_activity_events"])
MOOD_DAILY = dg.AssetKey(["analytics", "mood_daily_summary"])
WEEKLY_ACTIVITY = dg.AssetKey(["analytics", "user_weekly_activity"])
# The dbt views the events are computed from (assets.mood.events reads nothing else of the warehouse).
VIEW_DEPS = [dg.AssetKey(["eligibility", "eligible_journal_entries"]), dg.AssetKey(["eligibility", "eligible_mindflow_users"]),
             *(dg.AssetKey(["staging", f"stg_mindflow__{t}"]) for t in
               ("users", "user_settings", "journal_entries", "tags", "journal_entry_tags", "audit_logs"))]

# Daily partitions of the event tables: a partition run reconciles every entry dated that day AND applies
# every change since the last run (any day), so the hourly run of today's partition keeps everything
# current; a backfill over a range is a full reconcile of those days.
EVENTS_PARTITIONS = dg.DailyPartitionsDefinition(start_date="2020-01-01", end_offset=1, timezone="UTC")


class EventsConfig(dg.Config):
    full_refresh: bool = False


class RollupsConfig(dg.Config):
    full_refresh: bool = False


# The latest day's partition follows each ingest (its pass applies every change since the watermark,
# whatever the day), through the low-priority partitions automation; the hourly job stays the cadence
# of the rollups.
# The views are virtual assets: the condition looks through them to the raw tables they read.
EVENTS_AUTOMATION = dg.AutomationCondition.eager().resolve_through_virtual()


@dg.multi_asset(
    specs=[
        dg.AssetSpec(MOOD_EVENTS, deps=VIEW_DEPS, group_name=GROUP, automation_condition=EVENTS_AUTOMATION,
                     description="One row per live journal entry with a mood (seed 004 mood_events); "
                                 "time = journal date 00:00 UTC; mood_score label + text valence (AI-eligible only); mood_source label|inferred, text_conflict."),
        dg.AssetSpec(ACTIVITY_EVENTS, deps=VIEW_DEPS, group_name=GROUP, automation_condition=EVENTS_AUTOMATION,
                     description="User engagement events (seed 004) from audit_logs and entry timestamps, "
                                 "identity in metadata->>'event_key'."),
    ],
    partitions_def=EVENTS_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=dg.RetryPolicy(max_retries=2, delay=30),
)
def analytics_events(context: dg.AssetExecutionContext, config: EventsConfig, warehouse: WarehouseDatabase):
    from assets.mood import schema
    from assets.mood.events import maintain_events

    window = context.partition_time_window
    first, last = window.start.date(), (window.end - timedelta(days=1)).date()
    with warehouse.connect() as conn:
        result = maintain_events(conn, full=config.full_refresh, window=(first, last))
        dropped = [] if result.storage == "timescaledb" else schema.apply_native_retention(conn)
        counts = conn.execute("SELECT (SELECT count(*) FROM analytics.mood_events), "
                              "(SELECT count(*) FROM analytics.user_activity_events)").fetchone()
        conn.commit()
    meta = result.as_metadata() | {"window": f"{first}..{last}", "partitions_dropped_by_retention": len(dropped),
                                   "changed_days_sample": ", ".join(result.changed_days[:20])}
    yield dg.MaterializeResult(asset_key=MOOD_EVENTS, metadata=meta | {
        "dagster/row_count": counts[0], "inserted": result.mood_inserted, "deleted": result.mood_deleted})
    yield dg.MaterializeResult(asset_key=ACTIVITY_EVENTS, metadata=meta | {
        "dagster/row_count": counts[1], "inserted": result.activity_inserted, "deleted": result.activity_deleted})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(MOOD_DAILY, deps=[MOOD_EVENTS], group_name=GROUP,
                     description="time_bucket('1 day') rollup of mood_events (continuous aggregate or table)."),
        dg.AssetSpec(WEEKLY_ACTIVITY, deps=[ACTIVITY_EVENTS], group_name=GROUP,
                     description="time_bucket('7 days') rollup of user_activity_events (Monday weeks)."),
    ],
    # a refresh conflict is retried in place (rollups.refresh_with_retry); this covers the rest
    retry_policy=dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL),
)
def analytics_rollups(context: dg.AssetExecutionContext, config: RollupsConfig, warehouse: WarehouseDatabase):
    from assets.mood import plots, rollups, schema

    with warehouse.connect() as conn:
        caps = schema.ensure_analytics(conn)
        conn.commit()
    if caps.timescale:
        with warehouse.connect(autocommit=True) as conn:
            stats = rollups.refresh_timescale(conn, full=config.full_refresh)
    else:
        with warehouse.connect() as conn:
            stats = rollups.refresh_native(conn, full=config.full_refresh)
            conn.commit()
    with warehouse.connect() as conn:
        trend = conn.execute(
            "SELECT day, avg(avg_mood_score), sum(entry_count) FROM analytics.mood_daily_summary "
            "WHERE day >= now() - INTERVAL '60 days' GROUP BY day ORDER BY day").fetchall()
        weekly = conn.execute(
            "SELECT week::date, sum(login_count), sum(entries_created), sum(entries_updated), sum(total_events) "
            "FROM analytics.user_weekly_activity GROUP BY week ORDER BY week DESC LIMIT 8").fetchall()
        n_daily, n_weekly = conn.execute("SELECT (SELECT count(*) FROM analytics.mood_daily_summary), "
                                         "(SELECT count(*) FROM analytics.user_weekly_activity)").fetchone()
    yield dg.MaterializeResult(asset_key=MOOD_DAILY, metadata={
        "storage": caps.mode, "dagster/row_count": n_daily, **{f"refresh_{k}": str(v) for k, v in stats[MOOD_DAILY.path[-1]].items()},
        "mood_trend": dg.MetadataValue.md(plots.mood_trend_markdown(trend))})
    yield dg.MaterializeResult(asset_key=WEEKLY_ACTIVITY, metadata={
        "storage": caps.mode, "dagster/row_count": n_weekly,
        **{f"refresh_{k}": str(v) for k, v in stats[WEEKLY_ACTIVITY.path[-1]].items()},
        "recent_weeks": dg.MetadataValue.md(plots.markdown_table(
            ["week", "logins", "entries created", "entries updated", "events"], weekly))})


# Seed cadence: the continuous aggregates refresh hourly, so the hourly job maintains the events
# (today's partition + every change since the last run) and then refreshes the changed rollup buckets.
mood_hourly_job = dg.define_asset_job(
    "mood_hourly", selection=dg.AssetSelection.assets(MOOD_EVENTS, ACTIVITY_EVENTS, MOOD_DAILY, WEEKLY_ACTIVITY))


@dg.schedule(job=mood_hourly_job, cron_schedule="5 * * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING)
def mood_hourly_schedule(context: dg.ScheduleEvaluationContext):
    now = context.scheduled_execution_time or datetime.now(timezone.utc)
    key = now.astimezone(timezone.utc).date().isoformat()  # today's partition (end_offset=1 makes it exist)
    return dg.RunRequest(run_key=f"mood-hourly-{now:%Y%m%dT%H}", partition_key=key)
