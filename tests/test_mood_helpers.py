"""Shared helpers of the mood/insights tests (no tests here).

- `sync(source_url, warehouse_url)`: the ingest engineer's `assets.ingest.pipeline.sync_all` when it has
  landed; until then a small stand-in with the same contract for the tables these areas read: raw
  copies plus `_ingested_at` (bumped only for rows that changed) and `_source_lsn`, hard deletes
  propagated. Then, once, the dbt views these areas read (eligibility and staging models).
- `build_dataset(source_url)`: a small hand-made MindFlow dataset written to the SOURCE database (so the
  seed's constraints apply): users (one in private mode), entries over the last ~6 weeks with moods,
  texts, tags, private entries, entries without a mood, audit logs with and without entryId, edits.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import psycopg
from psycopg.types.json import Jsonb

RAW_TABLES = ("users", "user_settings", "journal_entries", "tags", "journal_entry_tags", "audit_logs")


def _standin_sync(source_url: str, warehouse_url: str) -> None:
    with psycopg.connect(source_url) as src, psycopg.connect(warehouse_url) as wh:
        wh.execute("CREATE SCHEMA IF NOT EXISTS raw_mindflow")
        for table in RAW_TABLES:
            cols = src.execute(
                """SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                   JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'mindflow' AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
                   ORDER BY a.attnum""", (table,)).fetchall()
            coldefs = ", ".join(f'"{c}" {t}' for c, t in cols)
            wh.execute(f'CREATE TABLE IF NOT EXISTS raw_mindflow."{table}" ({coldefs}, '
                       f'_ingested_at timestamptz NOT NULL DEFAULT clock_timestamp(), _source_lsn text)')
            source = dict(src.execute(f'SELECT id::text, to_jsonb(t)::text FROM mindflow."{table}" t').fetchall())
            raw = dict(wh.execute(
                f"SELECT id::text, (to_jsonb(t) - '_ingested_at' - '_source_lsn')::text FROM raw_mindflow.\"{table}\" t"
            ).fetchall())
            stale = [k for k in raw if source.get(k) != raw[k]]
            fresh = [k for k in source if raw.get(k) != source[k]]
            if stale:
                wh.execute(f'DELETE FROM raw_mindflow."{table}" WHERE id::text = ANY(%s)', (stale,))
            lsn = src.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
            for k in fresh:
                wh.execute(
                    f'INSERT INTO raw_mindflow."{table}" SELECT r.* FROM jsonb_populate_record('
                    f'NULL::raw_mindflow."{table}", %s::jsonb || jsonb_build_object('
                    f"'_ingested_at', clock_timestamp(), '_source_lsn', %s::text)) r", (source[k], lsn))
        wh.commit()


# The dbt views the mood and insights areas read, with the staging views beneath them.
VIEWS = ("+eligible_journal_entries", "stg_mindflow__journal_entry_tags", "stg_mindflow__tags",
         "stg_mindflow__audit_logs")


def sync(source_url: str, warehouse_url: str) -> None:
    """Ingest, and the first time the dbt views over the raw copies (they read the copies live)."""
    try:
        from assets.ingest.pipeline import sync_all
    except ImportError:
        _standin_sync(source_url, warehouse_url)
    else:
        sync_all(source_url, warehouse_url)
    build_views(warehouse_url)


def build_views(warehouse_url: str) -> None:
    """dbt run of VIEWS when they are not there yet."""
    from assets.dbt.project import run_dbt

    with psycopg.connect(warehouse_url) as wh:
        if wh.execute("SELECT to_regclass('eligibility.eligible_journal_entries')").fetchone()[0]:
            return
    run_dbt(["run", "--select", *VIEWS], url=warehouse_url, check=True)


POSITIVE = ["wonderful", "grateful", "happy", "excited", "proud", "calm", "laughed", "joyful", "great"]
NEGATIVE = ["worried", "tired", "frustrated", "lonely", "stressed", "angry", "sad", "anxious", "awful"]
TOPICS = {
    "work": ["meeting", "deadline", "project", "colleague", "presentation", "office"],
    "running": ["run", "park", "kilometers", "legs", "race", "training"],
    "family": ["mother", "dinner", "sister", "kids", "home", "visit"],
    "garden": ["tomatoes", "roses", "soil", "watering", "seeds", "harvest"],
}
MOODS = ["ecstatic", "happy", "neutral", "sad", "anxious", "angry"]


@dataclass
class Dataset:
    users: list[str]
    private_mode_user: str
    entries: dict[str, dict] = field(default_factory=dict)
    first_day: date | None = None
    last_day: date | None = None


def make_text(rng: random.Random, mood: str, topic: str, extra: list[str] = ()) -> str:
    tone = POSITIVE if mood in ("ecstatic", "happy") else NEGATIVE if mood in ("sad", "anxious", "angry") else []
    words = []
    for _ in range(rng.randint(12, 30)):
        r = rng.random()
        if r < 0.35:
            words.append(rng.choice(TOPICS[topic]))
        elif r < 0.55 and tone:
            words.append(rng.choice(tone))
        else:
            words.append(rng.choice(["the", "a", "today", "and", "with", "felt", "about", "was", "my", "we"]))
    words += list(extra)
    return " ".join(words).capitalize() + "."


def build_dataset(source_url: str, *, users: int = 6, days: int = 42, seed: int = 11,
                  today: date | None = None) -> Dataset:
    rng = random.Random(seed)
    today = today or datetime.now(timezone.utc).date()
    first = today - timedelta(days=days)
    user_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(users)]
    ds = Dataset(users=user_ids, private_mode_user=user_ids[-1], first_day=first, last_day=today - timedelta(days=1))
    tag_ids = {name: str(uuid.UUID(int=rng.getrandbits(128), version=4)) for name in ("work", "health", "family", "gratitude")}
    with psycopg.connect(source_url) as conn:
        for name, tid in tag_ids.items():
            conn.execute("INSERT INTO mindflow.tags (id, name) VALUES (%s, %s)", (tid, name))
        for i, uid in enumerate(user_ids):
            created = datetime.combine(first - timedelta(days=30), time(9), timezone.utc)
            conn.execute("INSERT INTO mindflow.users (id, email, password_hash, display_name, created_at) "
                         "VALUES (%s, %s, 'x', %s, %s)", (uid, f"user{i}@example.com", f"User {i}", created))
            conn.execute("INSERT INTO mindflow.user_settings (user_id, private_mode) VALUES (%s, %s)",
                         (uid, uid == ds.private_mode_user))
            topic = list(TOPICS)[i % len(TOPICS)]
            for d in range(days):
                day = first + timedelta(days=d)
                if rng.random() < 0.25:
                    # a login without an entry
                    if rng.random() < 0.5:
                        conn.execute("INSERT INTO mindflow.audit_logs (user_id, action, \"timestamp\") VALUES (%s, 'LOGIN', %s)",
                                     (uid, datetime.combine(day, time(7, 30), timezone.utc)))
                    continue
                mood = rng.choice(MOODS) if rng.random() > 0.06 else None
                private = rng.random() < 0.12
                this_topic = topic if rng.random() < 0.7 else rng.choice(list(TOPICS))
                text = make_text(rng, mood or "neutral", this_topic)
                eid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                created_at = datetime.combine(day, time(20, rng.randint(0, 59)), timezone.utc)
                edited = rng.random() < 0.2
                updated_at = created_at + timedelta(hours=2) if edited else created_at
                conn.execute(
                    "INSERT INTO mindflow.journal_entries (id, user_id, date, title, content, mood, word_count, "
                    "is_private, created_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    (eid, uid, day, f"{this_topic} day", text, mood, len(text.split()), private, created_at))
                conn.execute("ALTER TABLE mindflow.journal_entries DISABLE TRIGGER entries_updated_at")
                conn.execute("UPDATE mindflow.journal_entries SET updated_at = %s WHERE id = %s", (updated_at, eid))
                conn.execute("ALTER TABLE mindflow.journal_entries ENABLE TRIGGER entries_updated_at")
                for tname in rng.sample(list(tag_ids), rng.randint(0, 2)):
                    conn.execute("INSERT INTO mindflow.journal_entry_tags (journal_entry_id, tag_id) VALUES (%s, %s)",
                                 (eid, tag_ids[tname]))
                ds.entries[eid] = {"user_id": uid, "date": day, "mood": mood, "private": private}
                login = created_at - timedelta(minutes=10)
                conn.execute("INSERT INTO mindflow.audit_logs (user_id, action, \"timestamp\", ip_address) "
                             "VALUES (%s, 'LOGIN', %s, '10.0.0.1')", (uid, login))
                if rng.random() < 0.5:  # half of the creations are in the audit trail
                    conn.execute("INSERT INTO mindflow.audit_logs (user_id, action, \"timestamp\", metadata) "
                                 "VALUES (%s, 'ENTRY_CREATE', %s, %s)", (uid, created_at, Jsonb({"entryId": eid})))
                if edited and rng.random() < 0.5:
                    conn.execute("INSERT INTO mindflow.audit_logs (user_id, action, \"timestamp\", metadata) "
                                 "VALUES (%s, 'ENTRY_UPDATE', %s, %s)",
                                 (uid, updated_at, Jsonb({"entryId": eid, "changes": {"before": {"content": "secret"}}})))
                extra = rng.random()
                action = ("LOGOUT" if extra < 0.3 else "INSIGHT_VIEW" if extra < 0.4 else "SETTINGS_UPDATE" if extra < 0.45
                          else "PROFILE_UPDATE" if extra < 0.5 else "DATA_EXPORT" if extra < 0.55 else None)
                if action:
                    conn.execute("INSERT INTO mindflow.audit_logs (user_id, action, \"timestamp\") VALUES (%s, %s, %s)",
                                 (uid, action, created_at + timedelta(minutes=30)))
        conn.commit()
    return ds
