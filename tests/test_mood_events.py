"""analytics.mood_events / user_activity_events and the rollups against an independent pandas model."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import psycopg

from test_mood_helpers import build_dataset, sync

ORIGIN = pd.Timestamp("2000-01-03", tz="UTC")


def run_events(url, **kw):
    from assets.mood.events import maintain_events
    from assets.mood.rollups import refresh_native

    with psycopg.connect(url) as conn:
        res = maintain_events(conn, **kw)
        roll = refresh_native(conn)
        conn.commit()
    return res, roll


def read(url, query, params=None):
    with psycopg.connect(url) as conn:
        cur = conn.execute(query, params)
        return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


def expected_mood_events(url) -> pd.DataFrame:
    """Independent model: live entries of live users with a mood (labelled, or inferred from eligible text),
    scored by the pure scoring functions; text is read one entry at a time, only for eligible entries."""
    from assets.mood.scoring import mood_row, read_texts

    e = read(url, "SELECT * FROM raw_mindflow.journal_entries")
    u = read(url, "SELECT id AS user_id, deleted_at AS user_deleted FROM raw_mindflow.users")
    s = read(url, "SELECT user_id, private_mode FROM raw_mindflow.user_settings")
    links = read(url, "SELECT jt.journal_entry_id AS id, t.name FROM raw_mindflow.journal_entry_tags jt "
                      "JOIN raw_mindflow.tags t ON t.id = jt.tag_id")
    df = e.merge(u, on="user_id").merge(s, on="user_id", how="left")
    df = df[df.deleted_at.isna() & df.user_deleted.isna()].copy()
    df["eligible"] = ~df.is_private & ~df.private_mode.fillna(False).astype(bool)
    rows = []
    for m, t, c, el in zip(df.mood, df.title, df.content, df.eligible):
        label = m if isinstance(m, str) else None
        rows.append(mood_row(label, bool(el), read_texts([f"{t or ''}\n{c or ''}"])[0] if el else None))
    df["row"] = rows
    df = df[df.row.notna()].copy()
    df["mood"] = [r.mood for r in df.row]
    df["mood_score"] = [r.score for r in df.row]
    df["mood_source"] = [r.source for r in df.row]
    df["text_conflict"] = [r.conflict for r in df.row]
    df["text_valence"] = [r.valence for r in df.row]
    tags = links.groupby("id")["name"].apply(lambda x: sorted(set(x)))
    df["tags"] = [tags.get(i, []) for i in df.id]
    df["time"] = pd.to_datetime(df.date).dt.tz_localize("UTC")
    return df.rename(columns={"id": "journal_entry_id"})[
        ["time", "user_id", "journal_entry_id", "mood", "mood_score", "tags", "word_count", "mood_source",
         "text_conflict", "text_valence"]]


def expected_daily(me: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (day, user), g in me.groupby([me.time.dt.floor("D"), "user_id"]):
        counts = g.mood.value_counts()
        top = sorted(counts[counts == counts.max()].index)[0]  # MODE(): first in sort order on ties
        avg = sum(g.mood_score, Decimal(0)) / len(g)
        rows.append({"day": day, "user_id": user, "entry_count": len(g), "avg_mood_score": avg,
                     "most_common_mood": top, "total_words": int(g.word_count.sum())})
    return pd.DataFrame(rows)


def expected_weekly(ev: pd.DataFrame) -> pd.DataFrame:
    ev = ev.copy()
    ev["week"] = ORIGIN + ((ev.time - ORIGIN) // pd.Timedelta(days=7)) * pd.Timedelta(days=7)
    g = ev.groupby(["week", "user_id"])
    return pd.DataFrame({
        "login_count": g.event_type.apply(lambda x: int((x == "login").sum())),
        "entries_created": g.event_type.apply(lambda x: int((x == "entry_created").sum())),
        "entries_updated": g.event_type.apply(lambda x: int((x == "entry_updated").sum())),
        "total_events": g.size(),
    }).reset_index()


def expected_activity(url) -> pd.DataFrame:
    """Independent model of the activity events (audit trail first, entry timestamps where it is silent)."""
    mapping = {"LOGIN": "login", "LOGOUT": "logout", "ENTRY_CREATE": "entry_created", "ENTRY_UPDATE": "entry_updated",
               "ENTRY_DELETE": "entry_deleted", "INSIGHT_VIEW": "insight_viewed", "SETTINGS_UPDATE": "settings_updated",
               "PROFILE_UPDATE": "profile_updated"}
    live = set(read(url, "SELECT id FROM raw_mindflow.users WHERE deleted_at IS NULL").id.astype(str))
    a = read(url, "SELECT id, user_id, action, \"timestamp\" AS time, metadata->>'entryId' AS entry_id "
                  "FROM raw_mindflow.audit_logs")
    a = a[a.action.isin(mapping) & a.user_id.astype(str).isin(live)]
    rows = [(r.time, str(r.user_id), mapping[r.action]) for r in a.itertuples()]
    audited = {(r.entry_id, mapping[r.action]) for r in a.itertuples() if r.entry_id}
    e = read(url, "SELECT id, user_id, created_at, updated_at, deleted_at FROM raw_mindflow.journal_entries")
    for r in e.itertuples():
        if str(r.user_id) not in live:
            continue
        if (str(r.id), "entry_created") not in audited:
            rows.append((r.created_at, str(r.user_id), "entry_created"))
        edited = r.updated_at > r.created_at + timedelta(seconds=1) and not (
            pd.notna(r.deleted_at) and r.updated_at >= r.deleted_at - timedelta(seconds=1))
        if edited and (str(r.id), "entry_updated") not in audited:
            rows.append((r.updated_at, str(r.user_id), "entry_updated"))
        if pd.notna(r.deleted_at) and (str(r.id), "entry_deleted") not in audited:
            rows.append((r.deleted_at, str(r.user_id), "entry_deleted"))
    return pd.DataFrame(rows, columns=["time", "user_id", "event_type"])


def assert_matches_model(url):
    me = expected_mood_events(url)
    got = read(url, "SELECT * FROM analytics.mood_events")
    key = lambda df: sorted((str(r.journal_entry_id), r.time, str(r.user_id), r.mood, r.mood_score, list(r.tags),
                             r.word_count, r.mood_source, bool(r.text_conflict),
                             None if r.text_valence is None or r.text_valence != r.text_valence else r.text_valence)
                     for r in df.itertuples())
    assert key(got) == key(me)

    daily = read(url, "SELECT * FROM analytics.mood_daily_summary")
    exp = expected_daily(me)
    assert len(daily) == len(exp)
    got_d = {(r.day, str(r.user_id)): r for r in daily.itertuples()}
    for r in exp.itertuples():
        g = got_d[(r.day, str(r.user_id))]
        assert (g.entry_count, g.most_common_mood, g.total_words) == (r.entry_count, r.most_common_mood, r.total_words)
        # exact: the Python quotient rounded to the scale Postgres chose for AVG(numeric)
        assert g.avg_mood_score == r.avg_mood_score.quantize(g.avg_mood_score, rounding=ROUND_HALF_UP)

    ev = expected_activity(url)
    got_ev = read(url, "SELECT time, user_id::text AS user_id, event_type FROM analytics.user_activity_events")
    assert sorted(map(tuple, got_ev.values.tolist())) == sorted(map(tuple, ev.values.tolist()))
    weekly = read(url, "SELECT week, user_id::text AS user_id, login_count, entries_created, entries_updated, "
                       "total_events FROM analytics.user_weekly_activity")
    exp_w = expected_weekly(ev)
    assert sorted(map(tuple, weekly.values.tolist())) == sorted(map(tuple, exp_w.values.tolist()))
    return me, ev


def test_events_and_rollups_match_independent_model(databases):
    ds = build_dataset(databases.source_url)
    sync(databases.source_url, databases.warehouse_url)
    res, roll = run_events(databases.warehouse_url)
    assert res.mode == "full" and res.mood_inserted > 100
    me, ev = assert_matches_model(databases.warehouse_url)
    assert set(ev.event_type) >= {"login", "logout", "entry_created", "entry_updated", "insight_viewed"}
    # weekly buckets start on Mondays (time_bucket's 2000-01-03 origin)
    weeks = read(databases.warehouse_url, "SELECT DISTINCT extract(isodow FROM week) AS d FROM analytics.user_weekly_activity")
    assert set(weeks.d.astype(int)) == {1}
    # no audit row is counted next to its timestamp twin
    dup = read(databases.warehouse_url,
               "SELECT metadata->>'entry_id' e, event_type, count(*) n FROM analytics.user_activity_events "
               "WHERE metadata ? 'entry_id' AND event_type = 'entry_created' GROUP BY 1, 2 HAVING count(*) > 1")
    assert dup.empty
    # rule 5 / rule 2: activity metadata carries identifiers only
    leaked = read(databases.warehouse_url, "SELECT count(*) n FROM analytics.user_activity_events "
                                           "WHERE metadata::text LIKE '%%secret%%' OR metadata::text LIKE '%%10.0.0.1%%'")
    assert leaked.n[0] == 0

    # A second run with nothing new changes nothing.
    res2, roll2 = run_events(databases.warehouse_url)
    assert res2.mode == "changes" and res2.mood_inserted == 0 and res2.activity_inserted == 0
    assert all(r["dirty_buckets"] == 0 for r in roll2.values())

    # A pass over every day (window) re-reads every live entry but scores none whose fingerprint is stored:
    # their rows already are the desired ones. An edit re-scores that entry alone, and the model still holds.
    days = read(databases.warehouse_url, 'SELECT min("date") AS a, max("date") AS b FROM raw_mindflow.journal_entries')
    window = (days.a[0], days.b[0])
    res3, _ = run_events(databases.warehouse_url, window=window)
    assert res3.scored_entries == 0 and res3.unchanged_entries > 100 and res3.mood_inserted == res3.mood_deleted == 0
    with psycopg.connect(databases.source_url, autocommit=True) as src:
        (edited,) = src.execute(
            "UPDATE mindflow.journal_entries e SET content = 'I feel wonderful, grateful and calm today.', mood = NULL "
            "WHERE e.id = (SELECT e2.id FROM mindflow.journal_entries e2 JOIN mindflow.users u ON u.id = e2.user_id "
            "WHERE e2.deleted_at IS NULL AND NOT e2.is_private AND u.deleted_at IS NULL ORDER BY e2.id LIMIT 1) "
            "RETURNING e.id").fetchone()
    sync(databases.source_url, databases.warehouse_url)
    res4, _ = run_events(databases.warehouse_url, window=window)
    assert res4.scored_entries == 1 and res4.unchanged_entries == res3.unchanged_entries - 1
    assert res4.mood_inserted + res4.mood_deleted >= 1
    assert_matches_model(databases.warehouse_url)
