"""Data-quality definitions: GX suites as asset checks on every raw, mart, analytics and vector table,
the seeds' monitors, the quarantine asset and its guard, and freshness on every source copy and mart.

Checks target assets other areas define (merged in orchestration/definitions.py); a table not built
yet reports "table not built yet" as a WARN failure."""

import dagster as dg

from quality.assets import all_rule_breaks_quarantined, quarantine
from quality.checks import all_monitor_checks, all_suite_checks
from quality.freshness import freshness_checks, freshness_sensor

FRESHNESS_CHECKS = freshness_checks()  # evaluated by their sensor, not in the ingest runs

defs = dg.Definitions(
    assets=[quarantine],
    asset_checks=[*all_suite_checks(), *all_monitor_checks(), all_rule_breaks_quarantined, *FRESHNESS_CHECKS],
    sensors=[freshness_sensor(FRESHNESS_CHECKS)],
)
