"""Rollup refresh benchmark: full recompute vs refreshing after one new day of data (native fallback).

Builds a scratch warehouse database on the configured server (embedded by default), fills
analytics.mood_events / user_activity_events with synthetic events for --users over --days (about three
quarters of user-days have an entry; ~3 activity events per active day, within the 6-month activity
retention), then times
  full:        rollups.refresh_native(full=True)  (every bucket inside retention re-aggregated)
  incremental: one new day of events appended, its buckets marked as the events maintenance marks them,
               then rollups.refresh_native()       (only the changed buckets)
and prints JSON with both times and their ratio (target <= 0.05). Each timing is the median of --repeat
runs. The scratch database is dropped at the end (--keep to keep it).

    python -m bench.rollups --users 2000 --days 365
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
from psycopg import sql

FILL = """
INSERT INTO analytics.mood_events (time, user_id, journal_entry_id, mood, mood_score, tags, word_count)
SELECT d, u.id, gen_random_uuid(), m.mood, m.score, ARRAY['work'], 50 + (random() * 300)::int
  FROM (SELECT gen_random_uuid() AS id, g AS n FROM generate_series(1, %(users)s) g) u
 CROSS JOIN generate_series(%(first)s::timestamptz, %(last)s::timestamptz, INTERVAL '1 day') d
 CROSS JOIN LATERAL (SELECT (ARRAY['ecstatic','happy','neutral','sad','anxious','angry'])[1 + (random() * 5)::int] AS mood,
                            round((random() * 2 - 1)::numeric, 2) AS score) m
 WHERE random() < 0.75
"""
FILL_ACTIVITY = """
INSERT INTO analytics.user_activity_events (time, user_id, event_type, metadata)
SELECT m.time + make_interval(hours => 7 + k * 4), m.user_id,
       (ARRAY['login','entry_created','entry_updated'])[k + 1],
       jsonb_build_object('event_key', 'bench:' || m.journal_entry_id || ':' || k, 'source', 'bench')
  FROM analytics.mood_events m CROSS JOIN generate_series(0, 2) k
 WHERE m.time >= %(from)s AND m.time < %(to)s
"""
MARK = """
INSERT INTO analytics._rollup_dirty (rollup, bucket, user_id)
SELECT DISTINCT 'mood_daily_summary', date_bin(INTERVAL '1 day', time, TIMESTAMPTZ '2000-01-03 00:00:00+00'), user_id
  FROM analytics.mood_events WHERE time >= %(from)s AND time < %(to)s
UNION
SELECT DISTINCT 'user_weekly_activity', date_bin(INTERVAL '7 days', time, TIMESTAMPTZ '2000-01-03 00:00:00+00'), user_id
  FROM analytics.user_activity_events WHERE time >= %(from)s AND time < %(to)s
ON CONFLICT DO NOTHING
"""


def _admin_and_url(base_url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(base_url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


def main(argv: list[str]) -> dict:
    from assets.mood import rollups, schema
    from core.embedded import warehouse_database_url
    from core.settings import Settings

    p = argparse.ArgumentParser(prog="bench.rollups")
    p.add_argument("--users", type=int, default=2000)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--keep", action="store_true")
    args = p.parse_args(argv)

    base = warehouse_database_url(Settings.from_env())
    name = f"bench_rollups_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _admin_and_url(base, name)
    now = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    first, last = now - timedelta(days=args.days), now - timedelta(days=1)
    out: dict = {"users": args.users, "days": args.days, "storage": "native"}
    try:
        with psycopg.connect(url) as conn:
            caps = schema.ensure_analytics(conn, now)
            if caps.timescale:
                out["storage"] = "timescaledb (bench measures the native path only)"
            schema.ensure_partitions(conn, first, now + timedelta(days=2))
            t0 = time.perf_counter()
            conn.execute(FILL, {"users": args.users, "first": first, "last": last})
            act_floor = schema.retention_floor(conn, "user_activity_events", now)
            conn.execute(FILL_ACTIVITY, {"from": act_floor, "to": now})
            conn.commit()
            conn.execute("ANALYZE analytics.mood_events")
            conn.execute("ANALYZE analytics.user_activity_events")
            conn.commit()
            out["load_seconds"] = round(time.perf_counter() - t0, 2)
            out["mood_events"], out["activity_events"] = conn.execute(
                "SELECT (SELECT count(*) FROM analytics.mood_events), (SELECT count(*) FROM analytics.user_activity_events)"
            ).fetchone()
            full, incr = [], []
            day = now
            for i in range(args.repeat):
                t0 = time.perf_counter()
                rollups.refresh_native(conn, full=True, now=now)
                conn.commit()
                full.append(time.perf_counter() - t0)
                # one new day of data, marked as the events maintenance would mark it
                conn.execute(FILL, {"users": args.users, "first": day, "last": day})
                conn.execute(FILL_ACTIVITY, {"from": day, "to": day + timedelta(days=1)})
                conn.execute(MARK, {"from": day, "to": day + timedelta(days=1)})
                conn.commit()
                t0 = time.perf_counter()
                stats = rollups.refresh_native(conn, now=now)
                conn.commit()
                incr.append(time.perf_counter() - t0)
                out.setdefault("incremental_dirty_buckets", {k: v["dirty_buckets"] for k, v in stats.items()})
                conn.execute(MARK, {"from": day, "to": day + timedelta(days=1)})
                conn.execute("DELETE FROM analytics.mood_events WHERE time >= %s", (day,))
                conn.execute("DELETE FROM analytics.user_activity_events WHERE time >= %s", (day,))
                rollups.refresh_native(conn, now=now)  # undo the day (untimed)
                conn.commit()
            # sanity: incremental result equals a full recompute
            conn.execute(FILL, {"users": args.users, "first": day, "last": day})
            conn.execute(MARK, {"from": day, "to": day + timedelta(days=1)})
            rollups.refresh_native(conn, now=now)
            inc_rows = conn.execute("SELECT md5(string_agg(t::text, ',' ORDER BY day, user_id)) FROM "
                                    "analytics.mood_daily_summary t").fetchone()[0]
            rollups.refresh_native(conn, full=True, now=now)
            full_rows = conn.execute("SELECT md5(string_agg(t::text, ',' ORDER BY day, user_id)) FROM "
                                     "analytics.mood_daily_summary t").fetchone()[0]
            conn.rollback()
            out["rollup_rows"] = conn.execute("SELECT (SELECT count(*) FROM analytics.mood_daily_summary), "
                                              "(SELECT count(*) FROM analytics.user_weekly_activity)").fetchone()
        out["full_recompute_seconds"] = round(statistics.median(full), 3)
        out["incremental_one_day_seconds"] = round(statistics.median(incr), 3)
        out["ratio"] = round(statistics.median(incr) / statistics.median(full), 4)
        out["target_ratio"] = 0.05
        out["meets_target"] = out["ratio"] <= 0.05
        out["incremental_equals_full"] = inc_rows == full_rows
        out["runs"] = {"full": [round(x, 3) for x in full], "incremental": [round(x, 3) for x in incr]}
    finally:
        if not args.keep:
            with psycopg.connect(base, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        else:
            out["database"] = name
    print(json.dumps(out, default=str))
    return out


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
