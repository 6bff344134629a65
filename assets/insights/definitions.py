"""Definitions of the insights area: weekly, monthly, yearly and custom analytics.journal_insights."""

import dagster as dg

from assets.insights.assets import (INSIGHT_ASSETS, INSIGHT_JOBS, INSIGHT_SCHEDULES, JOURNAL_INSIGHTS_TABLE,
                                   journal_insights_custom, stale_insights_sensor)

defs = dg.Definitions(
    assets=[*INSIGHT_ASSETS.values(), journal_insights_custom, JOURNAL_INSIGHTS_TABLE],
    jobs=list(INSIGHT_JOBS.values()),
    schedules=INSIGHT_SCHEDULES,
    sensors=[stale_insights_sensor],
)
