"""Study coach: learners with study habits, sessions, plans and tasks, chat transcripts, snapshots.

Learners study on most days (habitual) or in bursts; study_sessions record the minutes, and weekly
progress_snapshots carry the streak, completed tasks and minutes those rows imply. Each coaching
session holds user/assistant turns (some assistant answers flagged for recall, some messages deleted
by the learner), and the outbox carries the vector-store events for resources and flagged answers.
"""

from __future__ import annotations

import datetime as dt

from sources.generator import text
from sources.generator.core import Scale, Sink, at, dumps, is_planted, later, new_uuid, stream
from sources.generator.mindflow import TIMEZONES, _hash

TABLES = {
    "coach.users": ("id", "email", "password_hash", "display_name", "timezone", "created_at", "deleted_at"),
    "coach.sessions": ("id", "user_id", "title", "focus", "created_at", "updated_at"),
    "coach.plans": ("id", "user_id", "session_id", "title", "due_date", "status", "created_at"),
    "coach.tasks": ("id", "plan_id", "summary", "status", "due_date", "completed_at"),
    "coach.study_sessions": ("id", "user_id", "session_id", "minutes", "recorded_at"),
    "coach.progress_snapshots": ("id", "user_id", "streak_days", "completed_tasks", "study_minutes", "captured_at"),
    "coach.knowledge_resources": ("id", "user_id", "title", "content", "language", "tags", "source", "created_at",
                                  "updated_at"),
    "coach.dialogue_messages": ("id", "session_id", "user_id", "role", "content", "tool_calls", "tokens",
                                "flagged_for_recall", "created_at", "deleted_at"),
    "coach.persona_snapshots": ("id", "user_id", "traits", "preferences", "keywords", "created_at"),
    "coach.audit_logs": ("id", "user_id", "action", "metadata", "created_at"),
    "coach.outbox": ("id", "aggregate_type", "aggregate_id", "event_type", "payload", "created_at", "processed_at"),
}
DELETED_LEARNER_PERIOD = 50   # one learner in 50 (2%) is soft-deleted
DELETED_MESSAGE_SHARE = 0.03
FLAGGED_SHARE = 0.15


def _streak_at(days: set[int], d: int) -> int:
    n = 0
    while d - n in days:
        n += 1
    return n


