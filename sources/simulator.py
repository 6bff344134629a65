"""The live-write simulator (`tessera simulate`): keeps writing to a seeded source database as the apps would.

Several connections write at once, at about `rate` operations per second in total:
- inserts: journal entries (with tags and an audit row), Mosaic stories (with plugin metadata),
  PersonaKit observations, coach dialogue messages and study sessions, AI-assistant agent sessions;
- edits: journal entries (the trigger bumps updated_at; `version` + 1), stories;
- soft deletes (entries, dialogue messages), privacy flips (is_private, private_mode), account
  deletions (soft delete of users in MindFlow, PersonaKit and the coach);
- hard deletes where the schema cascades: a story (plugin metadata and mentions go with it) or, rarely,
  a whole legacy (stories, groups, persons, conversations);
- status moves: observations pending -> approved / rejected -> processed (the immutability trigger
  bumps version), agent sessions initializing -> pending_approval -> approved (with an approving
  governance event) -> running (the governance trigger checks it) -> completed, or blocked;
- long transactions (when enabled): on the first connection, a few writes left open for 1 to 3 s and
  committed after transactions that started later.
App-maintained summaries are kept current as the apps keep them: a journal write (insert, edit, soft
delete) recomputes the author's `mindflow.user_streaks` row in the same transaction, and an agent
session write moves its developer's `devassist.users.last_active_at`.
Every write respects the schema's checks, keys and triggers; a race with another connection (the row
was deleted meanwhile, a deadlock) rolls that operation back and is counted under "conflicts".
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections import Counter
from typing import Callable

import click
import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

RACES = (
    psycopg.errors.ForeignKeyViolation,
    psycopg.errors.UniqueViolation,
    psycopg.errors.DeadlockDetected,
    psycopg.errors.SerializationFailure,
    psycopg.errors.LockNotAvailable,
)


class _Nothing(Exception):
    """No row to act on (e.g. every entry already deleted): the operation is skipped."""


def _pivot(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128)))


def _pick(conn, rng, table: str, key: str, where: str = "true", columns: str | None = None):
    """A random row by key (an index probe from a random UUID pivot, wrapping around)."""
    # Every fragment is a constant of this module (no caller data is formatted into SQL).
    query = sql.SQL("SELECT {cols} FROM {table} WHERE {where} AND {key} {op} %s ORDER BY {key} {order} LIMIT 1")
    for op, order in ((">=", "ASC"), ("<", "DESC")):
        row = conn.execute(
            query.format(cols=sql.SQL(columns or key), table=sql.SQL(table), where=sql.SQL(where),
                         key=sql.SQL(key), op=sql.SQL(op), order=sql.SQL(order)),
            (_pivot(rng),),
        ).fetchone()
        if row:
            return row
    raise _Nothing(table)


def _text():
    from sources.generator import text

    return text


# --- MindFlow ------------------------------------------------------------------------------------
# The app's streak upkeep (seed 004 user_streaks): from the user's live entries, runs of consecutive
# dates; the current streak is the run ending at the last entry date; totals over live entries. The
# per-user advisory lock is taken after the entry write, so whichever transaction recomputes last
# sees every committed write of the others (concurrent writers of one user serialize here).
_STREAK_UPKEEP = """
WITH days AS (
    SELECT date, word_count, date - (row_number() OVER (ORDER BY date))::int AS run_key
      FROM mindflow.journal_entries WHERE user_id = %(user)s AND deleted_at IS NULL
), runs AS (
    SELECT min(date) AS run_start, max(date) AS run_end, count(*) AS n, sum(word_count) AS words
      FROM days GROUP BY run_key
), facts AS (
    SELECT coalesce(sum(n), 0)::int AS total, coalesce(sum(words), 0)::int AS words,
           coalesce(max(n), 0)::int AS longest, max(run_end) AS last,
           coalesce((array_agg(n ORDER BY run_end DESC))[1], 0)::int AS current,
           (array_agg(run_start ORDER BY run_end DESC))[1] AS start
      FROM runs
)
INSERT INTO mindflow.user_streaks (user_id, current_streak, longest_streak, last_entry_date, streak_start_date,
                                   total_entries, total_words)
SELECT %(user)s, current, longest, last, start, total, words FROM facts
ON CONFLICT (user_id) DO UPDATE SET
    current_streak = EXCLUDED.current_streak, longest_streak = EXCLUDED.longest_streak,
    last_entry_date = EXCLUDED.last_entry_date, streak_start_date = EXCLUDED.streak_start_date,
    total_entries = EXCLUDED.total_entries, total_words = EXCLUDED.total_words
