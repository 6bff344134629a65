"""Study coach snapshots.

persona.progress_snapshots: one row per live learner per local day, one Dagster daily partition per
day (definitions in sql/progress_snapshot.sql: minutes are that day's total, streak counts
consecutive active days ending that day, completed tasks are cumulative). A partition run replaces
its day and drops every row of learners soft-deleted (or gone) since.

persona.persona_snapshots: the seed's persona snapshot (traits, preferences), one current row per
live learner, rebuilt nightly by a schedule from the last PERSONA_WINDOW_DAYS of coach activity:
traits      consistency (active days / window), avg_session_minutes, total_minutes, completion_rate,
            engagement (high >= 50 % active days, medium >= 20 %, else low)
preferences preferred_study_time (morning 05-12, afternoon 12-17, evening 17-22, night 22-05, by
            minutes, local time), preferred_days (top 2 weekdays by minutes), focus_areas (top 3
            coaching-session focuses by minutes), typical_session_minutes (median)
"""


import statistics
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import dagster as dg
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from assets.persona import store
from assets.persona.config import PersonaRunConfig
from assets.dbt.keys import model_keys
from assets.resources import WarehouseDatabase
from core.run_queue import PARTITION_RUN_TAGS

PERSONA_WINDOW_DAYS = 90
PARTITIONS_START = "2024-01-01"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
daily_partitions = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC")


# The dbt staging views of the coach tables these snapshots read (soft deletes and quality issues flagged).
COACH_VIEWS = tuple(f"staging.stg_coach__{t}" for t in ("users", "sessions", "plans", "tasks", "study_sessions"))


def part_of_day(hour: int) -> str:
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 22:
        return "evening"
    return "night"


def build_persona_snapshot(sessions: list[tuple[datetime, int, str | None]], done: int, actionable: int,
                           window_days: int = PERSONA_WINDOW_DAYS) -> tuple[dict, dict, str]:
    """(traits, preferences, keywords) of one learner from (local time, minutes, focus) sessions."""
    minutes_by_time, minutes_by_day, minutes_by_focus = Counter(), Counter(), Counter()
    active_days = set()
    lengths = []
    for local_time, minutes, focus in sessions:
        lengths.append(minutes)
        if minutes > 0:
            active_days.add(local_time.date())
        minutes_by_time[part_of_day(local_time.hour)] += minutes
        minutes_by_day[WEEKDAYS[local_time.weekday()]] += minutes
        if focus:
            minutes_by_focus[focus.strip().lower()] += minutes

    def top(counter: Counter, k: int) -> list[str]:
        return [key for key, value in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:k] if value > 0]

    consistency = len(active_days) / window_days
    traits = {
        "consistency": round(consistency, 4),
        "avg_session_minutes": round(sum(lengths) / len(lengths), 1) if lengths else 0.0,
        "total_minutes": int(sum(lengths)),
        "completion_rate": round(done / actionable, 4) if actionable else None,
        "engagement": "high" if consistency >= 0.5 else "medium" if consistency >= 0.2 else "low",
    }
    preferences = {
        "preferred_study_time": (top(minutes_by_time, 1) or [None])[0],
        "preferred_days": top(minutes_by_day, 2),
        "focus_areas": top(minutes_by_focus, 3),
        "typical_session_minutes": statistics.median(lengths) if lengths else None,
    }
    words = [preferences["preferred_study_time"] or "", *preferences["preferred_days"], *preferences["focus_areas"],
             traits["engagement"]]
    return traits, preferences, " ".join(w for w in words if w)


def _require_coach(conn: psycopg.Connection) -> str | None:
    missing = [v for v in COACH_VIEWS if not store.relation_exists(conn, v)]
    return f"coach staging views absent: {', '.join(missing)}" if missing else None


def refresh_progress_snapshot(conn: psycopg.Connection, day: date) -> dict:
    started = time.perf_counter()
    store.ensure_schema(conn)
    if reason := _require_coach(conn):
        return {"skipped": reason}
    conn.execute("DELETE FROM persona.progress_snapshots WHERE snapshot_date = %s", (day,))
    gone = conn.execute(
        "DELETE FROM persona.progress_snapshots ps WHERE NOT EXISTS (SELECT 1 FROM staging.stg_coach__users u "
        "WHERE u.id = ps.user_id AND NOT u.is_deleted)").rowcount
    query = sql.SQL("INSERT INTO persona.progress_snapshots (user_id, snapshot_date, streak_days, completed_tasks, "
                    "study_minutes) {}").format(sql.SQL(store.sql_file("progress_snapshot.sql")))
    written = conn.execute(query, {"day": day}).rowcount
    active, minutes, longest = conn.execute(
        "SELECT count(*) FILTER (WHERE study_minutes > 0), coalesce(sum(study_minutes), 0), coalesce(max(streak_days), 0) "
        "FROM persona.progress_snapshots WHERE snapshot_date = %s", (day,)).fetchone()
    return {"snapshot_date": day.isoformat(), "learners": written, "active_learners": active, "study_minutes": int(minutes),
            "longest_streak": longest, "rows_of_deleted_learners_removed": gone,
            "seconds": round(time.perf_counter() - started, 3)}


