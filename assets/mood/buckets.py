"""Time arithmetic shared by both warehouse paths (pure functions).

- Rollup buckets replicate TimescaleDB's `time_bucket(width, ts)`: for day-based widths its default
  origin is 2000-01-03 00:00 UTC (a Monday), so `time_bucket('7 days', ts)` weeks start on Mondays.
  The fallback uses Postgres `date_bin(width, ts, TIMESTAMPTZ '2000-01-03 00:00+00')`, which is the
  same function for fixed-width intervals (checked in tests against this module).
- Partitions replicate TimescaleDB chunk boundaries: a fixed chunk interval is aligned to the Unix
  epoch (1970-01-01, a Thursday), so 7-day chunks run Thursday to Thursday. Retention drops a chunk
  only when its whole range is older than `now() - retention` (drop_chunks' `older_than`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

TIMESCALE_BUCKET_ORIGIN = datetime(2000, 1, 3, tzinfo=timezone.utc)
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def bucket_start(ts: datetime, width: timedelta, origin: datetime = TIMESCALE_BUCKET_ORIGIN) -> datetime:
    """time_bucket(width, ts) with Timescale's default origin (floor division, also before the origin)."""
    steps = (ts - origin) // width
    return origin + steps * width


def chunk_start(ts: datetime, width: timedelta) -> datetime:
    """Start of the TimescaleDB chunk (fixed interval, epoch-aligned) holding `ts`."""
    return bucket_start(ts, width, UNIX_EPOCH)


def month_start(d: date | datetime) -> datetime:
    return datetime(d.year, d.month, 1, tzinfo=timezone.utc)


def add_months(d: datetime, months: int) -> datetime:
    index = d.year * 12 + (d.month - 1) + months
    return d.replace(year=index // 12, month=index % 12 + 1, day=1)


def weekly_ranges(first: datetime, last: datetime, width: timedelta = WEEK) -> list[tuple[datetime, datetime]]:
    """Epoch-aligned [lower, upper) ranges covering first..last inclusive."""
    lower = chunk_start(first, width)
    out = []
    while lower <= last:
        out.append((lower, lower + width))
        lower += width
    return out


def monthly_ranges(first: datetime, last: datetime) -> list[tuple[datetime, datetime]]:
    lower = month_start(first)
    out = []
    while lower <= last:
        upper = add_months(lower, 1)
        out.append((lower, upper))
        lower = upper
    return out


def droppable(ranges: list[tuple[datetime, datetime]], cutoff: datetime) -> list[tuple[datetime, datetime]]:
    """Ranges a retention run removes: those wholly older than the cutoff (upper bound <= cutoff)."""
    return [r for r in ranges if r[1] <= cutoff]


def retention_floor(cutoff: datetime, width: timedelta) -> datetime:
    """Oldest instant that survives retention: the start of the chunk holding the cutoff."""
    return chunk_start(cutoff, width)


def day_of(ts: datetime) -> date:
    return ts.astimezone(timezone.utc).date()


def entry_time(entry_date: date) -> datetime:
    """mood_events.time for a journal entry: its journal date at 00:00 UTC (see assets.mood.events)."""
    return datetime(entry_date.year, entry_date.month, entry_date.day, tzinfo=timezone.utc)