"""


def keep_streak_current(conn, user_id) -> None:
    """Recompute `user_id`'s user_streaks row from their live entries, as the app does on every write."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('mindflow.user_streaks:' || %s::text, 0))", (user_id,))
    conn.execute(_STREAK_UPKEEP, {"user": user_id})


def entry_insert(conn, rng):
    text = _text()
    (user_id,) = _pick(conn, rng, "mindflow.users", "id", "deleted_at IS NULL")
    (day,) = conn.execute(
        "SELECT coalesce(max(date) + 1, current_date) FROM mindflow.journal_entries WHERE user_id = %s", (user_id,)
    ).fetchone()
    mood = rng.choice(text.MOODS)
    tags = rng.sample(text.TAGS, 2)
    title, content = text.journal_entry(rng, mood, tags, rng.randint(40, 220))
    content = content[:9000]
    words = text.markdown_word_count(content)
    entry_id = conn.execute(
        """INSERT INTO mindflow.journal_entries (user_id, date, title, content, mood, word_count, reading_time, is_private)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (user_id, day, title[:200], content, mood, words, text.reading_time_seconds(words), rng.random() < 0.05),
    ).fetchone()[0]
    for tag in tags:
        conn.execute("INSERT INTO mindflow.tags (name) VALUES (%s) ON CONFLICT (name) DO NOTHING", (tag,))
        conn.execute(
            """INSERT INTO mindflow.journal_entry_tags (journal_entry_id, tag_id)
               SELECT %s, id FROM mindflow.tags WHERE name = %s""",
            (entry_id, tag),
        )
    conn.execute(
        "INSERT INTO mindflow.audit_logs (user_id, action, metadata) VALUES (%s, 'ENTRY_CREATE', %s)",
        (user_id, json.dumps({"entryId": str(entry_id)})),
    )
    keep_streak_current(conn, user_id)
    return "entry_insert"


def entry_edit(conn, rng):
    text = _text()
    entry_id, mood, user_id = _pick(conn, rng, "mindflow.journal_entries", "id", "deleted_at IS NULL", "id, mood, user_id")
    title, content = text.journal_entry(rng, mood or "neutral", rng.sample(text.TAGS, 2), rng.randint(40, 220))
    content = content[:9000]
    words = text.markdown_word_count(content)
    conn.execute(
        """UPDATE mindflow.journal_entries
              SET title = %s, content = %s, word_count = %s, reading_time = %s, version = version + 1
            WHERE id = %s""",
        (title[:200], content, words, text.reading_time_seconds(words), entry_id),
    )
    keep_streak_current(conn, user_id)  # total_words moves with the word count
    return "entry_edit"


def entry_soft_delete(conn, rng):
    entry_id, user_id = _pick(conn, rng, "mindflow.journal_entries", "id", "deleted_at IS NULL", "id, user_id")
    conn.execute(
        "UPDATE mindflow.journal_entries SET deleted_at = now(), version = version + 1 WHERE id = %s", (entry_id,)
    )
    keep_streak_current(conn, user_id)
    return "entry_soft_delete"


def entry_privacy_flip(conn, rng):
    (entry_id,) = _pick(conn, rng, "mindflow.journal_entries", "id", "deleted_at IS NULL")
    conn.execute(
        "UPDATE mindflow.journal_entries SET is_private = NOT is_private, version = version + 1 WHERE id = %s",
        (entry_id,),
    )
    return "privacy_flip"


def private_mode_flip(conn, rng):
    (settings_id,) = _pick(conn, rng, "mindflow.user_settings", "id")
    conn.execute(
        "UPDATE mindflow.user_settings SET private_mode = NOT coalesce(private_mode, false) WHERE id = %s",
        (settings_id,),
    )
    return "private_mode_flip"


def mindflow_account_delete(conn, rng):
    (user_id,) = _pick(conn, rng, "mindflow.users", "id", "deleted_at IS NULL")
    conn.execute("UPDATE mindflow.users SET deleted_at = now(), is_active = false WHERE id = %s", (user_id,))
    conn.execute("INSERT INTO mindflow.audit_logs (user_id, action) VALUES (%s, 'ACCOUNT_DELETE')", (user_id,))
    return "account_delete"


# --- Mosaic --------------------------------------------------------------------------------------
def story_insert(conn, rng):
    text = _text()
    legacy_id, name = _pick(conn, rng, "mosaic.legacies", "id", columns="id, person_name")
    (user_id,) = _pick(conn, rng, "mosaic.users", "id")
    story_id = conn.execute(
        """INSERT INTO mosaic.stories (legacy_id, submitted_by, title, content, visibility_level, tags)
           VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
        (
            legacy_id,
            user_id,
            text.story_title(rng, name)[:500],
            text.story_text(rng, rng.randint(60, 250), name),
            rng.choice(("public", "private", "group")),
            ["memories"],
        ),
    ).fetchone()[0]
    plugin = conn.execute("SELECT name FROM mosaic.plugins ORDER BY random() LIMIT 1").fetchone()
    if plugin:
        conn.execute(
            """INSERT INTO mosaic.story_plugin_metadata (story_id, plugin_id, metadata_type, metadata_value)
               VALUES (%s, %s, 'sentiment', %s)""",
            (story_id, plugin[0], json.dumps({"score": round(rng.uniform(-1, 1), 3)})),
        )
    return "story_insert"


