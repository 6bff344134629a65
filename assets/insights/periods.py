"""Insight periods as Dagster time partitions, and the mapping from changed days to stale partitions.

- weekly: WeeklyPartitionsDefinition starting Monday 2020-01-06 with day_offset=1, so a week is
  Monday..Sunday: the same weeks as user_weekly_activity's time_bucket('7 days') (origin 2000-01-03).
- monthly: MonthlyPartitionsDefinition from 2020-01-01.
- yearly: TimeWindowPartitionsDefinition(cron '0 0 1 1 *') from 2020-01-01.
2020 is the seed's lower bound for calendar data (mood_calendar_cache: year >= 2020). A partition key
is the period's first day (YYYY-MM-DD).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from psycopg import sql

from assets.mood import schema

START = "2020-01-01"
WEEKLY_START = "2020-01-06"  # a Monday
INSIGHT_TYPES = ("weekly", "monthly", "yearly")


def partitions_def(insight_type: str):
    import dagster as dg

    if insight_type == "weekly":
        return dg.WeeklyPartitionsDefinition(start_date=WEEKLY_START, day_offset=1, timezone="UTC")
    if insight_type == "monthly":
        return dg.MonthlyPartitionsDefinition(start_date=START, timezone="UTC")
    if insight_type == "yearly":
        return dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", start=START, fmt="%Y-%m-%d",
                                                 timezone="UTC")
    raise ValueError(insight_type)


def period_of(insight_type: str, day: date) -> tuple[date, date]:
    """[start, end] (inclusive) of the period holding `day`."""
    if insight_type == "weekly":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if insight_type == "monthly":
        start = day.replace(day=1)
        nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return start, nxt - timedelta(days=1)
    if insight_type == "yearly":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    raise ValueError(insight_type)


def closed_period_key(insight_type: str, now: datetime) -> str:
    """Partition key of the latest period that has fully ended at `now` (UTC)."""
    current_start = period_of(insight_type, now.date())[0]
    return period_of(insight_type, current_start - timedelta(days=1))[0].isoformat()


def window_to_period(start: datetime, end: datetime) -> tuple[date, date]:
    """A Dagster time window [start, end) to the inclusive dates stored in journal_insights."""
    return start.date(), (end - timedelta(days=1)).date()


def stale_partitions(conn, closed_before: date | None = None) -> dict[str, list[str]]:
    """Partition keys whose inputs changed since they were last built (from analytics._insight_dirty).

    With `closed_before`, only periods that ended before that day (open periods are built by the
    schedule when they close)."""
    out: dict[str, list[str]] = {t: [] for t in INSIGHT_TYPES}
    if not conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema.SCHEMA}._insight_dirty",)).fetchone()[0]:
        return out
    rows = conn.execute(sql.SQL("SELECT DISTINCT insight_type, period_start FROM {} ORDER BY 1, 2").format(
        sql.Identifier(schema.SCHEMA, "_insight_dirty"))).fetchall()
    for kind, start in rows:
        if kind not in out or start < date.fromisoformat(WEEKLY_START if kind == "weekly" else START):
            continue
        if closed_before and period_of(kind, start)[1] >= closed_before:
            continue
        out[kind].append(start.isoformat())
    return out
