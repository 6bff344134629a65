"""The mood and insights definitions: graph snapshot, and in-process materializations on the embedded server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import dagster as dg
import psycopg

from test_mood_helpers import build_dataset, sync


def _defs():
    import assets.insights.definitions as insights
    import assets.mood.definitions as mood
    from assets.resources import default_resources

    return dg.Definitions.merge(mood.defs, insights.defs, dg.Definitions(resources=default_resources()))


def test_graph_snapshot():
    defs = _defs()
    graph = defs.resolve_asset_graph()
    ours = {k.to_user_string(): graph.get(k) for k in graph.get_all_asset_keys() if k.path[0] == "analytics"}
    assert {k: (n.group_name, sorted(p.to_user_string() for p in n.parent_keys if p.path[0] == "analytics"))
            for k, n in ours.items()} == {
        "analytics/mood_events": ("mood", []),
        "analytics/user_activity_events": ("mood", []),
        "analytics/mood_daily_summary": ("mood", ["analytics/mood_events"]),
        "analytics/user_weekly_activity": ("mood", ["analytics/user_activity_events"]),
        "analytics/journal_insights/weekly": ("insights", ["analytics/mood_events"]),
        "analytics/journal_insights/monthly": ("insights", ["analytics/mood_events"]),
        "analytics/journal_insights/yearly": ("insights", ["analytics/mood_events"]),
        "analytics/journal_insights/custom": ("insights", ["analytics/mood_events"]),
        "analytics/journal_insights": ("insights", ["analytics/journal_insights/custom",
                                                    "analytics/journal_insights/monthly",
                                                    "analytics/journal_insights/weekly",
                                                    "analytics/journal_insights/yearly"]),
    }
    assert isinstance(ours["analytics/mood_events"].partitions_def, dg.DailyPartitionsDefinition)
    assert isinstance(ours["analytics/journal_insights/weekly"].partitions_def, dg.WeeklyPartitionsDefinition)
    assert isinstance(ours["analytics/journal_insights/monthly"].partitions_def, dg.MonthlyPartitionsDefinition)
    assert ours["analytics/journal_insights/yearly"].partitions_def.cron_schedule == "0 0 1 1 *"
    crons = {s.name: s.cron_schedule for s in defs.schedules}
    assert crons == {"mood_hourly_schedule": "5 * * * *", "insights_weekly_schedule": "0 3 * * 1",
                     "insights_monthly_schedule": "0 3 1 * *", "insights_yearly_schedule": "0 3 1 1 *"}
    assert [s.name for s in defs.sensors] == ["stale_insights_sensor"]


def test_materialize_in_process(databases):
    from assets.insights.assets import INSIGHT_ASSETS
    from assets.mood.assets import analytics_events, analytics_rollups
    from assets.resources import default_resources

    ds = build_dataset(databases.source_url, users=3, days=16)
    sync(databases.source_url, databases.warehouse_url)
    today = datetime.now(timezone.utc).date()
    res = dg.materialize([analytics_events, analytics_rollups], resources=default_resources(),
                         partition_key=today.isoformat())
    assert res.success
    mats = {m.asset_key.to_user_string(): m.metadata for m in res.get_asset_materialization_events()
            and [e.materialization for e in res.get_asset_materialization_events()]}
    assert mats["analytics/mood_events"]["dagster/row_count"].value > 20
    assert mats["analytics/mood_daily_summary"]["mood_trend"].value.startswith("![mood trend](data:image/png;base64,")
    assert "| week |" in mats["analytics/user_weekly_activity"]["recent_weeks"].value
    week = today - timedelta(days=today.weekday() + 7)
    res = dg.materialize([INSIGHT_ASSETS["weekly"]], resources=default_resources(), partition_key=week.isoformat())
    assert res.success
    with psycopg.connect(databases.warehouse_url) as conn:
        n = conn.execute("SELECT count(*) FROM analytics.journal_insights WHERE insight_type = 'weekly' "
                         "AND start_date = %s AND end_date = %s", (week, week + timedelta(days=6))).fetchone()[0]
    assert n == len(ds.users) - 1  # everyone but the private-mode user
