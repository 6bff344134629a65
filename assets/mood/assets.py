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
    window = context.partition_time_window
    first, last = window.start.date(), (window.end - timedelta(days=1)).date()
    for key, metadata in maintain_events_pass(warehouse.connect, full=config.full_refresh, window=(first, last)).items():
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)


def maintain_events_pass(connect, *, full: bool, window: tuple, overlap: timedelta | None = None) -> dict[dg.AssetKey, dict]:
    """One events pass (assets.mood.events.maintain_events plus native retention) in its own transaction;
    the materialization metadata of each event table. `connect(autocommit=...)` opens a warehouse
    connection (WarehouseDatabase.connect, or core.db.connect bound to an URL: the live lane); `overlap`
    overrides events.OVERLAP (how far before the watermark changes are re-read)."""
    from assets.mood import schema
    from assets.mood.events import maintain_events

    first, last = window
    with connect() as conn:
        extra = {} if overlap is None else {"overlap": overlap}
        result = maintain_events(conn, full=full, window=(first, last), **extra)
        dropped = [] if result.storage == "timescaledb" else schema.apply_native_retention(conn)
        counts = conn.execute("SELECT (SELECT count(*) FROM analytics.mood_events), "
                              "(SELECT count(*) FROM analytics.user_activity_events)").fetchone()
        conn.commit()
    return events_metadata(result, window, len(dropped), counts)


def events_metadata(result, window: tuple, dropped: int, counts: tuple[int, int]) -> dict[dg.AssetKey, dict]:
    """Materialization metadata of the two event tables after one pass (pure)."""
    first, last = window
    meta = result.as_metadata() | {"window": f"{first}..{last}", "partitions_dropped_by_retention": dropped,
                                   "changed_days_sample": ", ".join(result.changed_days[:20])}
    return {
        MOOD_EVENTS: meta | {"dagster/row_count": counts[0], "inserted": result.mood_inserted, "deleted": result.mood_deleted},
        ACTIVITY_EVENTS: meta | {"dagster/row_count": counts[1], "inserted": result.activity_inserted,
                                 "deleted": result.activity_deleted},
    }


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
    for key, metadata in refresh_rollups_pass(warehouse.connect, full=config.full_refresh).items():
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)


def refresh_rollups_pass(connect, *, full: bool) -> dict[dg.AssetKey, dict]:
    """Refresh the changed rollup buckets (continuous aggregates or native tables); the materialization
    metadata of each rollup. `connect` as in maintain_events_pass."""
    from assets.mood import rollups, schema

    with connect() as conn:
        caps = schema.ensure_analytics(conn)
        conn.commit()
    if caps.timescale:
        with connect(autocommit=True) as conn:
            stats = rollups.refresh_timescale(conn, full=full)
    else:
        with connect() as conn:
            stats = rollups.refresh_native(conn, full=full)
            conn.commit()
    with connect() as conn:
        trend = conn.execute(
            "SELECT day, avg(avg_mood_score), sum(entry_count) FROM analytics.mood_daily_summary "
            "WHERE day >= now() - INTERVAL '60 days' GROUP BY day ORDER BY day").fetchall()
        weekly = conn.execute(
            "SELECT week::date, sum(login_count), sum(entries_created), sum(entries_updated), sum(total_events) "
            "FROM analytics.user_weekly_activity GROUP BY week ORDER BY week DESC LIMIT 8").fetchall()
        n_daily, n_weekly = conn.execute("SELECT (SELECT count(*) FROM analytics.mood_daily_summary), "
                                         "(SELECT count(*) FROM analytics.user_weekly_activity)").fetchone()
    return rollups_metadata(caps.mode, stats, trend, weekly, (n_daily, n_weekly))


def rollups_metadata(mode: str, stats: dict, trend: list, weekly: list, counts: tuple[int, int]) -> dict[dg.AssetKey, dict]:
    """Materialization metadata of the two rollups after one refresh (pure)."""
    from assets.mood import plots

    return {
        MOOD_DAILY: {
            "storage": mode, "dagster/row_count": counts[0],
            **{f"refresh_{k}": str(v) for k, v in stats[MOOD_DAILY.path[-1]].items()},
            "mood_trend": dg.MetadataValue.md(plots.mood_trend_markdown(trend))},
        WEEKLY_ACTIVITY: {
            "storage": mode, "dagster/row_count": counts[1],
            **{f"refresh_{k}": str(v) for k, v in stats[WEEKLY_ACTIVITY.path[-1]].items()},
            "recent_weeks": dg.MetadataValue.md(plots.markdown_table(
                ["week", "logins", "entries created", "entries updated", "events"], weekly))},
    }


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
