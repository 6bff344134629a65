"""Diff-based maintenance of analytics.mood_events and analytics.user_activity_events.

Choices (documented for analysts):
- `mood_events.time` is the entry's journal DATE at 00:00 UTC, not `created_at`. The journal date is
  what the entry is about (it is unique per user: seed constraint uq_user_date), the mood calendar and
  the insights are keyed by it, and a back-dated entry belongs to its day. As a consequence a
  (day, user) bucket of mood_daily_summary holds at most one entry, which also lets a removal older
  than the retention period be reflected exactly (the bucket is that one entry).
- One mood_events row per live entry with a mood: a row of the dbt model
  eligibility.eligible_journal_entries (entry not soft-deleted, user not soft-deleted, neither actively
  quarantined; its ai_eligible flag says whether the text may be read). `tags` = sorted tag names (empty array when none); `word_count` from the source.
  `mood_source` is 'label' for the user's own mood; an AI-eligible entry saved WITHOUT a mood gets a row
  with the mood its text names (scoring.infer_mood) and `mood_source = 'inferred'` (none when the text
  does not say). `text_conflict` flags a labelled AI-eligible entry whose text valence clearly opposes
  its label (scoring.conflicts); `text_valence` is the text's valence (NULL for ineligible entries), the
  number insight themes average. Ineligible entries: label only, text never read, never inferred.
- user_activity_events come from the audit trail, staging.stg_mindflow__audit_logs (LOGIN, LOGOUT, ENTRY_CREATE/UPDATE/DELETE,
  INSIGHT_VIEW, SETTINGS_UPDATE, PROFILE_UPDATE; DATA_EXPORT, ACCOUNT_DELETE and GDPR_CONSENT_UPDATE have
  no seed event type and are skipped) and from entry timestamps (created_at -> entry_created, a later
  updated_at -> entry_updated, deleted_at -> entry_deleted). Each event has an identity in
  metadata->>'event_key' ('audit:<audit id>' or 'entry:<entry id>:created|updated:<epoch>|deleted');
  a timestamp-derived event is produced only when the audit trail has no event of that type for that
  entry, so nothing is counted twice. Lifecycle events of a soft-deleted entry stay (they record what the
  user did and carry only the entry id); every event of a deleted user leaves (rule 1).
- Every read goes through the dbt views (eligibility and staging models), never the warehouse's copies
  directly, so each privacy rule is the one written in dbt.
- Incremental: each run takes the entries touched since the last watermark (`_ingested_at` of the
  staging views, with a one-hour overlap against out-of-order commits; re-processing is harmless because
  it is a diff), the entries of users whose account or settings changed, new tag links, quarantine
  decisions, and rows gone from the warehouse; computes their desired rows; diffs them against the stored rows by entry id / event key
  (delete + insert of what differs, which also moves a row whose date changed to its new partition) and
  records the rollup buckets and insight periods the differences touch. `full=True` (or the first run)
  takes every entry; `window=(first_day, last_day)` adds every entry dated in the window (the Dagster
  daily partitions; a backfill is a reconcile of its days).
- Retention: rows older than the retention floor (the start of the chunk/partition holding
  now() - retention) are never inserted or updated, only removed, so a late edit cannot resurrect data
  the retention dropped and no rollup bucket outside the retained window is recomputed (the refresh trap).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from psycopg import sql

from assets.mood import scoring, schema
from assets.mood.buckets import entry_time
from sources.sql_files import sql_text

STAGING = "staging"
OVERLAP = timedelta(hours=1)
SCORE_BATCH = 2000
# The staging views whose `_ingested_at` the watermark follows.
WATERMARK_VIEWS = tuple(f"stg_mindflow__{t}" for t in
                        ("journal_entries", "users", "user_settings", "journal_entry_tags", "audit_logs"))


@dataclass
class EventsResult:
    mode: str
    scope_entries: int = 0
    scope_audit: int = 0
    mood_inserted: int = 0
    mood_deleted: int = 0
    activity_inserted: int = 0
    activity_deleted: int = 0
    removed_users: int = 0
    scored_entries: int = 0  # live entries in scope whose mood and fingerprint were computed
    unchanged_entries: int = 0  # live entries in scope left out: their fingerprint is the stored one
    changed_days: list[str] = field(default_factory=list)
    watermark: str | None = None
    storage: str = "native"

    def as_metadata(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "changed_days"} | {
            "changed_days": len(self.changed_days)}


def _q(name: str, **fragments) -> list[sql.Composed]:
    text = sql_text(__package__, name)
    body = "\n".join(l for l in text.splitlines() if not l.strip().startswith("--"))
    ids = {"an": sql.Identifier(schema.SCHEMA)}
    return [sql.SQL(s.strip()).format(**ids, **fragments) for s in body.split(";") if s.strip()]


def fingerprint(row: dict) -> str:
    """What insights read from one live entry; content counts only when the entry is AI-eligible."""
    parts = [str(row["date"]), row["mood"] or "", str(row["word_count"]), "1" if row["ai_eligible"] else "0",
             ",".join(row["tags"] or [])]
    if row["ai_eligible"]:
        parts.append(hashlib.md5(f"{row['title'] or ''}\x00{row['content'] or ''}".encode()).hexdigest())
    return hashlib.md5("|".join(parts).encode()).hexdigest()


def _meta_get(conn, key: str):
    row = conn.execute(sql.SQL("SELECT value FROM {} WHERE key = %s").format(
        sql.Identifier(schema.SCHEMA, "_analytics_meta")), (key,)).fetchone()
    return row[0] if row else None


def _meta_set(conn, key: str, value) -> None:
    conn.execute(sql.SQL("INSERT INTO {} (key, value) VALUES (%s, %s::jsonb) ON CONFLICT (key) DO UPDATE "
                         "SET value = excluded.value").format(sql.Identifier(schema.SCHEMA, "_analytics_meta")),
                 (key, json.dumps(value)))


def _ingest_watermark(conn) -> datetime | None:
    parts = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT max(_ingested_at) AS m FROM {}").format(sql.Identifier(STAGING, v)) for v in WATERMARK_VIEWS)
    return conn.execute(sql.SQL("SELECT max(m) FROM ({}) x").format(parts)).fetchone()[0]


def _copy_rows(conn, table: str, columns: list[str], rows: list[tuple]) -> None:
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
    with conn.cursor().copy(stmt) as copy:
        for row in rows:
            copy.write_row(row)


def eligible_text(row: dict) -> str | None:
    """The text scoring may read: title + content of an AI-eligible entry, None otherwise (rule 2)."""
    if not row["ai_eligible"]:
        return None
    return f"{row['title'] or ''}\n{row['content'] or ''}"


def _mood_rows(rows: list[dict]) -> list[tuple]:
    """mood_events rows of live entries: labelled ones, and unlabelled AI-eligible ones whose text names a mood."""
    wanted = [r for r in rows if r["mood"] in scoring.MOOD_SCORES or (r["mood"] is None and r["ai_eligible"])]
    texts = [eligible_text(r) for r in wanted]
    readings = scoring.read_texts(texts)
    out = []
    for row, text, reading in zip(wanted, texts, readings):
        m = scoring.mood_row(row["mood"], row["ai_eligible"], reading if text is not None else None)
        if m is not None:
            out.append((entry_time(row["date"]), row["user_id"], row["id"], m.mood, m.score, row["tags"],
                        row["word_count"], m.source, m.conflict, m.valence))
    return out


def maintain_events(conn, *, full: bool = False, window: tuple[date, date] | None = None,
                    now: datetime | None = None, overlap: timedelta = OVERLAP) -> EventsResult:
    """One maintenance pass in the caller's transaction (commit is the caller's).

    `overlap` re-reads rows ingested shortly before the watermark (out-of-order commits); tests use 0
    to observe the scope of a pure incremental run."""
    from quality.quarantine import ensure_quarantine_schema

    now = now or datetime.now(timezone.utc)
    caps = schema.ensure_analytics(conn, now)
    ensure_quarantine_schema(conn)
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (schema.ADVISORY_LOCK + 1,))
    last = _meta_get(conn, "events_watermark")
    qlast = _meta_get(conn, "quarantine_watermark")
    full = full or last is None
    result = EventsResult(mode="full" if full else ("window+changes" if window else "changes"), storage=caps.mode)
    new_wm = _ingest_watermark(conn)

    conn.execute("CREATE TEMP TABLE _scope_entries (entry_id uuid PRIMARY KEY) ON COMMIT DROP")
    conn.execute("CREATE TEMP TABLE _scope_audit (audit_id uuid PRIMARY KEY) ON COMMIT DROP")
    if full:
        conn.execute(sql.SQL("INSERT INTO _scope_entries SELECT id FROM {stg}.stg_mindflow__journal_entries UNION "
                             "SELECT entry_id FROM {an}._entry_state ON CONFLICT DO NOTHING").format(
            stg=sql.Identifier(STAGING), an=sql.Identifier(schema.SCHEMA)))
        conn.execute(sql.SQL("INSERT INTO _scope_audit SELECT id FROM {}.stg_mindflow__audit_logs").format(
            sql.Identifier(STAGING)))
    else:
        since = datetime.fromisoformat(last) - overlap
        qsince = datetime.fromisoformat(qlast) - overlap if qlast else since
        for stmt in _q("scope_changed_entries.sql"):
            conn.execute(stmt, {"since": since, "qsince": qsince})
        conn.execute(sql.SQL("INSERT INTO _scope_audit SELECT id FROM {}.stg_mindflow__audit_logs"
                             " WHERE _ingested_at >= %s").format(sql.Identifier(STAGING)), (since,))
        if window:
            conn.execute(sql.SQL(
                "INSERT INTO _scope_entries SELECT id FROM {stg}.stg_mindflow__journal_entries"
                " WHERE entry_date BETWEEN %(a)s AND %(b)s "
                "UNION SELECT entry_id FROM {an}._entry_state WHERE day BETWEEN %(a)s AND %(b)s "
                "ON CONFLICT DO NOTHING").format(stg=sql.Identifier(STAGING), an=sql.Identifier(schema.SCHEMA)),
                {"a": window[0], "b": window[1]})
            conn.execute(sql.SQL(
                "INSERT INTO _scope_audit SELECT id FROM {}.stg_mindflow__audit_logs"
                " WHERE occurred_at >= %s AND occurred_at < %s ON CONFLICT DO NOTHING").format(sql.Identifier(STAGING)),
                (entry_time(window[0]), entry_time(window[1]) + timedelta(days=1)))
    conn.execute("ANALYZE _scope_entries")
    conn.execute("ANALYZE _scope_audit")
    result.scope_entries = conn.execute("SELECT count(*) FROM _scope_entries").fetchone()[0]
    result.scope_audit = conn.execute("SELECT count(*) FROM _scope_audit").fetchone()[0]

    for stmt in _q("live_users.sql"):
        conn.execute(stmt)

    # Desired rows of the entries in scope: score in Python (text only for AI-eligible entries). An
    # incremental pass leaves out a live entry whose fingerprint is the stored one: every input of its
    # mood row is in the fingerprint, so its rows already are the desired ones (a full pass re-scores all).
    stored = {} if full else dict(conn.execute(sql.SQL(
        "SELECT s.entry_id, s.fingerprint FROM {}._entry_state s JOIN _scope_entries sc USING (entry_id)").format(
        sql.Identifier(schema.SCHEMA))).fetchall())
    cur = conn.cursor(name="live_entries") if result.scope_entries > 50_000 else conn.cursor()
    (stmt,) = _q("live_entries.sql")
    cur.execute(stmt)
    cols = [d.name for d in cur.description]
    mood_rows, state_rows, pending, unchanged = [], [], [], []
    for values in cur:
        row = dict(zip(cols, values))
        new_print = fingerprint(row)
        if stored.get(row["id"]) == new_print:
            unchanged.append(row["id"])
            continue
        state_rows.append((row["id"], row["user_id"], row["date"], new_print))
        pending.append(row)
        if len(pending) >= SCORE_BATCH:
            mood_rows += _mood_rows(pending)
            pending = []
    mood_rows += _mood_rows(pending)
    cur.close()
    if unchanged:
        conn.execute("DELETE FROM _scope_entries WHERE entry_id = ANY(%s)", (unchanged,))
    result.unchanged_entries, result.scored_entries = len(unchanged), len(state_rows)
    conn.execute("CREATE TEMP TABLE _desired_mood (time timestamptz, user_id uuid, journal_entry_id uuid, "
                 "mood varchar(20), mood_score numeric(3,2), tags text[], word_count integer, mood_source varchar(10), "
                 "text_conflict boolean, text_valence numeric(3,2)) ON COMMIT DROP")
    conn.execute("CREATE TEMP TABLE _desired_state (entry_id uuid, user_id uuid, day date, fingerprint text) "
                 "ON COMMIT DROP")
    _copy_rows(conn, "_desired_mood", ["time", "user_id", "journal_entry_id", "mood", "mood_score", "tags",
                                       "word_count", "mood_source", "text_conflict", "text_valence"], mood_rows)
    _copy_rows(conn, "_desired_state", ["entry_id", "user_id", "day", "fingerprint"], state_rows)
    conn.execute("ANALYZE _desired_mood")

    mood_floor = schema.retention_floor(conn, "mood_events", now)
    act_floor = schema.retention_floor(conn, "user_activity_events", now)
    if not caps.timescale and mood_rows:
        times = [r[0] for r in mood_rows if r[0] >= mood_floor]
        if times:
            schema.ensure_partitions(conn, min(times), max(times), tables=("mood_events",))

    for stmt in _q("removed_users.sql"):
        conn.execute(stmt)
    result.removed_users = conn.execute("SELECT count(*) FROM _removed_users").fetchone()[0]

    for stmt in _q("mood_diff.sql"):
        conn.execute(stmt, {"floor": mood_floor})
    result.mood_deleted, result.mood_inserted = conn.execute(
        "SELECT count(*) FILTER (WHERE old_time IS NOT NULL), count(*) FILTER (WHERE new_time IS NOT NULL) "
        "FROM _mood_changes").fetchone()

    for stmt in _q("state_diff.sql"):
        conn.execute(stmt, {"floor": mood_floor} if "%(floor)s" in stmt.as_string(conn) else None)
    result.changed_days = [str(d) for (d,) in conn.execute(
        "SELECT DISTINCT d FROM (SELECT old_day AS d FROM _state_changes UNION SELECT new_day FROM _state_changes) x "
        "WHERE d IS NOT NULL ORDER BY 1").fetchall()]

    for stmt in _q("activity_desired.sql"):
        conn.execute(stmt)
    if not caps.timescale:
        lo, hi = conn.execute("SELECT min(time), max(time) FROM _desired_activity WHERE time >= %s",
                              (act_floor,)).fetchone()
        if lo is not None:
            schema.ensure_partitions(conn, lo, hi, tables=("user_activity_events",))
    for stmt in _q("activity_diff.sql"):
        conn.execute(stmt, {"floor": act_floor})
    result.activity_deleted, result.activity_inserted = conn.execute(
        "SELECT count(*) FILTER (WHERE old_time IS NOT NULL), count(*) FILTER (WHERE new_time IS NOT NULL) "
        "FROM _activity_changes").fetchone()

    if new_wm is not None:
        _meta_set(conn, "events_watermark", new_wm.isoformat())
        result.watermark = new_wm.isoformat()
    _meta_set(conn, "quarantine_watermark", now.isoformat())
    return result
