"""Native fallback: retention drops old partitions but keeps the rollups; bucket functions match Postgres;
the TimescaleDB path runs for real only against a server that has the extension."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from test_mood_events import read
from test_mood_helpers import build_dataset, sync

UTC = timezone.utc


def test_date_bin_equals_time_bucket_replica(databases):
    from assets.mood import buckets

    stamps = [datetime(1999, 12, 30, 5, tzinfo=UTC), datetime(2024, 1, 7, 23, 59, tzinfo=UTC),
              datetime(2024, 1, 8, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)]
    with psycopg.connect(databases.warehouse_url) as conn:
        for ts in stamps:
            for width in ("1 day", "7 days"):
                got = conn.execute("SELECT date_bin(%s::interval, %s::timestamptz, TIMESTAMPTZ '2000-01-03 00:00:00+00')",
                                   (width, ts)).fetchone()[0]
                assert got == buckets.bucket_start(ts, timedelta(days=int(width.split()[0])))


def test_retention_drops_partitions_keeps_rollups(databases):
    from assets.mood import schema
    from assets.mood.events import maintain_events
    from assets.mood.rollups import refresh_native

    src, wh = databases.source_url, databases.warehouse_url
    today = datetime.now(UTC)
    ds = build_dataset(src, users=3, days=400, seed=5)
    sync(src, wh)
    past = today - timedelta(days=120)  # the pipeline ran back then: everything was inside retention
    with psycopg.connect(wh) as conn:
        maintain_events(conn, full=True, now=past)
        refresh_native(conn, now=past)
        conn.commit()
    before = read(wh, "SELECT * FROM analytics.mood_daily_summary")
    oldest = before.day.min()
    assert oldest < today - timedelta(days=380)

    with psycopg.connect(wh) as conn:
        dropped = schema.apply_native_retention(conn, now=today)
        floor = schema.retention_floor(conn, "mood_events", today)
        act_floor = schema.retention_floor(conn, "user_activity_events", today)
        conn.commit()
    assert any(d.startswith("mood_events_p") for d in dropped)
    assert any(d.startswith("user_activity_events_p") for d in dropped)
    assert read(wh, "SELECT count(*) n FROM analytics.mood_events WHERE time < %s", (floor,)).n[0] == 0
    assert read(wh, "SELECT count(*) n FROM analytics.user_activity_events WHERE time < %s", (act_floor,)).n[0] == 0
    assert read(wh, "SELECT count(*) n FROM analytics.mood_events WHERE time >= %s", (floor,)).n[0] > 0
    # rollups are kept, also after a normal run and a full recompute (which only covers kept raw data)
    with psycopg.connect(wh) as conn:
        maintain_events(conn, now=today)
        refresh_native(conn, now=today)
        refresh_native(conn, full=True, now=today)
        conn.commit()
    after = read(wh, "SELECT * FROM analytics.mood_daily_summary")
    assert len(after) == len(before) and after.day.min() == oldest
    weekly = read(wh, "SELECT min(week) w FROM analytics.user_weekly_activity")
    assert weekly.w[0] < act_floor

    # rule 1 still reaches past retention: an old entry soft-deleted, then an account deleted
    old_eid, old = next((eid, e) for eid, e in sorted(ds.entries.items(), key=lambda kv: kv[1]["date"])
                        if e["mood"] and e["user_id"] == ds.users[0])
    with psycopg.connect(src) as conn:
        conn.execute("UPDATE mindflow.journal_entries SET deleted_at = now() WHERE id = %s", (old_eid,))
        conn.execute("UPDATE mindflow.users SET deleted_at = now() WHERE id = %s", (ds.users[1],))
    sync(src, wh)
    with psycopg.connect(wh) as conn:
        maintain_events(conn, now=today)
        refresh_native(conn, now=today)
        conn.commit()
    final = read(wh, "SELECT day, user_id::text AS user_id FROM analytics.mood_daily_summary")
    old_day = datetime(old["date"].year, old["date"].month, old["date"].day, tzinfo=UTC)
    assert not ((final.day == old_day) & (final.user_id == ds.users[0])).any()
    assert (final.user_id == ds.users[1]).sum() == 0
    assert len(final) < len(after) - 1


@pytest.mark.timescale
def test_timescale_path_against_a_real_server(timescale_database):
    """Runs the Timescale DDL and one refresh on a real TimescaleDB warehouse (its own database on the
    TESSERA_TIMESCALE_TEST_URL server)."""
    url = timescale_database
    from assets.mood import rollups, schema

    with psycopg.connect(url) as conn:
        caps = schema.ensure_analytics(conn)
        conn.commit()
    assert caps.timescale
    with psycopg.connect(url, autocommit=True) as conn:
        hts = {r[0] for r in conn.execute(
            "SELECT hypertable_name FROM timescaledb_information.hypertables WHERE hypertable_schema = 'analytics'")}
        assert {"mood_events", "user_activity_events", "journal_insights"} <= hts
        jobs = {r[0] for r in conn.execute("SELECT proc_name FROM timescaledb_information.jobs")}
        assert {"policy_refresh_continuous_aggregate", "policy_retention", "policy_compression"} <= jobs
        now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        conn.execute("INSERT INTO analytics.mood_events VALUES (%s, gen_random_uuid(), gen_random_uuid(), 'happy', 0.6, "
                     "'{}', 10)", (now - timedelta(days=2),))
        conn.execute("INSERT INTO analytics._rollup_dirty (rollup, bucket, user_id) SELECT 'mood_daily_summary', "
                     "%s, user_id FROM analytics.mood_events LIMIT 1", (now - timedelta(days=2),))
        rollups.refresh_timescale(conn)
        assert conn.execute("SELECT count(*) FROM analytics.mood_daily_summary WHERE day = %s",
                            (now - timedelta(days=2),)).fetchone()[0] >= 1
