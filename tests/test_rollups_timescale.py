"""Rollup refreshes on TimescaleDB: the refresh plan (pure), typed windows, retries on the policy's lock,
marks that survive a failed refresh, and removed users leaving both continuous aggregates.

The pure tests always run; the `timescale` ones need TESSERA_TIMESCALE_TEST_URL (each gets its own
database on that server, see conftest.timescale_database)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg import sql

from assets.mood import rollups

UTC = timezone.utc
DAY, WEEK = timedelta(days=1), timedelta(days=7)
FLOOR = datetime(2026, 1, 1, tzinfo=UTC)


# ------------------------------------------------------------------------------------------- pure
def test_plan_covers_the_marked_buckets_inside_retention():
    marks = [(datetime(2026, 3, 4, tzinfo=UTC), "a"), (datetime(2026, 3, 1, tzinfo=UTC), "b")]
    plan = rollups.plan_refresh(marks, width=DAY, floor=FLOOR)
    assert plan.window == (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC))
    assert plan.deletions == ()
    # weekly buckets: the window ends one bucket after the last marked one
    weekly = rollups.plan_refresh([(datetime(2026, 3, 2, tzinfo=UTC), "a")], width=WEEK, floor=FLOOR)
    assert weekly.window == (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))


def test_a_removed_user_alone_gives_no_unbounded_window():
    """Defect 5: a removed user (bucket None, '-infinity' in the table) used to become a -infinity
    window start; it is a deletion from the materialization and refreshes nothing."""
    plan = rollups.plan_refresh([(None, "gone")], width=DAY, floor=FLOOR)
    assert plan.window is None
    assert plan.deletions == ((None, "gone"),)
    mixed = rollups.plan_refresh([(None, "gone"), (datetime(2026, 2, 10, tzinfo=UTC), "b")], width=DAY, floor=FLOOR)
    assert mixed.window == (datetime(2026, 2, 10, tzinfo=UTC), datetime(2026, 2, 11, tzinfo=UTC))
    assert all(start is None or start >= FLOOR for start in mixed.window[:1])


def test_buckets_before_the_floor_are_deleted_not_refreshed():
    old = datetime(2025, 6, 1, tzinfo=UTC)
    plan = rollups.plan_refresh([(old, "a"), (datetime(2026, 2, 1, tzinfo=UTC), "b")], width=DAY, floor=FLOOR)
    assert plan.window[0] >= FLOOR
    assert plan.deletions == ((old, "a"),)


def test_full_refresh_window_is_bounded_by_the_floor_and_typed():
    """Defect 4: a full refresh without marks passed an untyped NULL end."""
    assert rollups.plan_refresh([], width=DAY, floor=FLOOR, full=True).window == (FLOOR, None)
    assert rollups.plan_refresh([], width=DAY, floor=FLOOR).window is None
    text = rollups.refresh_statement("analytics.mood_daily_summary").as_string(None)
    assert text == ("CALL refresh_continuous_aggregate('analytics.mood_daily_summary', %s::timestamptz, "
                    "%s::timestamptz)")


def test_backoff_is_exponential_and_capped():
    delays = rollups.backoff_delays(attempts=8, base=0.5, cap=8.0)
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert rollups.backoff_delays(attempts=1) == []


# ------------------------------------------------------------------------------------------- timescale
CONFLICT_FN = """CREATE OR REPLACE FUNCTION public.tessera_test_conflict(a timestamptz, b timestamptz) RETURNS void
LANGUAGE plpgsql AS $$ BEGIN
  RAISE EXCEPTION USING ERRCODE = 'lock_not_available',
        MESSAGE = 'could not refresh continuous aggregate due to a concurrent refresh';
