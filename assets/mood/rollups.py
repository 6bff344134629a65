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
autocommit connection (refresh_continuous_aggregate cannot run inside a transaction).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from psycopg import sql

from assets.mood import buckets, schema

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


def refresh_timescale(conn_autocommit, *, full: bool = False, now: datetime | None = None) -> dict[str, dict]:
    """Refresh the continuous aggregates over the changed window (autocommit connection)."""
    now = now or datetime.now(timezone.utc)
    out = {}
    for spec in schema.ROLLUPS:
        floor = _floor_bucket(conn_autocommit, spec, now)
        rows = conn_autocommit.execute(sql.SQL(
            "WITH c AS (DELETE FROM {} WHERE rollup = %s RETURNING bucket, user_id) "
            "SELECT min(bucket) FILTER (WHERE bucket > '-infinity'), max(bucket), "
            "bool_or(bucket = '-infinity'), count(*) FROM c").format(
            sql.Identifier(schema.SCHEMA, "_rollup_dirty")), (spec.name,)).fetchone()
        lo, hi, user_removed, claimed = rows
        if full or user_removed:
            lo = floor
        if lo is None and not full:
            out[spec.name] = {"dirty_buckets": claimed, "window": None}
            continue
        start = max(lo, floor) if (lo and floor) else (lo or floor)
        end = (hi + WIDTHS[spec.name]) if hi and hi > datetime(1900, 1, 1, tzinfo=timezone.utc) else None
        conn_autocommit.execute(
            sql.SQL("CALL refresh_continuous_aggregate({}, %s, %s)").format(
                sql.Literal(f"{schema.SCHEMA}.{spec.name}")), (start, end))
        out[spec.name] = {"dirty_buckets": claimed, "window": [str(start), str(end)], "full": full,
                          "user_removals_beyond_retention_not_reflected": bool(user_removed)}
    return out