def generate(scale: Scale, sink: Sink, progress=None) -> None:
    seed = scale.seed
    end = at(scale.anchor, 86399.999)
    for li in range(scale.coach_learners):
        rng = stream(seed, "coach", "learner", li)
        uid = new_uuid(rng)
        first, last = rng.choice(text.FIRST_NAMES), rng.choice(text.LAST_NAMES)
        start = rng.randint(-60, max(0, scale.days // 2))
        created = at(scale.day(start), rng.uniform(28800, 79200))
        first_day = max(0, start)
        deleted_at = None
        last_day = scale.days - 1
        if is_planted(li, DELETED_LEARNER_PERIOD, 7):
            del_day = rng.randint(min(first_day + 2, last_day), last_day)
            deleted_at = min(end, at(scale.day(del_day), rng.uniform(28800, 79200)))
            last_day = del_day - 1
        sink.add("coach.users", (uid, f"{first.lower()}.{last.lower()}{li}@learn.example.net", _hash(rng),
                                 f"{first} {last[0]}.", rng.choice(TIMEZONES), created, deleted_at))
        topics = rng.sample(text.STUDY_TOPICS, rng.randint(1, 3))
        sessions = []
        for topic in topics:
            sid = new_uuid(rng)
            screated = at(scale.day(min(last_day, max(first_day, first_day + rng.randint(0, 10)))), rng.uniform(28800, 79200))
            sessions.append((sid, topic, screated))
        # study habit
        habit_p = rng.choice((0.85, 0.6, 0.35, 0.15))
        studied: dict[int, int] = {}
        for d in range(first_day, last_day + 1):
            if rng.random() < habit_p:
                studied[d] = 0
                for _ in range(rng.choice((1, 1, 1, 2))):
                    minutes = rng.randint(10, 90)
                    studied[d] += minutes
                    sess = rng.choice(sessions)
                    sink.add("coach.study_sessions", (new_uuid(rng), uid, sess[0] if rng.random() < 0.8 else None,
                                                      minutes, at(scale.day(d), rng.uniform(25200, 82800))))
        # plans and tasks
        completed_days: list[int] = []
        for sid, topic, screated in sessions:
            for _ in range(rng.randint(1, 2)):
                pid = new_uuid(rng)
                pday = min(last_day, max(first_day, first_day + rng.randint(0, 20)))
                due = scale.day(pday) + dt.timedelta(days=rng.randint(7, 60))
                status = rng.choice(("active", "active", "completed", "draft", "archived"))
                sink.add("coach.plans", (pid, uid, sid, f"{topic.title()} plan", due, status,
                                         at(scale.day(pday), rng.uniform(28800, 79200))))
                for k in range(rng.randint(3, 8)):
                    tstatus = "done" if status == "completed" else rng.choice(("todo", "in_progress", "done", "done", "skipped"))
                    done_at = None
                    if tstatus == "done" and last_day >= pday:
                        dday = rng.randint(pday, last_day)
                        completed_days.append(dday)
                        done_at = at(scale.day(dday), rng.uniform(28800, 82800))
                    elif tstatus == "done":
                        tstatus = "in_progress"
                    sink.add("coach.tasks", (new_uuid(rng), pid, f"{rng.choice(('Review', 'Practice', 'Summarise', 'Test yourself on'))} "
                                                                  f"{topic} part {k + 1}", tstatus,
                                             scale.day(pday) + dt.timedelta(days=rng.randint(1, 30)), done_at))
        # weekly progress snapshots consistent with the rows above
        days_set = set(studied)
        for d in range(first_day + 6, last_day + 1, 7):
            sink.add("coach.progress_snapshots", (
                new_uuid(rng), uid, _streak_at(days_set, d), sum(1 for c in completed_days if c <= d),
                sum(m for day, m in studied.items() if day <= d), at(scale.day(d), 86000)))
        # dialogue
        for sid, topic, screated in sessions:
            updated = screated
            for _ in range(rng.randint(1, 4)):
                ts = at(scale.day(rng.randint(first_day, max(first_day, last_day))), rng.uniform(28800, 79200))
                sink.add("coach.dialogue_messages", (new_uuid(rng), sid, uid, "system",
                                                     f"You are a patient study coach helping with {topic}.",
                                                     "[]", 14, False, ts, None))
                for turn in range(rng.randint(2, 8)):
                    ts = later(ts, rng, 5, 240)
                    role = "user" if turn % 2 == 0 else "assistant"
                    content = text.dialogue_message(rng, role, topic)
                    mid = new_uuid(rng)
                    tools = "[]"
                    flagged = role == "assistant" and rng.random() < FLAGGED_SHARE
                    if role == "assistant" and rng.random() < 0.1:
                        tools = dumps([{"name": "create_task", "arguments": {"topic": topic}}])
                    deleted = min(end, later(ts, rng, 600, 20 * 86400)) if rng.random() < DELETED_MESSAGE_SHARE else None
                    sink.add("coach.dialogue_messages", (mid, sid, uid, role, content, tools, len(content.split()) * 4 // 3,
                                                         flagged, ts, deleted))
                    if flagged:
                        sink.add("coach.outbox", (new_uuid(rng), "dialogue_message", mid, "message.flagged",
                                                  dumps({"sessionId": sid}), ts, later(ts, rng, 1, 60)))
                    if deleted:
                        sink.add("coach.audit_logs", (new_uuid(rng), uid, "message.deleted", dumps({"messageId": mid}), deleted))
                    updated = max(updated, ts)
            sink.add("coach.sessions", (sid, uid, f"{topic.title()} coaching", topic, screated, max(screated, updated)))
        for _ in range(rng.randint(1, 3)):
            rid = new_uuid(rng)
            topic = rng.choice(topics)
            rcreated = at(scale.day(rng.randint(first_day, max(first_day, last_day))), rng.uniform(28800, 79200))
            body = " ".join(text.dialogue_message(rng, "assistant", topic) for _ in range(rng.randint(4, 12)))
            sink.add("coach.knowledge_resources", (rid, uid, f"Notes on {topic}", body, "en", [topic.split()[0]],
                                                   rng.choice(("upload", "web", "generated")), rcreated, rcreated))
            sink.add("coach.outbox", (new_uuid(rng), "knowledge_resource", rid, "resource.upserted", dumps({"userId": uid}),
                                      rcreated, later(rcreated, rng, 1, 120) if rng.random() < 0.9 else None))
        for _ in range(rng.randint(1, 2)):
            sink.add("coach.persona_snapshots", (
                new_uuid(rng), uid, dumps({"persistence": round(habit_p, 2), "pace": rng.choice(("slow", "steady", "fast"))}),
                dumps({"session_length": rng.choice((25, 45, 60)), "reminders": rng.random() < 0.5}),
                " ".join(topics), at(scale.day(rng.randint(first_day, max(first_day, last_day))), 86000)))
        sink.add("coach.audit_logs", (new_uuid(rng), uid, "user.login", dumps({"method": "password"}), created))
        if deleted_at:
            sink.add("coach.audit_logs", (new_uuid(rng), uid, "user.deletion_requested", dumps({}), deleted_at))
        sink.maybe_flush()
    if progress:
        progress("coach", f"{scale.coach_learners} learners")
