"""Same queries, same answers: the mood analytics on a real TimescaleDB warehouse (hypertables,
continuous aggregates) equal the native-partitioning fallback, row for row.

Runs only when TESSERA_TIMESCALE_TEST_URL names a database on a server with the timescaledb extension
preloaded (the full stack's warehouse, or a local build); a fresh database is created next to it."""

from __future__ import annotations

import psycopg
import pytest

ROLLUP_QUERIES = {
    "mood_events": "SELECT time, user_id, journal_entry_id, mood, mood_score, tags, word_count FROM analytics.mood_events",
    "mood_daily_summary": "SELECT day, user_id, entry_count, round(avg_mood_score, 6), most_common_mood, total_words "
                          "FROM analytics.mood_daily_summary",
    "user_weekly_activity": "SELECT week, user_id, login_count, entries_created, entries_updated, total_events "
                            "FROM analytics.user_weekly_activity",
}


@pytest.fixture
def timescale_warehouse(timescale_database):
    return timescale_database


def _build_analytics(url: str) -> str:
    from assets.mood import rollups, schema
    from assets.mood.events import maintain_events
    from test_mood_helpers import build_views

    build_views(url)  # the dbt views the events read
    with psycopg.connect(url) as conn:
        caps = schema.ensure_analytics(conn)
        conn.commit()
        maintain_events(conn, full=True)
        conn.commit()
    if caps.timescale:
        with psycopg.connect(url, autocommit=True) as conn:
            rollups.refresh_timescale(conn, full=True)
    else:
        with psycopg.connect(url) as conn:
            rollups.refresh_native(conn, full=True)
            conn.commit()
    return caps.mode


def _rows(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return sorted(conn.execute(query).fetchall(), key=repr)


@pytest.mark.timescale
def test_timescale_and_fallback_give_the_same_answers(seeded, timescale_warehouse, embedded_server):
    from assets.ingest.pipeline import sync_all

    sync_all(seeded.source_url, seeded.warehouse_url)
    sync_all(seeded.source_url, timescale_warehouse)
    native_mode = _build_analytics(seeded.warehouse_url)
    timescale_mode = _build_analytics(timescale_warehouse)
    assert native_mode != timescale_mode
    with psycopg.connect(timescale_warehouse) as conn:
        hypertables = {r[0] for r in conn.execute(
            "SELECT hypertable_name FROM timescaledb_information.hypertables WHERE hypertable_schema = 'analytics'")}
        caggs = {r[0] for r in conn.execute(
            "SELECT view_name FROM timescaledb_information.continuous_aggregates WHERE view_schema = 'analytics'")}
    assert {"mood_events", "user_activity_events"} <= hypertables
    assert {"mood_daily_summary", "user_weekly_activity"} <= caggs
    for name, query in ROLLUP_QUERIES.items():
        native, timescale = _rows(seeded.warehouse_url, query), _rows(timescale_warehouse, query)
        assert native, f"{name} is empty: the comparison would prove nothing"
        assert native == timescale, name
