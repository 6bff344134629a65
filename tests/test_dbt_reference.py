"""The marts recomputed independently in Python (pandas) from the raw tables, for test_dbt*.py.

Each function takes the raw tables (dict of DataFrames, every row, with `_quality_issues`: the sorted
rule ids of the row's active quarantine entries; read views keep such rows flagged) and
returns the mart's expected rows; `normalize` makes rows comparable (uuids as text, decimals as
floats, timestamps in UTC, JSON parsed)."""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
import math
import uuid

import pandas as pd

ACTIVE_STATUSES = {"running", "pending_approval", "approved"}


def load_raw(conn, tables: list[str]) -> dict[str, pd.DataFrame]:
    """raw_<product>.<table> as DataFrames keyed 'product.table', each row with `_quality_issues`."""
    from sources.registry import get_table

    has_quarantine = conn.execute("select to_regclass('quality.active_quarantine') is not null").fetchone()[0]
    out = {}
    for qualified in tables:
        t = get_table(qualified)
        cur = conn.execute(f'select * from "{t.raw_schema}"."{t.name}"')
        df = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description], dtype=object)
        issues: dict[str, list[str]] = {}
        if has_quarantine:
            for key, rule in conn.execute(
                    "select record_key, rule from quality.quarantine where released_at is null and source_table = %s",
                    (qualified,)):
                issues.setdefault(key, []).append(rule)
        rk = [("|".join(str(r[k]) for k in t.key)) for r in df.to_dict("records")]
        df["_quality_issues"] = pd.Series([sorted(issues.get(k, [])) for k in rk], index=df.index, dtype=object)
        out[qualified] = df.reset_index(drop=True)
    return out


def _rows(df: pd.DataFrame) -> list[dict]:
    return df.to_dict("records")


def _none(v):
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT


def normalize_value(v):
    if _none(v):
        return None
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, decimal.Decimal):
        return round(float(v), 6)
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.timezone.utc).isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return [normalize_value(x) for x in v]
    if isinstance(v, dict):
        return {k: normalize_value(x) for k, x in v.items()}
    if hasattr(v, "item"):  # numpy scalars
        return normalize_value(v.item())
    if isinstance(v, str) and len(v) >= 20 and v[4] == "-" and v[10] == "T":  # a timestamp inside JSON
        try:
            return normalize_value(dt.datetime.fromisoformat(v))
        except ValueError:
            return v
    return v


def normalize(rows: list[dict], columns: list[str]) -> list[tuple]:
    out = [tuple(normalize_value(r.get(c)) for c in columns) for r in rows]
    return sorted(out, key=repr)


def _iso(ts) -> str | None:
    if _none(ts):
        return None
    return pd.Timestamp(ts).to_pydatetime().astimezone(dt.timezone.utc).isoformat()


# ---------------------------------------------------------------- MindFlow
def live_entries(raw) -> pd.DataFrame:
    je = raw["mindflow.journal_entries"]
    users = raw["mindflow.users"]
    live_users = users[users["deleted_at"].isna()]
    e = je[je["deleted_at"].isna()]
    return e.merge(live_users[["id", "display_name", "photo_url"]].rename(columns={"id": "user_id"}), on="user_id")


def journals_view(raw) -> list[dict]:
    e = live_entries(raw)
    tags = raw["mindflow.journal_entry_tags"].merge(
        raw["mindflow.tags"][["id", "name"]].rename(columns={"id": "tag_id"}), on="tag_id")
    tag_map = {k: sorted(g["name"]) for k, g in tags.groupby("journal_entry_id")}
    att = raw["mindflow.attachments"]
    att = att[att["deleted_at"].isna()].sort_values(["uploaded_at", "id"], key=lambda s: s.astype(str) if s.name == "id" else s)
    att_map = {}
    for k, g in att.groupby("journal_entry_id", sort=False):
        att_map[k] = [{"id": str(a["id"]), "fileName": a["file_name"], "fileSize": int(a["file_size"]),
                       "mimeType": a["mime_type"], "url": a["s3_url"], "thumbnailUrl": a["thumbnail_url"]}
                      for a in _rows(g)]
    out = []
    for r in _rows(e):
        atts = att_map.get(r["id"], [])
        out.append({**{c: r[c] for c in ("id", "user_id", "date", "title", "content", "mood", "location", "weather",
                                          "word_count", "reading_time", "is_private", "created_at", "updated_at")},
                    "user_name": r["display_name"], "user_photo": r["photo_url"],
                    "has_quality_issues": bool(r["_quality_issues"]), "quality_issues": r["_quality_issues"],
                    "tags": tag_map.get(r["id"], []), "attachments": atts, "attachment_count": len(atts)})
    return out


