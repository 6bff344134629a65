"""Definitions of the insights area: weekly, monthly and yearly analytics.journal_insights."""

import dagster as dg

from assets.insights.assets import (INSIGHT_ASSETS, INSIGHT_JOBS, INSIGHT_SCHEDULES, JOURNAL_INSIGHTS_TABLE,
                                   stale_insights_sensor)

defs = dg.Definitions(
    assets=[*INSIGHT_ASSETS.values(), JOURNAL_INSIGHTS_TABLE],
    jobs=list(INSIGHT_JOBS.values()),
    schedules=INSIGHT_SCHEDULES,
    sensors=[stale_insights_sensor],
)
