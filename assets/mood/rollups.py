"""Refreshing analytics.mood_daily_summary and analytics.user_weekly_activity.

Fallback (native Postgres): the rollups are tables holding exactly what the continuous aggregates
would hold. The events maintenance records every (bucket, user) whose inputs changed in
analytics._rollup_dirty (and '-infinity' for a removed user: all of that user's buckets). A refresh
claims those rows, deletes the affected rollup rows and re-aggregates only those buckets from the event
table with the shared aggregate query (schema.rollup_select): cost proportional to what changed.
`full=True` recomputes every bucket at or after the retention floor; older buckets are kept, as a
continuous aggregate keeps them after its raw chunks were dropped.

TimescaleDB: the continuous aggregates are refreshed by their policies (hourly, last 7 days / 4 weeks);
this module additionally refreshes the window spanned by the changed buckets right away, clamped to the
retention floor so a refresh never covers dropped raw chunks (the trap in FIELD-NOTES). It needs an
autocommit connection (refresh_continuous_aggregate cannot run inside a transaction), so the marks are
read first and deleted only after the refresh succeeded, in the transaction that also removes what a
refresh cannot: the rows of removed users (every bucket) and buckets older than the retention floor are
deleted from the aggregate's materialization hypertable. A failed refresh leaves every mark in place.
A refresh that meets the policy job's (LockNotAvailable: "concurrent refresh") is retried with
exponential backoff. `plan_refresh` (pure) decides the window and the direct deletions.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import psycopg
from psycopg import sql

from assets.mood import buckets, schema

log = logging.getLogger(__name__)
WIDTHS = {"mood_daily_summary": timedelta(days=1), "user_weekly_activity": timedelta(days=7)}


def _floor_bucket(conn, spec: schema.RollupSpec, now: datetime) -> datetime | None:
    """First bucket wholly inside the raw data retention keeps (None: no retention)."""
    floor = schema.retention_floor(conn, spec.source, now)
    if floor is None:
        return None
    start = buckets.bucket_start(floor, WIDTHS[spec.name])
    return start if start >= floor else start + WIDTHS[spec.name]


def refresh_native(conn, *, full: bool = False, now: datetime | None = None) -> dict[str, dict]:
    """Refresh both rollup tables in the caller's transaction; returns per-rollup counts."""
    now = now or datetime.now(timezone.utc)
    out = {}
    for spec in schema.ROLLUPS:
        target = sql.Identifier(schema.SCHEMA, spec.name)
        col = sql.Identifier(spec.bucket_column)
        floor = _floor_bucket(conn, spec, now) or datetime(1900, 1, 1, tzinfo=timezone.utc)
        claimed = conn.execute(sql.SQL(
            "CREATE TEMP TABLE _dirty ON COMMIT DROP AS WITH c AS (DELETE FROM {} WHERE rollup = %s "
            "RETURNING bucket, user_id) SELECT DISTINCT bucket, user_id FROM c").format(
            sql.Identifier(schema.SCHEMA, "_rollup_dirty")), (spec.name,)).rowcount
        if full:
            removed = conn.execute(sql.SQL(
                "DELETE FROM {t} r WHERE {col} >= %s OR EXISTS (SELECT 1 FROM _dirty d WHERE "
                "d.bucket = '-infinity' AND d.user_id = r.user_id)").format(t=target, col=col), (floor,)).rowcount
            inserted = conn.execute(sql.SQL("INSERT INTO {t} {q}").format(
                t=target, q=schema.rollup_select(spec, schema.SCHEMA, timescale=False,
                                                 where=sql.SQL("time >= %(floor)s"))), {"floor": floor}).rowcount
        else:
            conn.execute("CREATE INDEX ON _dirty (user_id, bucket)")
            conn.execute("ANALYZE _dirty")
            removed = conn.execute(sql.SQL(
                "DELETE FROM {t} r USING _dirty d WHERE r.user_id = d.user_id "
                "AND (d.bucket = '-infinity' OR r.{col} = d.bucket)").format(t=target, col=col)).rowcount
            lo, hi = conn.execute("SELECT min(bucket), max(bucket) FROM _dirty WHERE bucket > '-infinity'").fetchone()
            inserted = 0
            if lo is not None:
                join = sql.SQL("JOIN _dirty d ON d.user_id = src.user_id AND d.bucket > '-infinity' "
                               "AND src.time >= d.bucket AND src.time < d.bucket + INTERVAL {w}").format(
                    w=sql.Literal(spec.width))
                # constant bounds let the planner prune partitions outside the changed range
                where = sql.SQL("src.time >= %(lo)s AND src.time < %(hi)s::timestamptz + INTERVAL {w}").format(
                    w=sql.Literal(spec.width))
                select = schema.rollup_select(spec, schema.SCHEMA, timescale=False, join=join, where=where)
                inserted = conn.execute(sql.SQL("INSERT INTO {t} {q}").format(t=target, q=select),
                                        {"lo": lo, "hi": hi}).rowcount
        conn.execute("DROP TABLE _dirty")
        out[spec.name] = {"dirty_buckets": claimed, "rows_removed": removed, "rows_written": inserted,
                          "full": full}
    return out