def user_profile_view(raw, today: dt.date) -> list[dict]:
    users = raw["mindflow.users"]
    users = users[users["deleted_at"].isna()]
    streaks = {r["user_id"]: r for r in _rows(raw["mindflow.user_streaks"])}
    settings = {r["user_id"]: r for r in _rows(raw["mindflow.user_settings"])}
    consent = {r["user_id"]: r for r in _rows(raw["mindflow.user_gdpr_consent"])}
    computed = entry_streaks(raw)
    midnight = dt.datetime.combine(today, dt.time(), tzinfo=dt.timezone.utc)
    out = []
    for u in _rows(users):
        s, st, gc = streaks.get(u["id"]), settings.get(u["id"]) or {}, consent.get(u["id"]) or {}
        delta = midnight - u["created_at"]
        days = delta.days if delta >= dt.timedelta(0) else -((-delta).days)
        total_entries = s["total_entries"] if s else None
        out.append({
            **{c: u[c] for c in ("id", "email", "display_name", "photo_url", "timezone", "language", "theme",
                                 "created_at", "last_login_at")},
            "current_streak": s["current_streak"] if s else 0, "longest_streak": s["longest_streak"] if s else 0,
            "total_entries": total_entries or 0, "total_words": s["total_words"] if s else 0,
            "last_entry_date": s["last_entry_date"] if s else None,
            "settings": {"autoSave": st.get("auto_save"), "privateMode": st.get("private_mode"),
                         "emailNotifications": {"weeklyInsights": st.get("email_weekly_insights"),
                                                "monthlyInsights": st.get("email_monthly_insights"),
                                                "reminderToWrite": st.get("email_reminder_to_write")}},
            "gdpr_consent": {"termsAcceptedAt": _iso(gc.get("terms_accepted_at")),
                             "privacyPolicyAcceptedAt": _iso(gc.get("privacy_policy_accepted_at")),
                             "dataProcessingConsent": gc.get("data_processing_consent"),
                             "marketingConsent": gc.get("marketing_consent")},
            "joined_days_ago": days,
            "avg_words_per_entry": (s["total_words"] // total_entries) if total_entries and total_entries > 0 else 0,
            **_streak_columns(s, computed.get(u["id"])),
        })
    return out


def entry_streaks(raw) -> dict:
    """user_id -> streak facts from live entries: runs of consecutive dates, the current one ending at the
    last entry date (the app's definition, seed 004 user_streaks)."""
    je = raw["mindflow.journal_entries"]
    out = {}
    for user_id, g in je[je["deleted_at"].isna()].groupby("user_id"):
        dates = sorted(set(g["date"]))
        runs, start, prev = [], None, None
        for d in dates:
            if prev is None or d != prev + dt.timedelta(days=1):
                if prev is not None:
                    runs.append((start, prev))
                start = d
            prev = d
        runs.append((start, prev))
        lengths = [(e - s).days + 1 for s, e in runs]
        out[user_id] = {"total": len(g), "longest": max(lengths), "current": lengths[-1], "last": dates[-1]}
    return out


def _streak_columns(app: dict | None, computed: dict | None) -> dict:
    c = computed or {"total": 0, "longest": 0, "current": 0, "last": None}
    a = app or {}
    return {
        "computed_current_streak": c["current"], "computed_longest_streak": c["longest"],
        "computed_total_entries": c["total"], "computed_last_entry_date": c["last"],
        "streak_quality_issues": a.get("_quality_issues", []),
        "streak_matches_entries": (a.get("current_streak", 0) == c["current"] and a.get("longest_streak", 0) == c["longest"]
                                   and a.get("total_entries", 0) == c["total"] and a.get("last_entry_date") == c["last"]),
    }


def mood_calendar_cache(raw) -> list[dict]:
    e = live_entries(raw)
    out = []
    for (user_id, year, month), g in e.groupby(
            [e["user_id"], e["date"].map(lambda d: d.year), e["date"].map(lambda d: d.month)]):
        moods = {r["date"]: r["mood"] for r in _rows(g)}
        days = calendar.monthrange(year, month)[1]
        cal = []
        for day in range(1, days + 1):
            d = dt.date(year, month, day)
            cal.append({"date": d.isoformat(), "mood": moods.get(d), "hasEntry": d in moods})
        out.append({"user_id": user_id, "year": year, "month": month, "calendar_data": cal, "entry_count": len(g),
                    "flagged_entry_count": int(sum(1 for i in g["_quality_issues"] if i))})
    return out


# ---------------------------------------------------------------- AI assistant
def active_agent_sessions(raw) -> list[dict]:
    s = raw["devassist.agent_sessions"]
    g = raw["devassist.governance_events"]
    out = []
    for r in _rows(s[s["status"].isin(ACTIVE_STATUSES)]):
        ev = g[g["agent_session_id"] == r["agent_session_id"]]
        spawn_ok = ev[(ev["approved"] == True) & ev["event_type"].isin(["pre_agent_spawn", "consensus_check"])]  # noqa: E712
        out.append({**{c: r[c] for c in ("agent_session_id", "user_id", "agent_type", "status", "token_cost", "created_at")},
                    "approvals": int((ev["approved"] == True).sum()),  # noqa: E712
                    "rejections": int((ev["approved"] == False).sum()),  # noqa: E712
                    "running_without_approval": r["status"] == "running" and len(spawn_ok) == 0,
                    "quality_issues": r["_quality_issues"]})
    return out


def user_activity_summary(raw) -> list[dict]:
    u = raw["devassist.users"]
    s = raw["devassist.agent_sessions"]
    out = []
    for r in _rows(u[u["is_active"] == True]):  # noqa: E712
        mine = s[s["user_id"] == r["user_id"]]
        costs = [c for c in mine["token_cost"] if not _none(c)]
        out.append({"user_id": r["user_id"], "username": r["username"], "last_active_at": r["last_active_at"],
                    "total_sessions": len(mine),
                    "total_cost": sum(costs) if costs else None,
                    "avg_cost_per_session": (sum(costs) / len(costs)) if costs else None,
                    "last_session_at": max(mine["created_at"]) if len(mine) else None,
                    "flagged_sessions": int(sum(1 for i in mine["_quality_issues"] if i))})
    return out


# ---------------------------------------------------------------- Mosaic
def story_access(raw) -> list[dict]:
    """user_can_access_story for every (user, story), evaluated row by row as the seed's function does."""
    users = list(raw["mosaic.users"]["id"])
    admins = dict(zip(raw["mosaic.legacies"]["id"], raw["mosaic.legacies"]["created_by"]))
    members: dict = {}
    for g in _rows(raw["mosaic.groups"]):
        members.setdefault(g["legacy_id"], set()).update(g["members"] or [])
    family_edges = raw["mosaic.person_relationships"]
    family_edges = family_edges[family_edges["relationship"] == "FAMILY_OF"]
    on_edge = set(family_edges["from_person_id"]) | set(family_edges["to_person_id"])
    family: dict = {}
    for p in _rows(raw["mosaic.persons"]):
        if not _none(p["user_id"]) and (p["relationship_type"] == "family" or p["id"] in on_edge):
            family.setdefault(p["legacy_id"], set()).add(p["user_id"])
    out = []
    for s in _rows(raw["mosaic.stories"]):
        flagged = bool(s["_quality_issues"])
        for u in users:
            if s["submitted_by"] == u:
                reason = "submitter"
            elif admins.get(s["legacy_id"]) == u:
                reason = "legacy_admin"
            elif s["visibility_level"] == "public":
                reason = "public"
            elif s["visibility_level"] == "group" and u in members.get(s["legacy_id"], set()):
                reason = "group"
            elif s["visibility_level"] == "family_only" and u in family.get(s["legacy_id"], set()):
                reason = "family"
            else:
                continue
            if flagged and reason != "submitter":  # a story breaking a rule: its submitter only
                continue
            out.append({"user_id": u, "story_id": s["id"], "legacy_id": s["legacy_id"], "access_reason": reason,
                        "has_quality_issues": flagged})
    return out


def legacy_story_summary(raw) -> list[dict]:
    st = raw["mosaic.stories"]
    out = []
    for l in _rows(raw["mosaic.legacies"]):
        mine = st[st["legacy_id"] == l["id"]]
        row = {"legacy_id": l["id"], "person_name": l["person_name"], "story_count": len(mine),
               "contributor_count": mine["submitted_by"].nunique(),
               "flagged_stories": int(sum(1 for i in mine["_quality_issues"] if i))}
        for v in ("public", "private", "group", "family_only"):
            row[f"{v}_stories"] = int((mine["visibility_level"] == v).sum())
        for t in ("written", "transcribed", "imported", "sms", "email", "audio"):
            row[f"{t}_stories"] = int((mine["story_type"] == t).sum())
        if len(mine):
            last = sorted(_rows(mine), key=lambda r: (-(r["created_at"].timestamp()) if r["created_at"] else math.inf, str(r["id"])))[0]
            row.update(last_story_id=last["id"], last_story_title=last["title"], last_story_at=last["created_at"])
        else:
            row.update(last_story_id=None, last_story_title=None, last_story_at=None)
        out.append(row)
    return out


# ---------------------------------------------------------------- Study coach
def coach_daily_progress(raw) -> list[dict]:
    users = raw["coach.users"]
    live = set(users[users["deleted_at"].isna()]["id"])
    minutes: dict = {}
    for r in _rows(raw["coach.study_sessions"]):
        k = (r["user_id"], r["recorded_at"].astimezone(dt.timezone.utc).date())
        minutes[k] = minutes.get(k, 0) + r["minutes"]
    plan_user = dict(zip(raw["coach.plans"]["id"], raw["coach.plans"]["user_id"]))
    done: dict = {}
    for r in _rows(raw["coach.tasks"]):
        if r["status"] == "done" and not _none(r["completed_at"]) and r["plan_id"] in plan_user:
            k = (plan_user[r["plan_id"]], r["completed_at"].astimezone(dt.timezone.utc).date())
            done[k] = done.get(k, 0) + 1
    active = sorted(k for k in set(minutes) | set(done)
                    if k[0] in live and (minutes.get(k, 0) > 0 or done.get(k, 0) > 0))
    out, prev = [], None
    for user, day in active:
        streak = prev[2] + 1 if prev and prev[0] == user and prev[1] == day - dt.timedelta(days=1) else 1
        out.append({"user_id": user, "day": day, "streak_days": streak,
                    "completed_tasks": done.get((user, day), 0), "study_minutes": minutes.get((user, day), 0)})
        prev = (user, day, streak)
    return out


# ---------------------------------------------------------------- PersonaKit
def observation_pipeline_status(raw) -> list[dict]:
    persons = raw["personakit.persons"]
    obs = raw["personakit.observations"]
    out = []
    for p in _rows(persons[persons["deleted_at"].isna()]):
        mine = obs[obs["person_id"] == p["person_id"]]
        pending = mine[mine["processing_status"] == "pending"]
        row = {"person_id": p["person_id"], "total_observations": len(mine),
               "oldest_pending_at": min(pending["created_at"]) if len(pending) else None,
               "last_observation_at": max(mine["created_at"]) if len(mine) else None,
               "flagged_count": int(sum(1 for i in mine["_quality_issues"] if i))}
        for s in ("pending", "approved", "processed", "rejected"):
            row[f"{s}_count"] = int((mine["processing_status"] == s).sum())
        for s in ("chat_log", "document", "interview", "assessment", "api_import"):
            row[f"{s}_count"] = int((mine["source_type"] == s).sum())
        out.append(row)
    return out


TABLES = [
    "mindflow.users", "mindflow.journal_entries", "mindflow.journal_entry_tags", "mindflow.tags",
    "mindflow.attachments", "mindflow.user_streaks", "mindflow.user_settings", "mindflow.user_gdpr_consent",
    "devassist.users", "devassist.agent_sessions", "devassist.governance_events",
    "mosaic.users", "mosaic.legacies", "mosaic.stories", "mosaic.groups", "mosaic.persons", "mosaic.person_relationships",
    "coach.users", "coach.plans", "coach.tasks", "coach.study_sessions",
    "personakit.persons", "personakit.observations",
]


def expected_marts(raw, today: dt.date) -> dict[str, list[dict]]:
    return {
        "journals_view": journals_view(raw),
        "user_profile_view": user_profile_view(raw, today),
        "mood_calendar_cache": mood_calendar_cache(raw),
        "active_agent_sessions": active_agent_sessions(raw),
        "user_activity_summary": user_activity_summary(raw),
        "story_access": story_access(raw),
        "legacy_story_summary": legacy_story_summary(raw),
        "coach_daily_progress": coach_daily_progress(raw),
        "observation_pipeline_status": observation_pipeline_status(raw),
    }