def story_edit(conn, rng):
    text = _text()
    story_id, name = _pick(
        conn, rng, "mosaic.stories s JOIN mosaic.legacies l ON l.id = s.legacy_id", "s.id", columns="s.id, l.person_name"
    )
    conn.execute(
        "UPDATE mosaic.stories SET content = %s, updated_at = now() WHERE id = %s",
        (text.story_text(rng, rng.randint(60, 250), name), story_id),
    )
    return "story_edit"


def story_delete(conn, rng):
    (story_id,) = _pick(conn, rng, "mosaic.stories", "id")
    conn.execute("DELETE FROM mosaic.stories WHERE id = %s", (story_id,))  # cascades metadata and mentions
    return "story_delete"


def legacy_delete(conn, rng):
    (legacy_id,) = _pick(conn, rng, "mosaic.legacies", "id")
    conn.execute("DELETE FROM mosaic.plugin_permissions WHERE legacy_id = %s", (legacy_id,))  # no cascade there
    conn.execute("DELETE FROM mosaic.legacies WHERE id = %s", (legacy_id,))  # cascades stories, groups, persons...
    return "legacy_delete"


# --- PersonaKit ----------------------------------------------------------------------------------
SOURCE_TYPES = ("chat_log", "document", "interview", "assessment", "api_import")


def observation_insert(conn, rng):
    text = _text()
    (person_id,) = _pick(conn, rng, "personakit.persons", "person_id", "deleted_at IS NULL")
    source_type = rng.choice(SOURCE_TYPES)
    traits = {t: round(rng.random(), 2) for t in text.TRAITS}
    conn.execute(
        """INSERT INTO personakit.observations (person_id, source_type, source_metadata, content_raw)
           VALUES (%s, %s, %s, %s)""",
        (person_id, source_type, json.dumps({"source": "simulator"}), text.observation_text(rng, source_type, traits)),
    )
    return "observation_insert"


def observation_review(conn, rng):
    obs_id, status = _pick(
        conn, rng, "personakit.observations", "observation_id", "processing_status IN ('pending', 'approved')",
        "observation_id, processing_status",
    )
    if status == "approved":
        conn.execute(
            "UPDATE personakit.observations SET processing_status = 'processed' WHERE observation_id = %s", (obs_id,)
        )
        return "observation_processed"
    if rng.random() < 0.75:
        conn.execute(
            """UPDATE personakit.observations SET processing_status = 'approved', approved_by = 'reviewer@sim',
                      approved_at = now() WHERE observation_id = %s""",
            (obs_id,),
        )
        return "observation_approved"
    conn.execute(
        """UPDATE personakit.observations SET processing_status = 'rejected', rejection_reason = 'not relevant'
            WHERE observation_id = %s""",
        (obs_id,),
    )
    return "observation_rejected"


def person_delete(conn, rng):
    (person_id,) = _pick(conn, rng, "personakit.persons", "person_id", "deleted_at IS NULL")
    conn.execute("UPDATE personakit.persons SET deleted_at = now() WHERE person_id = %s", (person_id,))
    return "account_delete"


