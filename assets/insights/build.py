"""Compute analytics.journal_insights for one period (a Dagster partition).

Decisions (DESIGN rules 1 and 2):
- Insights are computed from AI-eligible entries ONLY: the rows of the dbt model
  eligibility.eligible_journal_entries flagged ai_eligible (live entry, live user, not `is_private`, user
  not in `private_mode`, not quarantined: the rules are written there). This covers the numeric columns too (entries_analyzed, words,
  streak, mood shares): a private entry contributes to nothing in an insight, so no number can hint at
  it. A user with no eligible entry in the period (e.g. in private mode) gets no insight row.
- Soft-deleted entries and users never count; every run also removes the insights of users who are no
  longer live (outside eligibility.eligible_mindflow_users; all periods).
- Numbers: average_words = round(total_words / entries_analyzed) half-up; most_productive_day = weekday
  with the most words (ties: earliest weekday from Monday); longest_streak = longest run of consecutive
  dates with an eligible entry inside the period; mood_*_pct = share of eligible entries WITH a mood
  (ecstatic+happy positive, neutral, sad+anxious+angry negative), 2 decimals half-up, NULL when no entry
  has a mood; dominant_mood = most frequent mood, ties to the first in alphabetical order (Postgres
  MODE()). Milestones use the user's eligible history before the period.
- A partition run replaces all rows of (insight_type, start_date) in one transaction, so re-runs and
  backfills are idempotent, and clears that period's stale marks (analytics._insight_dirty).
- The seed's fourth insight_type, 'custom', is an insight over any date range a user asks for
  (`build_custom`): the same numbers, themes and texts as a period's, for the requested users (all by
  default); a run replaces the custom rows of exactly that range (and those users), so other ranges
  sharing a start date are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from psycopg import sql
from psycopg.types.json import Jsonb

from assets.insights import text, themes
from assets.mood import schema
from sources.sql_files import sql_text

BASELINE_DAYS = 180
COLUMNS = ("user_id", "insight_type", "start_date", "end_date", "generated_at", "summary", "entries_analyzed",
           "total_words", "average_words", "most_productive_day", "longest_streak", "mood_positive_pct",
           "mood_neutral_pct", "mood_negative_pct", "dominant_mood", "themes", "milestones", "suggestions")


CUSTOM = "custom"


@dataclass
class InsightsResult:
    insight_type: str
    start_date: str
    end_date: str
    users: int
    rows_replaced: int
    purged_removed_users: int
    stale_marks_cleared: int


def _q(name: str) -> sql.Composed:
    text_ = sql_text(__package__, name)
    body = "\n".join(l for l in text_.splitlines() if not l.strip().startswith("--"))
    return sql.SQL(body).format(an=sql.Identifier(schema.SCHEMA))


def period_stats(conn, start: date, end: date) -> list[dict]:
    cur = conn.execute(_q("period_stats.sql"), {"start": start, "end": end})
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def build_period(conn, insight_type: str, start: date, end: date, *, use_llm: bool = False,
                 now: datetime | None = None, users: list | None = None) -> InsightsResult:
    """Replace the insights of one period (caller commits); `users` restricts it to those users."""
    from quality.quarantine import ensure_quarantine_schema

    now = now or datetime.now(timezone.utc)
    caps = schema.ensure_analytics(conn, now)
    ensure_quarantine_schema(conn)
    run_started = conn.execute("SELECT clock_timestamp()").fetchone()[0]
    stats = period_stats(conn, start, end)
    if users is not None:
        wanted = {str(u) for u in users}
        stats = [s for s in stats if str(s["user_id"]) in wanted]
    baseline_from = start - timedelta(days=max(BASELINE_DAYS, (end - start).days + 1))
    texts: dict = {}
    if stats:
        cur = conn.execute(_q("period_texts.sql"), {"users": [s["user_id"] for s in stats], "from": baseline_from,
                                                    "end": end})
        for user_id, d, title, content, score in cur:
            bucket = "period" if d >= start else "baseline"
            texts.setdefault(user_id, {"period": [], "baseline": [], "scores": []})
            texts[user_id][bucket].append(f"{title}\n{content}")
            if bucket == "period":
                texts[user_id]["scores"].append(score)
    period_days = (end - start).days + 1
    empty = {"period": [], "baseline": [], "scores": []}
    user_texts = [texts.get(s["user_id"], empty) for s in stats]
    all_themes = themes.extract_themes_many([(t["period"], t["baseline"], t["scores"]) for t in user_texts])
    rows = []
    for s, th in zip(stats, all_themes):
        summ = text.llm_summary(insight_type, s, th, enabled=use_llm) or text.summary(insight_type, s, th)
        rows.append((s["user_id"], insight_type, start, end, now, summ, s["entries_analyzed"], s["total_words"],
                     s["average_words"], s["most_productive_day"], s["longest_streak"], s["mood_positive_pct"],
                     s["mood_neutral_pct"], s["mood_negative_pct"], s["dominant_mood"], Jsonb(th),
                     Jsonb(text.milestones(insight_type, s, period_days)),
                     Jsonb(text.suggestions(insight_type, s, th))))
    if not caps.timescale:
        schema.ensure_partitions(conn, now, now, tables=("journal_insights",))
    table = sql.Identifier(schema.SCHEMA, "journal_insights")
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (schema.ADVISORY_LOCK, f"{insight_type}:{start}"))
    scope = sql.SQL("insight_type = %s AND start_date = %s")
    args: list = [insight_type, start]
    if insight_type == CUSTOM:  # a custom range is its own: other ranges from the same day stay
        scope, args = sql.SQL("{} AND end_date = %s").format(scope), [*args, end]
    if users is not None:
        scope, args = sql.SQL("{} AND user_id = ANY(%s::uuid[])").format(scope), [*args, [str(u) for u in users]]
    replaced = conn.execute(sql.SQL("DELETE FROM {} WHERE {}").format(table, scope), args).rowcount
    if rows:
        with conn.cursor() as cur:
            cur.executemany(sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                table, sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
                sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS))), rows)
    purged = conn.execute(sql.SQL(
        "DELETE FROM {t} i WHERE NOT EXISTS (SELECT 1 FROM eligibility.eligible_mindflow_users u WHERE u.id = i.user_id)"
    ).format(t=table)).rowcount
    cleared = conn.execute(sql.SQL(
        "DELETE FROM {} WHERE insight_type = %s AND period_start = %s AND marked_at <= %s").format(
        sql.Identifier(schema.SCHEMA, "_insight_dirty")), (insight_type, start, run_started)).rowcount
    return InsightsResult(insight_type, str(start), str(end), len(rows), replaced, purged, cleared)


def custom_range(start: date | None, end: date | None, today: date, default_days: int = 30) -> tuple[date, date]:
    """The range of a custom insight: both ends given, or the last `default_days` days up to today."""
    end = end or today
    start = start or end - timedelta(days=default_days - 1)
    if end < start:
        raise ValueError(f"a custom insight needs end_date >= start_date, got {start}..{end}")
    return start, end


def build_custom(conn, start: date, end: date, *, users: list | None = None, use_llm: bool = False,
                 now: datetime | None = None) -> InsightsResult:
    """Insights of insight_type 'custom' over [start, end] for `users` (all with eligible entries when
    None), replacing earlier custom rows of the same range and users (caller commits)."""
    if end < start:
        raise ValueError(f"a custom insight needs end_date >= start_date, got {start}..{end}")
    return build_period(conn, CUSTOM, start, end, use_llm=use_llm, now=now, users=users)