END $$"""


def _conflicting(real, failures: int, calls: list):
    """refresh_statement replacement: the server raises LockNotAvailable for the first `failures` calls."""
    def statement(view: str):
        calls.append(view)
        if len(calls) <= failures:
            return sql.SQL("SELECT public.tessera_test_conflict(%s::timestamptz, %s::timestamptz)")
        return real(view)
    return statement


def _analytics(url: str, source_url: str):
    from assets.mood import schema
    from assets.mood.events import maintain_events
    from test_mood_helpers import sync

    sync(source_url, url)
    with psycopg.connect(url) as conn:
        assert schema.ensure_analytics(conn).timescale
        conn.commit()
        maintain_events(conn, full=True)
        conn.commit()


def _marks(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM analytics._rollup_dirty").fetchone()[0]


def _summary_vs_group_by(conn) -> tuple[list, list]:
    cagg = conn.execute("SELECT day, user_id, entry_count, round(avg_mood_score, 6), total_words "
                        "FROM analytics.mood_daily_summary ORDER BY 1, 2").fetchall()
    direct = conn.execute("SELECT time_bucket('1 day', time), user_id, count(*), round(avg(mood_score), 6), "
                          "sum(word_count) FROM analytics.mood_events GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
    return cagg, direct


@pytest.mark.timescale
def test_full_refresh_without_marks_on_an_empty_warehouse(timescale_database):
    from assets.mood import schema

    with psycopg.connect(timescale_database) as conn:
        assert schema.ensure_analytics(conn).timescale
        conn.commit()
    with psycopg.connect(timescale_database, autocommit=True) as conn:
        stats = rollups.refresh_timescale(conn, full=True)
    # refreshed (a refresh policy job running at the same moment costs a retry, not a failure), over a
    # window with no upper bound: no untyped NULL reached refresh_continuous_aggregate
    assert stats["mood_daily_summary"]["refresh_attempts"] >= 1
    assert stats["mood_daily_summary"]["window"][1] is None


@pytest.mark.timescale
def test_a_failed_refresh_keeps_its_marks_and_a_conflict_is_retried(timescale_database, databases, monkeypatch):
    from test_mood_helpers import build_dataset

    build_dataset(databases.source_url, users=3, days=20, seed=3)
    _analytics(timescale_database, databases.source_url)
    marked = _marks(timescale_database)
    assert marked > 0
    with psycopg.connect(timescale_database, autocommit=True) as conn:
        conn.execute(CONFLICT_FN)
        real = rollups.refresh_statement
        calls: list = []
        monkeypatch.setattr(rollups, "refresh_statement", _conflicting(real, failures=99, calls=calls))
        with pytest.raises(psycopg.errors.LockNotAvailable):
            rollups.refresh_timescale(conn, delays=[0, 0])
        assert len(calls) == 3  # one try and two retries
        assert _marks(timescale_database) == marked  # nothing lost: the buckets are refreshed later

        calls.clear()
        monkeypatch.setattr(rollups, "refresh_statement", _conflicting(real, failures=2, calls=calls))
        stats = rollups.refresh_timescale(conn, delays=[0, 0, 0])
        assert stats["mood_daily_summary"]["refresh_attempts"] == 3
        assert _marks(timescale_database) == 0
        cagg, direct = _summary_vs_group_by(conn)
        assert cagg and cagg == direct


@pytest.mark.timescale
def test_a_removed_user_leaves_both_aggregates(timescale_database, databases):
    from assets.mood.events import maintain_events
    from test_mood_helpers import build_dataset, sync

    ds = build_dataset(databases.source_url, users=3, days=20, seed=4)
    _analytics(timescale_database, databases.source_url)
    with psycopg.connect(timescale_database, autocommit=True) as conn:
        rollups.refresh_timescale(conn)
        gone = ds.users[0]
        for view in ("mood_daily_summary", "user_weekly_activity"):
            assert conn.execute(f"SELECT count(*) FROM analytics.{view} WHERE user_id = %s", (gone,)).fetchone()[0] > 0
    with psycopg.connect(databases.source_url) as src:
        src.execute("UPDATE mindflow.users SET deleted_at = now() WHERE id = %s", (gone,))
    sync(databases.source_url, timescale_database)
    with psycopg.connect(timescale_database) as conn:
        result = maintain_events(conn)
        conn.commit()
    assert result.removed_users == 1
    with psycopg.connect(timescale_database, autocommit=True) as conn:
        # only the removal changed: no window (it used to be -infinity and fail every later run)
        stats = rollups.refresh_timescale(conn)
        assert stats["mood_daily_summary"]["window"] is None
        assert stats["mood_daily_summary"]["materialized_rows_deleted"] > 0
        for view in ("mood_daily_summary", "user_weekly_activity"):
            assert conn.execute(f"SELECT count(*) FROM analytics.{view} WHERE user_id = %s", (gone,)).fetchone()[0] == 0
        assert _marks(timescale_database) == 0
        # a later run (and a full one) succeeds and the aggregate still equals a GROUP BY of the events
        rollups.refresh_timescale(conn)
        rollups.refresh_timescale(conn, full=True)
        cagg, direct = _summary_vs_group_by(conn)
        assert cagg and cagg == direct
        assert gone not in {str(r[1]) for r in cagg}