# --- Study coach ---------------------------------------------------------------------------------
def dialogue_insert(conn, rng):
    text = _text()
    session_id, user_id = _pick(
        conn, rng, "coach.sessions s JOIN coach.users u ON u.id = s.user_id", "s.id", "u.deleted_at IS NULL",
        "s.id, s.user_id",
    )
    for role in ("user", "assistant"):
        content = text.dialogue_message(rng, role)
        conn.execute(
            """INSERT INTO coach.dialogue_messages (session_id, user_id, role, content, tokens, flagged_for_recall)
               VALUES (%s, %s, %s, %s, %s, %s)""",
            (session_id, user_id, role, content, len(content.split()) * 4 // 3, role == "assistant" and rng.random() < 0.1),
        )
    conn.execute(
        "INSERT INTO coach.study_sessions (user_id, session_id, minutes) VALUES (%s, %s, %s)",
        (user_id, session_id, rng.choice((10, 15, 25, 30, 45))),
    )
    return "dialogue_insert"


def dialogue_soft_delete(conn, rng):
    (message_id,) = _pick(conn, rng, "coach.dialogue_messages", "id", "deleted_at IS NULL")
    conn.execute("UPDATE coach.dialogue_messages SET deleted_at = now() WHERE id = %s", (message_id,))
    return "dialogue_soft_delete"


def coach_account_delete(conn, rng):
    (user_id,) = _pick(conn, rng, "coach.users", "id", "deleted_at IS NULL")
    conn.execute("UPDATE coach.users SET deleted_at = now() WHERE id = %s", (user_id,))
    return "account_delete"


# --- AI Development Assistant --------------------------------------------------------------------
def agent_session_insert(conn, rng):
    (user_id,) = _pick(conn, rng, "devassist.users", "user_id", "is_active")
    conn.execute(
        """INSERT INTO devassist.agent_sessions (user_id, agent_type, status, estimated_cost, max_cost_limit)
           VALUES (%s, %s, 'initializing', %s, 5.0)""",
        (user_id, rng.choice(("code_review", "test_writer", "refactor", "docs")), round(rng.uniform(0.01, 2.0), 4)),
    )
    conn.execute("UPDATE devassist.users SET last_active_at = now() WHERE user_id = %s", (user_id,))
    return "agent_session_insert"


def agent_session_advance(conn, rng):
    sid, status = _pick(
        conn, rng, "devassist.agent_sessions", "agent_session_id",
        "status IN ('initializing', 'pending_approval', 'approved', 'running')", "agent_session_id, status",
    )
    if status == "initializing":
        conn.execute("UPDATE devassist.agent_sessions SET status = 'pending_approval', version = version + 1 WHERE agent_session_id = %s", (sid,))
        return "agent_pending_approval"
    if status == "pending_approval":
        approved = rng.random() < 0.85
        conn.execute(
            """INSERT INTO devassist.governance_events (agent_session_id, event_type, framework_type, approved, decision_reason, created_by)
               VALUES (%s, 'pre_agent_spawn', 'sarah_three_questions', %s, %s, 'simulator')""",
            (sid, approved, None if approved else "cost above limit"),
        )
        conn.execute(
            "UPDATE devassist.agent_sessions SET status = %s, version = version + 1 WHERE agent_session_id = %s",
            ("approved" if approved else "blocked", sid),
        )
        return "agent_approved" if approved else "agent_blocked"
    if status == "approved":
        # The governance trigger refuses 'running' without an approving event: this one has it.
        conn.execute(
            "UPDATE devassist.agent_sessions SET status = 'running', started_at = now(), version = version + 1 WHERE agent_session_id = %s",
            (sid,),
        )
        return "agent_running"
    conn.execute(
        """UPDATE devassist.agent_sessions SET status = 'completed', completed_at = now(),
                  token_cost = %s, version = version + 1 WHERE agent_session_id = %s""",
        (round(rng.uniform(0.01, 3.0), 4), sid),
    )
    return "agent_completed"


# (operation, weight, allowed inside a long transaction)
OPERATIONS: tuple[tuple[Callable, float, bool], ...] = (
    (entry_insert, 12, True),
    (entry_edit, 10, True),
    (entry_soft_delete, 3, False),
    (entry_privacy_flip, 3, True),
    (private_mode_flip, 1.5, True),
    (mindflow_account_delete, 0.3, False),
    (story_insert, 5, True),
    (story_edit, 3, True),
    (story_delete, 1.5, False),
    (legacy_delete, 0.15, False),
    (observation_insert, 5, True),
    (observation_review, 5, True),
    (person_delete, 0.2, False),
    (dialogue_insert, 6, True),
    (dialogue_soft_delete, 2, False),
    (coach_account_delete, 0.2, False),
    (agent_session_insert, 3, True),
    (agent_session_advance, 5, True),
)


def _choose(rng: random.Random, long_only: bool = False) -> Callable:
    ops = [(f, w) for f, w, in_long in OPERATIONS if in_long or not long_only]
    return rng.choices([f for f, _ in ops], weights=[w for _, w in ops])[0]


def _run_one(conn, rng, counts: Counter, long_only: bool = False) -> None:
    operation = _choose(rng, long_only)
    try:
        with conn.transaction():
            counts[operation(conn, rng)] += 1
    except _Nothing:
        counts["skipped"] += 1
    except RACES:
        counts["conflicts"] += 1


def _worker(url: str, index: int, deadline: float, interval: float, seed: int, long_transactions: bool,
            counts: Counter, lock: threading.Lock, errors: list, stop: threading.Event) -> None:
    rng = random.Random(seed * 1000 + index)
    local: Counter = Counter()
    try:
        with psycopg.connect(url, application_name=f"tessera-simulator-{index}") as conn:
            conn.autocommit = True  # each operation is its own explicit transaction
            next_at = time.monotonic()
            while time.monotonic() < deadline and not stop.is_set():
                if long_transactions and index == 0 and rng.random() < 0.15:
                    _long_transaction(conn, rng, local, deadline, stop)
                else:
                    _run_one(conn, rng, local)
                next_at += interval * rng.uniform(0.5, 1.5)
                stop.wait(max(0.0, min(next_at, deadline) - time.monotonic()))
    except Exception as exc:  # surfaced by simulate()
        errors.append(exc)
    with lock:
        counts.update(local)


def _long_transaction(conn, rng, counts: Counter, deadline: float, stop: threading.Event) -> None:
    """A few writes left open for 1 to 3 s, so transactions started later commit first."""
    ops: Counter = Counter()
    try:
        with conn.transaction():
            for _ in range(rng.randint(2, 4)):
                operation = _choose(rng, long_only=True)
                try:
                    with conn.transaction():  # savepoint: a skipped op does not abort the long one
                        ops[operation(conn, rng)] += 1
                except _Nothing:
                    ops["skipped"] += 1
            stop.wait(max(0.0, min(rng.uniform(1.0, 3.0), deadline - time.monotonic())))  # commits early on stop
    except RACES:
        counts["conflicts"] += 1
        return
    counts.update(ops)
    counts["long_transactions"] += 1


def simulate(source_url: str, *, seconds: float, rate: float, seed: int = 0, connections: int = 4,
             long_transactions: bool = True, stop: threading.Event | None = None) -> dict:
    """Write to the source for `seconds` at about `rate` operations/s over `connections` connections.
    Returns the count of each operation (plus long_transactions, conflicts, skipped, seconds, and
    stopped when `stop` was set before the time was up: each worker then ends after the operation it
    is in, so every write is either committed whole or not at all)."""
    stop = stop or threading.Event()
    if connections < 1 or rate <= 0:
        raise ValueError("connections must be >= 1 and rate > 0")
    counts: Counter = Counter()
    lock = threading.Lock()
    errors: list = []
    started = time.monotonic()
    deadline = started + seconds
    interval = connections / rate
    threads = [
        threading.Thread(
            target=_worker,
            args=(source_url, i, deadline, interval, seed, long_transactions, counts, lock, errors, stop),
            name=f"simulator-{i}",
            daemon=True,
        )
        for i in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():  # a timed join lets the main thread take SIGTERM / Ctrl-C
            try:
                thread.join(timeout=0.5)
            except KeyboardInterrupt:
                stop.set()
    if errors:
        raise errors[0]
    result = dict(sorted(counts.items()))
    result["seconds"] = round(time.monotonic() - started, 2)
    if stop.is_set():
        result["stopped"] = True
    log.info("simulator: %s", result)
    return result


@click.command("simulate")
@click.option("--seconds", type=float, required=True, help="How long to keep writing.")
@click.option("--rate", type=float, required=True, help="Operations per second, all connections together.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--connections", type=int, default=4, show_default=True)
@click.option("--long-transactions/--no-long-transactions", default=True, show_default=True,
              help="Leave some transactions open for seconds so they commit after later ones.")
def simulate_command(seconds: float, rate: float, seed: int, connections: int, long_transactions: bool) -> None:
    """Keep writing to the source database as the apps would (inserts, edits, deletes, privacy flips)."""
    from core.embedded import source_database_url
    from core.settings import Settings

    from core.signals import stop_on_signal

    url = source_database_url(Settings.from_env())
    with stop_on_signal(grace=10) as stop:  # SIGTERM / Ctrl-C: finish the operations in flight, then report
        counts = simulate(url, seconds=seconds, rate=rate, seed=seed, connections=connections,
                          long_transactions=long_transactions, stop=stop)
    click.echo(json.dumps(counts, indent=2))