def refresh_persona_snapshots(conn: psycopg.Connection, as_of: datetime, window_days: int = PERSONA_WINDOW_DAYS) -> dict:
    started = time.perf_counter()
    store.ensure_schema(conn)
    if reason := _require_coach(conn):
        return {"skipped": reason}
    sessions: dict[str, list] = defaultdict(list)
    activity = sql.SQL(store.sql_file("coach_activity.sql"))
    for user_id, local_time, minutes, focus in conn.execute(activity, {"since": as_of - timedelta(days=window_days),
                                                                       "as_of": as_of}):
        sessions[user_id].append((local_time, minutes, focus))
    tasks = {u: (d, a) for u, d, a in conn.execute(sql.SQL(store.sql_file("coach_tasks.sql")))}
    learners = [r[0] for r in conn.execute(
        "SELECT u.id::text FROM staging.stg_coach__users u "
        "WHERE NOT u.is_deleted AND jsonb_array_length(u.quality_issues) = 0").fetchall()]
    rows = []
    for user_id in learners:
        done, actionable = tasks.get(user_id, (0, 0))
        traits, preferences, keywords = build_persona_snapshot(sessions.get(user_id, []), done, actionable, window_days)
        rows.append((user_id, Jsonb(traits), Jsonb(preferences), keywords, as_of))
    conn.execute("TRUNCATE persona.persona_snapshots")
    store.copy_rows(conn, "persona_snapshots", ("user_id", "traits", "preferences", "keywords", "created_at"),
                    ["text", "jsonb", "jsonb", "text", "timestamptz"], rows)
    times = Counter(r[2].obj["preferred_study_time"] for r in rows)
    return {"learners": len(rows), "with_activity": sum(1 for u in learners if sessions.get(u)),
            "preferred_study_time": {str(k): v for k, v in times.items()}, "seconds": round(time.perf_counter() - started, 3)}


COACH_DEPS = model_keys(*COACH_VIEWS)


@dg.asset(
    key=["persona", "progress_snapshots"], group_name="persona", kinds={"postgres"}, deps=COACH_DEPS,
    partitions_def=daily_partitions,
    description="One progress snapshot per live learner per day (streak days, cumulative completed tasks, that day's minutes).",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=10),
)
def progress_snapshots(context: dg.AssetExecutionContext, warehouse: WarehouseDatabase) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    with warehouse.connect() as conn:
        stats = refresh_progress_snapshot(conn, day)
    return dg.MaterializeResult(metadata={**stats, "dagster/row_count": stats.get("learners", 0)})


@dg.asset(
    key=["persona", "persona_snapshots"], group_name="persona", kinds={"postgres", "python"}, deps=COACH_DEPS,
    description="Study coach persona snapshot per live learner (traits, preferences), refreshed nightly.",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=10),
)
def persona_snapshots(context: dg.AssetExecutionContext, config: PersonaRunConfig,
                      warehouse: WarehouseDatabase) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        stats = refresh_persona_snapshots(conn, config.as_of_time())
    return dg.MaterializeResult(metadata={**stats, "dagster/row_count": stats.get("learners", 0)})


progress_job = dg.define_asset_job("persona_progress_snapshots_daily", selection=[progress_snapshots],
                                   tags=PARTITION_RUN_TAGS)  # a cold run (core/run_queue.py)
progress_schedule = dg.build_schedule_from_partitioned_job(
    progress_job, hour_of_day=0, minute_of_hour=30, default_status=dg.DefaultScheduleStatus.RUNNING)
persona_snapshot_job = dg.define_asset_job("persona_snapshots_nightly", selection=[persona_snapshots])
persona_snapshot_schedule = dg.ScheduleDefinition(job=persona_snapshot_job, cron_schedule="0 3 * * *",
                                                  default_status=dg.DefaultScheduleStatus.RUNNING,
                                                  execution_timezone="UTC")
