"""journal_insights: numeric columns against an independent pandas model, re-runs after edits, privacy."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import psycopg

from test_mood_events import assert_matches_model, read, run_events
from test_mood_helpers import build_dataset, sync

NUMERIC = ["entries_analyzed", "total_words", "average_words", "most_productive_day", "longest_streak",
           "mood_positive_pct", "mood_neutral_pct", "mood_negative_pct", "dominant_mood"]
CANARY = "velvetcanary"
PRIVATE_CANARY = "quokkazebra"


def expected_insights(url, start: date, end: date) -> dict:
    e = read(url, "SELECT * FROM raw_mindflow.journal_entries")
    u = read(url, "SELECT id AS user_id, deleted_at AS user_deleted FROM raw_mindflow.users")
    s = read(url, "SELECT user_id, private_mode FROM raw_mindflow.user_settings")
    df = e.merge(u, on="user_id").merge(s, on="user_id", how="left")
    df = df[df.deleted_at.isna() & df.user_deleted.isna() & ~df.is_private & ~df.private_mode.fillna(False).astype(bool)]
    df = df[(df.date >= start) & (df.date <= end)]
    out = {}
    for user, g in df.groupby("user_id"):
        n, words = len(g), int(g.word_count.sum())
        by_dow = g.groupby(g.date.map(lambda d: d.weekday())).word_count.sum()
        best = sorted(by_dow.index, key=lambda wd: (-by_dow[wd], wd))[0]
        days = sorted(g.date)
        longest = run = 1
        for a, b in zip(days, days[1:]):
            run = run + 1 if (b - a).days == 1 else 1
            longest = max(longest, run)
        moods = g.mood.dropna()
        pct = lambda k: (Decimal(100 * int(k)) / len(moods)).quantize(Decimal("0.01"), ROUND_HALF_UP) if len(moods) else None
        counts = moods.value_counts()
        out[str(user)] = {
            "entries_analyzed": n, "total_words": words,
            "average_words": int((Decimal(words) / n).quantize(Decimal(1), ROUND_HALF_UP)),
            "most_productive_day": calendar.day_name[best], "longest_streak": longest,
            "mood_positive_pct": pct(moods.isin(["ecstatic", "happy"]).sum()),
            "mood_neutral_pct": pct((moods == "neutral").sum()),
            "mood_negative_pct": pct(moods.isin(["sad", "anxious", "angry"]).sum()),
            "dominant_mood": sorted(counts[counts == counts.max()].index)[0] if len(moods) else None,
        }
    return out


def stored_insights(url, insight_type, start) -> dict:
    df = read(url, "SELECT * FROM analytics.journal_insights WHERE insight_type = %s AND start_date = %s",
              (insight_type, start))
    return {str(r["user_id"]): r for r in df.to_dict("records")}


def build(url, insight_type, start, end):
    from assets.insights.build import build_period

    with psycopg.connect(url) as conn:
        res = build_period(conn, insight_type, start, end)
        conn.commit()
    return res


def check_numeric(url, insight_type, start, end):
    exp = expected_insights(url, start, end)
    got = stored_insights(url, insight_type, start)
    assert set(got) == set(exp)
    for user, cols in exp.items():
        assert {c: got[user][c] for c in NUMERIC} == cols, user
        assert got[user]["end_date"] == end
    return got


def periods(today: date):
    mon = today - timedelta(days=21)
    mon -= timedelta(days=mon.weekday())
    month = (today - timedelta(days=20)).replace(day=1)
    month_end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    year = date(month.year, 1, 1)
    return {"weekly": (mon, mon + timedelta(days=6)), "monthly": (month, month_end),
            "yearly": (year, date(year.year, 12, 31))}


def _plant(source_url, ds, week):
    """A canary in an eligible entry of the week (made private later) and in an already private entry."""
    eligible = [(eid, e) for eid, e in ds.entries.items()
                if week[0] <= e["date"] <= week[1] and not e["private"] and e["user_id"] != ds.private_mode_user]
    by_user = {}
    for eid, e in eligible:
        by_user.setdefault(e["user_id"], []).append((eid, e))
    eligible = next(v for v in by_user.values() if len(v) >= 2)[:2]  # a theme needs 2 entries of the week
    private = [(eid, e) for eid, e in ds.entries.items() if week[0] <= e["date"] <= week[1] and e["private"]]
    with psycopg.connect(source_url) as conn:
        conn.execute("UPDATE mindflow.journal_entries SET content = content || %s WHERE id = ANY(%s)",
                     (f" {CANARY}" * 6, [eid for eid, _ in eligible]))
        for eid, _ in private:
            conn.execute("UPDATE mindflow.journal_entries SET content = content || %s WHERE id = %s",
                         (f" {PRIVATE_CANARY}" * 6, eid))
        pm = [eid for eid, e in ds.entries.items() if e["user_id"] == ds.private_mode_user]
        conn.execute("UPDATE mindflow.journal_entries SET content = content || %s WHERE id = ANY(%s)",
                     (f" {PRIVATE_CANARY}" * 6, pm))
    return eligible, private


def all_insight_text(url) -> str:
    df = read(url, "SELECT summary, themes::text, milestones::text, suggestions::text FROM analytics.journal_insights")
    return " ".join(" ".join(map(str, r)) for r in df.values.tolist())


def test_insights_numbers_edits_and_privacy(databases):
    src, wh = databases.source_url, databases.warehouse_url
    ds = build_dataset(src)
    per = periods(ds.last_day + timedelta(days=1))
    eligible, private = _plant(src, ds, per["weekly"])
    assert private, "dataset should hold a private entry in the week"
    sync(src, wh)
    run_events(wh)
    for kind, (a, b) in per.items():
        build(wh, kind, a, b)
        check_numeric(wh, kind, a, b)
    week = per["weekly"]
    before = stored_insights(wh, "weekly", week[0])
    # the canary method can see a leak: the eligible canary IS a theme, the private one is nowhere
    canary_user = str(eligible[0][1]["user_id"])
    assert CANARY in [t["name"] for t in before[canary_user]["themes"]]
    assert PRIVATE_CANARY not in all_insight_text(wh)
    assert str(ds.private_mode_user) not in before  # private mode: no insight at all
    for row in before.values():
        assert row["summary"] and isinstance(row["suggestions"], list)
        assert all(set(t) == {"name", "frequency", "sentiment", "relatedWords"} for t in row["themes"])
    daily_before = read(wh, "SELECT * FROM analytics.mood_daily_summary")

    # Edits after the week was summarized: mood+text changed, soft delete, made private, account deleted.
    in_week = [(eid, e) for eid, e in ds.entries.items() if week[0] <= e["date"] <= week[1]
               and not e["private"] and e["mood"] and e["user_id"] not in (ds.private_mode_user, canary_user)]
    edited, deleted = in_week[0], in_week[1]
    gone_user = next(u for u in ds.users if u not in (ds.private_mode_user, canary_user, edited[1]["user_id"],
                                                       deleted[1]["user_id"]))
    new_mood = "angry" if edited[1]["mood"] != "angry" else "ecstatic"
    with psycopg.connect(src) as conn:
        conn.execute("UPDATE mindflow.journal_entries SET mood = %s, content = 'furious awful terrible day', "
                     "word_count = 4 WHERE id = %s", (new_mood, edited[0]))
        conn.execute("UPDATE mindflow.journal_entries SET deleted_at = now() WHERE id = %s", (deleted[0],))
        conn.execute("UPDATE mindflow.journal_entries SET is_private = true WHERE id = ANY(%s)",
                     ([eid for eid, _ in eligible],))
        conn.execute("UPDATE mindflow.users SET deleted_at = now() WHERE id = %s", (gone_user,))
    sync(src, wh)
    res, roll = run_events(wh, overlap=timedelta(0))
    # incremental: only the touched rows differ (edit: -1/+1, soft delete: -1, two private flips: <= -2/+2;
    # the deleted account's rows leave through the removed-user path)
    assert res.mode == "changes" and 1 <= res.mood_inserted <= 3 and 2 <= res.mood_deleted <= 4
    assert res.removed_users == 1
    assert_matches_model(wh)  # rollups reflect all four changes

    daily = read(wh, "SELECT * FROM analytics.mood_daily_summary")
    assert len(daily[daily.user_id.astype(str) == gone_user]) == 0
    assert len(daily_before[daily_before.user_id.astype(str) == gone_user]) > 0
    key = lambda eid: (pd.Timestamp(ds.entries[eid]["date"], tz="UTC"), ds.entries[eid]["user_id"])
    d = {(r.day, str(r.user_id)): r for r in daily.itertuples()}
    assert key(deleted[0]) not in d
    assert d[key(edited[0])].most_common_mood == new_mood and d[key(edited[0])].total_words == 4

    # the changed periods are marked stale; the sensor maps them to partition keys
    from assets.insights.periods import stale_partitions

    with psycopg.connect(wh) as conn:
        stale = stale_partitions(conn)
    assert week[0].isoformat() in stale["weekly"]
    build(wh, "weekly", *week)
    after = check_numeric(wh, "weekly", *week)
    for user in {edited[1]["user_id"], deleted[1]["user_id"], canary_user}:
        assert {c: after[user][c] for c in NUMERIC} != {c: before[user][c] for c in NUMERIC}
    assert gone_user not in after
    assert CANARY not in all_insight_text(wh) or _only_in_other_periods(wh, week[0])
    with psycopg.connect(wh) as conn:
        assert week[0].isoformat() not in stale_partitions(conn)["weekly"]


def _only_in_other_periods(url, week_start) -> bool:
    df = read(url, "SELECT insight_type, start_date FROM analytics.journal_insights WHERE themes::text LIKE %s "
                   "OR summary LIKE %s", (f"%{CANARY}%", f"%{CANARY}%"))
    # monthly/yearly partitions containing the week are re-run by the sensor too; here only the week was
    return not ((df.insight_type == "weekly") & (df.start_date == week_start)).any()


def test_custom_insights_over_any_range_for_chosen_users(databases):
    """insight_type 'custom' (seed 004): an insight over a range a user picks, with the same numbers as an
    independent pandas model over that range; a run for one user keeps the others' custom rows and other
    ranges; the Dagster asset builds the default range (last 30 days) for every eligible user."""
    import dagster as dg

    from assets.insights.assets import journal_insights_custom
    from assets.insights.build import build_custom, custom_range
    from assets.resources import default_resources

    src, wh = databases.source_url, databases.warehouse_url
    ds = build_dataset(src)
    sync(src, wh)
    run_events(wh)
    start, end = ds.last_day - timedelta(days=12), ds.last_day - timedelta(days=2)  # 11 days, no calendar period
    with psycopg.connect(wh) as conn:
        build_custom(conn, start, end)
        build_custom(conn, start, end + timedelta(days=1))  # another range from the same day
        conn.commit()
    exp = expected_insights(wh, start, end)
    rows = read(wh, "SELECT * FROM analytics.journal_insights WHERE insight_type = 'custom' AND start_date = %s "
                    "AND end_date = %s", (start, end))
    got = {str(r["user_id"]): r for r in rows.to_dict("records")}
    assert exp and set(got) == set(exp)
    for user, cols in exp.items():
        assert {c: got[user][c] for c in NUMERIC} == cols, user
        assert got[user]["summary"]
    one = next(iter(exp))
    with psycopg.connect(wh) as conn:
        res = build_custom(conn, start, end, users=[one])
        conn.commit()
        counts = dict(conn.execute("SELECT end_date, count(*) FROM analytics.journal_insights "
                                   "WHERE insight_type = 'custom' GROUP BY 1").fetchall())
    assert res.rows_replaced == 1 and res.users == 1
    assert counts == {end: len(exp), end + timedelta(days=1): len(expected_insights(wh, start, end + timedelta(days=1)))}
    try:
        custom_range(end, start, ds.last_day)
        raise AssertionError("an inverted range must be refused")
    except ValueError:
        pass

    result = dg.materialize([journal_insights_custom], resources=default_resources())
    assert result.success
    with psycopg.connect(wh) as conn:
        today = conn.execute("SELECT (now() AT TIME ZONE 'UTC')::date").fetchone()[0]
    d_start, d_end = custom_range(None, None, today)
    assert (d_end - d_start).days == 29
    exp = expected_insights(wh, d_start, d_end)
    rows = read(wh, "SELECT * FROM analytics.journal_insights WHERE insight_type = 'custom' AND start_date = %s "
                    "AND end_date = %s", (d_start, d_end))
    assert {str(u) for u in rows["user_id"]} == set(exp)