@dataclass(frozen=True)
class RefreshPlan:
    """What one Timescale refresh of a rollup does.

    window: (start, end) for refresh_continuous_aggregate, None when nothing is refreshed; start None
    only without a retention floor (from the first bucket), end None only for a full refresh (up to the
    latest data); both are passed as typed timestamptz.
    deletions: (bucket, user_id) rows removed from the materialization directly, bucket None meaning
    every bucket of that (removed) user."""

    window: tuple[datetime | None, datetime | None] | None
    deletions: tuple[tuple[datetime | None, str], ...] = ()


_EARLIEST = datetime(1, 1, 1, tzinfo=timezone.utc)


def plan_refresh(marks: list[tuple[datetime | None, str]], *, width: timedelta, floor: datetime | None,
                 full: bool = False) -> RefreshPlan:
    """Pure: the refresh window and direct deletions for the marked (bucket, user) pairs.

    A mark with bucket None is a removed user: its raw rows are gone already, so its aggregate rows are
    deleted from the materialization (no unbounded window, nothing else recomputed). A bucket older than
    the retention floor cannot be refreshed (its raw chunks are dropped: the refresh would empty the
    bucket for every user), so that (bucket, user) row is deleted instead, which is exact because the
    mark comes from the removal of that user's only entry of the bucket (assets.mood.events)."""
    inside = [b for b, _ in marks if b is not None and (floor is None or b >= floor)]
    direct = {(b, u) for b, u in marks if b is None or (floor is not None and b < floor)}
    deletions = tuple(sorted(direct, key=lambda d: (d[0] is not None, d[0] or _EARLIEST, d[1])))
    if full:
        return RefreshPlan((floor, None), deletions)
    if not inside:
        return RefreshPlan(None, deletions)
    start = buckets.bucket_start(min(inside), width)
    end = buckets.bucket_start(max(inside), width) + width
    return RefreshPlan((max(start, floor) if floor else start, end), deletions)


def backoff_delays(attempts: int = 7, base: float = 0.5, cap: float = 16.0) -> list[float]:
    """Pure: seconds to wait before each retry (exponential, capped); len = attempts - 1."""
    return [min(cap, base * 2 ** i) for i in range(max(attempts - 1, 0))]


def refresh_statement(view: str) -> sql.Composed:
    """CALL refresh_continuous_aggregate with typed bounds (a NULL end must not be an untyped literal)."""
    return sql.SQL("CALL refresh_continuous_aggregate({}, %s::timestamptz, %s::timestamptz)").format(sql.Literal(view))


