"""Definitions of the mood area: analytics.mood_events, analytics.user_activity_events and their rollups."""

import dagster as dg

from assets.mood.assets import analytics_events, analytics_rollups, mood_hourly_job, mood_hourly_schedule

defs = dg.Definitions(
    assets=[analytics_events, analytics_rollups],
    jobs=[mood_hourly_job],
    schedules=[mood_hourly_schedule],
)