def refresh_with_retry(conn_autocommit, view: str, window: tuple[datetime | None, datetime | None],
                       delays: list[float] | None = None, sleep=time.sleep) -> int:
    """Refresh `view` over `window`, retrying when the policy job holds the refresh lock; returns the
    number of attempts. Any other error, or the last conflict, propagates."""
    delays = backoff_delays() if delays is None else delays
    for attempt, delay in enumerate([*delays, None], start=1):
        try:
            conn_autocommit.execute(refresh_statement(view), window)
            return attempt
        except psycopg.errors.LockNotAvailable:
            if delay is None:
                raise
            log.info("refresh of %s met a concurrent refresh (attempt %s); retrying in %.1fs", view, attempt, delay)
            sleep(delay)
    raise AssertionError("unreachable")


def materialization_table(conn, schema_name: str, view: str) -> sql.Composed:
    """The materialization hypertable holding a continuous aggregate's rows."""
    row = conn.execute(
        "SELECT materialization_hypertable_schema, materialization_hypertable_name "
        "FROM timescaledb_information.continuous_aggregates WHERE view_schema = %s AND view_name = %s",
        (schema_name, view)).fetchone()
    if row is None:
        raise RuntimeError(f"{schema_name}.{view} is not a continuous aggregate")
    return sql.Identifier(*row)


def _read_marks(conn, name: str) -> list[tuple[datetime | None, str, datetime]]:
    # '-infinity' (a removed user) is read as NULL: Python datetimes cannot hold it
    return conn.execute(sql.SQL(
        "SELECT CASE WHEN bucket > '-infinity' THEN bucket END, user_id::text, marked_at FROM {} "
        "WHERE rollup = %s").format(sql.Identifier(schema.SCHEMA, "_rollup_dirty")), (name,)).fetchall()


def refresh_timescale(conn_autocommit, *, full: bool = False, now: datetime | None = None,
                      delays: list[float] | None = None) -> dict[str, dict]:
    """Refresh the continuous aggregates over the changed window (autocommit connection).

    Marks are consumed only after their refresh succeeded, in one transaction with the direct deletions;
    a mark set again meanwhile (newer marked_at) stays for the next run."""
    now = now or datetime.now(timezone.utc)
    out = {}
    for spec in schema.ROLLUPS:
        floor = _floor_bucket(conn_autocommit, spec, now)
        marks = _read_marks(conn_autocommit, spec.name)
        plan = plan_refresh([(b, u) for b, u, _ in marks], width=WIDTHS[spec.name], floor=floor, full=full)
        view = f"{schema.SCHEMA}.{spec.name}"
        attempts = refresh_with_retry(conn_autocommit, view, plan.window, delays) if plan.window else 0
        deleted = 0
        with conn_autocommit.transaction():
            if plan.deletions:
                target = materialization_table(conn_autocommit, schema.SCHEMA, spec.name)
                col = sql.Identifier(spec.bucket_column)
                users = [u for b, u in plan.deletions if b is None]
                pairs = [(b, u) for b, u in plan.deletions if b is not None]
                if users:
                    deleted += conn_autocommit.execute(sql.SQL("DELETE FROM {} WHERE user_id = ANY(%s::uuid[])")
                                                       .format(target), (users,)).rowcount
                for bucket, user in pairs:
                    deleted += conn_autocommit.execute(sql.SQL("DELETE FROM {} WHERE {} = %s AND user_id = %s")
                                                       .format(target, col), (bucket, user)).rowcount
            if marks:
                conn_autocommit.execute(sql.SQL(
                    "DELETE FROM {} d USING unnest(%s::timestamptz[], %s::uuid[], %s::timestamptz[]) "
                    "AS m(bucket, user_id, marked_at) WHERE d.rollup = %s AND d.user_id = m.user_id "
                    "AND d.marked_at = m.marked_at AND d.bucket = coalesce(m.bucket, '-infinity')").format(
                    sql.Identifier(schema.SCHEMA, "_rollup_dirty")),
                    ([b for b, _, _ in marks], [u for _, u, _ in marks], [m for _, _, m in marks], spec.name))
        out[spec.name] = {"dirty_buckets": len(marks), "full": full, "refresh_attempts": attempts,
                          "window": [str(w) if w else None for w in plan.window] if plan.window else None,
                          "materialized_rows_deleted": deleted}
    return out
