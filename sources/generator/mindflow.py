"""MindFlow: users with journaling habits and moods, entries with tags and attachments, streaks, logs.

Per user: a habit (daily writers ~20% with long streaks and rare breaks, regulars ~35%, sporadic ~45%
writing in bursts with long gaps), a mood baseline that drifts day to day, favourite tags, a typical
entry length, a timezone and device. Each written day yields one entry whose text is written from its
latent valence (recorded in public.generator_entry_truth), plus the audit trail, API requests and
service logs the apps would have written at matching times.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from sources.generator import text
from sources.generator.core import (Scale, Sink, at, clamp, dumps, is_planted, later, new_uuid,
                                    stream)

TABLES = {
    "mindflow.users": ("id", "email", "password_hash", "display_name", "photo_url", "timezone", "language",
                       "theme", "created_at", "updated_at", "last_login_at", "deleted_at", "is_active",
                       "email_verified"),
    "mindflow.user_gdpr_consent": ("id", "user_id", "terms_accepted_at", "terms_version",
                                   "privacy_policy_accepted_at", "privacy_policy_version",
                                   "data_processing_consent", "marketing_consent", "consent_ip_address",
                                   "consent_user_agent", "created_at", "updated_at"),
    "mindflow.user_settings": ("id", "user_id", "auto_save", "private_mode", "email_weekly_insights",
                               "email_monthly_insights", "email_reminder_to_write", "created_at", "updated_at"),
    "mindflow.tags": ("id", "name", "created_at"),
    "mindflow.journal_entries": ("id", "user_id", "date", "title", "content", "mood", "location", "weather",
                                 "word_count", "reading_time", "is_private", "version", "created_at",
                                 "updated_at", "deleted_at"),
    "mindflow.journal_entry_tags": ("id", "journal_entry_id", "tag_id", "created_at"),
    "mindflow.attachments": ("id", "journal_entry_id", "file_name", "file_size", "mime_type", "s3_key", "s3_url",
                             "thumbnail_s3_key", "thumbnail_url", "uploaded_at", "deleted_at"),
    "mindflow.user_streaks": ("id", "user_id", "current_streak", "longest_streak", "last_entry_date",
                              "streak_start_date", "total_entries", "total_words", "updated_at"),
    "mindflow.audit_logs": ("id", "user_id", "action", "timestamp", "metadata", "ip_address", "user_agent",
                            "request_id", "data_category", "retention_policy", "searchable_text"),
    "mindflow.api_requests": ("id", "timestamp", "request_id", "method", "path", "query", "headers", "body",
                              "status_code", "response_time", "response_size", "user_id", "ip_address", "error"),
    "mindflow.application_logs": ("id", "timestamp", "level", "service", "message", "context", "error",
                                  "duration", "pod", "node"),
}

# Shares (documented in the package docstring).
HABITS = (("daily", 0.20), ("regular", 0.35), ("sporadic", 0.45))
PRIVATE_MODE_PERIOD = 33        # one user in 33 (~3%) is in private mode
DELETED_USER_PERIOD = 50        # one user in 50 (2%) is soft-deleted
PRIVATE_ENTRY_SHARE = 0.05
DELETED_ENTRY_SHARE = 0.02
EDITED_ENTRY_SHARE = 0.15
ATTACHMENT_SHARE = 0.10
NO_MOOD_SHARE = 0.02
WORD_COUNT_BREAK_PERIOD = 131   # entry_word_count_matches: one entry in 131
STREAK_BREAK_PERIOD = 128       # streak_consistent: one user in 128

TIMEZONES = ("UTC", "Europe/Lisbon", "Europe/London", "America/Sao_Paulo", "America/New_York",
             "Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo")
USER_AGENTS = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) MindFlow/2.3.1",
               "Mozilla/5.0 (Linux; Android 14; Pixel 8) MindFlow/2.3.0",
               "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15",
               "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36")
MIME_TYPES = (("image/jpeg", "jpg", 0.55), ("image/png", "png", 0.2), ("image/webp", "webp", 0.1),
              ("image/gif", "gif", 0.05), ("application/pdf", "pdf", 0.1))
PODS = tuple(f"{svc}-7d8c9f-{suffix}" for svc in ("auth-service", "command-service", "query-service")
             for suffix in ("a1b2c", "d3e4f"))
NODES = ("ip-10-0-1-23.ec2.internal", "ip-10-0-2-17.ec2.internal", "ip-10-0-3-41.ec2.internal")


def streak_stats(dates: list[dt.date]) -> tuple[int, int, dt.date | None, dt.date | None]:
    """(current, longest, last_entry_date, streak_start_date) of sorted distinct entry dates.

    The current streak is the run of consecutive days ending at the last entry date (the rule
    `streak_consistent` checks against exactly this).
    """
    if not dates:
        return 0, 0, None, None
    longest = run = 1
    start = dates[0]
    for prev, cur in zip(dates, dates[1:]):
        if (cur - prev).days == 1:
            run += 1
        else:
            run, start = 1, cur
        longest = max(longest, run)
    return run, longest, dates[-1], start


def writing_days(rng: random.Random, habit: str, first: int, last: int) -> list[int]:
    """Day indexes a user writes on, between first and last inclusive."""
    days: list[int] = []
    if habit == "daily":
        d = first
        while d <= last:
            if rng.random() < 0.025:
                d += rng.randint(1, 6)  # a break
                continue
            if rng.random() < 0.93:
                days.append(d)
            d += 1
    elif habit == "regular":
        p = rng.uniform(0.4, 0.7)
        days = [d for d in range(first, last + 1) if rng.random() < p]
    else:
        d, active = first, rng.random() < 0.5
        while d <= last:
            length = max(1, int(rng.expovariate(1 / (6 if active else 18))))
            if active:
                days.extend(x for x in range(d, min(d + length, last + 1)) if rng.random() < 0.55)
            d += length
            active = not active
    return days


def _mood_for(rng: random.Random, valence: float, negative_profile: tuple[float, float, float]) -> str:
    if valence > 0.65:
        return "ecstatic"
    if valence > 0.2:
        return "happy"
    if valence > -0.2:
        return "neutral"
    return rng.choices(text.NEGATIVE_MOODS, weights=negative_profile)[0]


def _ip(rng: random.Random) -> str:
    return f"{rng.choice((10, 172, 192))}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _hash(rng: random.Random) -> str:
    return "$2b$12$" + ("%0108x" % rng.getrandbits(432))[:53]


class MindFlow:
    def __init__(self, scale: Scale, sink: Sink):
        self.scale = scale
        self.sink = sink
        self.end = at(scale.anchor, 86399.999)
        self.tag_ids = self._tags()
        self.entry_counter = 0
        self._headers: dict[str, str] = {}

    def _cap(self, ts: dt.datetime) -> dt.datetime:
        return ts if ts <= self.end else self.end

    def _tags(self) -> dict[str, str]:
        rng = stream(self.scale.seed, "mindflow", "tags")
        created = at(self.scale.window_start - dt.timedelta(days=500), 0)
        ids = {}
        for name in text.TAGS:
            ids[name] = new_uuid(rng)
            self.sink.add("mindflow.tags", (ids[name], name, created))
        return ids

    def build(self, progress=None) -> None:
        for i in range(self.scale.users):
            self.user(i)
            self.sink.maybe_flush()
            if progress and (i + 1) % max(1, self.scale.users // 10) == 0:
                progress("mindflow", f"{i + 1}/{self.scale.users} users")

    def user(self, i: int) -> None:
        s, sink = self.scale, self.sink
        rng = stream(s.seed, "mindflow", "user", i)
        uid = new_uuid(rng)
        first, last = rng.choice(text.FIRST_NAMES), rng.choice(text.LAST_NAMES)
        habit = rng.choices([h for h, _ in HABITS], weights=[w for _, w in HABITS])[0]
        signup_day = (-rng.randint(1, 500)) if rng.random() < 0.65 else rng.randint(0, max(0, s.days - 3))
        created = at(s.window_start + dt.timedelta(days=signup_day), rng.uniform(25200, 79200))
        deleted = is_planted(i, DELETED_USER_PERIOD, 11)
        private_mode = is_planted(i, PRIVATE_MODE_PERIOD, 5)
        last_day = s.days - 1
        deleted_at = None
        if deleted:
            del_day = rng.randint(min(max(0, signup_day) + 3, last_day), last_day)
            deleted_at = self._cap(at(s.day(del_day), rng.uniform(28800, 82800)))
            last_day = del_day - 1
        ip, agent = _ip(rng), rng.choice(USER_AGENTS)
        tz = rng.choice(TIMEZONES)
        baseline = clamp(rng.gauss(0.1, 0.3), -0.7, 0.8)
        negative_profile = (rng.uniform(0.2, 1), rng.uniform(0.2, 1), rng.uniform(0.1, 0.8))
        favourite_tags = rng.sample(text.TAGS, 7)
        mean_words = rng.uniform(90, 330)
        days = writing_days(rng, habit, max(0, signup_day), last_day)

        entries = self.entries(rng, uid, days, baseline, negative_profile, favourite_tags, mean_words, ip, agent)
        last_login = max((e[0] for e in entries), default=None)
        sink.add("mindflow.users", (
            uid, f"{first.lower()}.{last.lower()}{i}@example.com", _hash(rng), f"{first} {last}",
            f"https://cdn.mindflow.app/avatars/{uid}.jpg" if rng.random() < 0.4 else None,
            tz, "pt" if tz in ("Europe/Lisbon", "America/Sao_Paulo") and rng.random() < 0.6 else "en",
            rng.choice(("light", "dark", "system")), created,
            max(created, deleted_at or created, last_login or created), last_login, deleted_at,
            not deleted, rng.random() < 0.9))
        consent_at = later(created, rng, 5, 120)
        sink.add("mindflow.user_gdpr_consent", (
            new_uuid(rng), uid, consent_at, "2025.1", consent_at, "2025.1", rng.random() < 0.85,
            rng.random() < 0.3, ip, agent, consent_at, consent_at))
        settings_updated = created
        if private_mode:
            settings_updated = self._cap(later(max(created, at(s.window_start, 0)), rng, 3600, 20 * 86400))
            self.audit(rng, uid, "SETTINGS_UPDATE", settings_updated, ip, agent,
                       {"changes": {"before": {"private_mode": False}, "after": {"private_mode": True}}})
        sink.add("mindflow.user_settings", (
            new_uuid(rng), uid, True, private_mode, rng.random() < 0.8, rng.random() < 0.6,
            rng.random() < 0.3, created, settings_updated))
        if signup_day >= 0:
            self.audit(rng, uid, "GDPR_CONSENT_UPDATE", consent_at, ip, agent, {"terms_version": "2025.1"})
        self.occasional(rng, uid, max(0, signup_day), last_day, ip, agent)
        if deleted:
            self.audit(rng, uid, "ACCOUNT_DELETE", deleted_at, ip, agent, {"reason": "User requested deletion"})
        self.streak(rng, uid, i, entries)

    def entries(self, rng, uid, days, baseline, negative_profile, favourite_tags, mean_words, ip, agent):
        """Writes the user's entries; returns (created_at, date, word_count, deleted) per entry."""
        s, sink = self.scale, self.sink
        out = []
        drift = 0.0
        prev_day = None
        tag_weights = [7, 6, 5, 4, 3, 2, 1]
        for d in days:
            if prev_day is not None:
                for _ in range(min(d - prev_day, 30)):
                    drift = 0.9 * drift + rng.gauss(0, 0.08)
            prev_day = d
            day = s.day(d)
            latent = clamp(baseline + drift + rng.gauss(0, 0.35), -1, 1)
            mood = _mood_for(rng, latent, negative_profile)
            valence = round(clamp(text.MOOD_VALENCE[mood] + rng.gauss(0, 0.15), -1, 1), 3)
            tags = sorted(set(rng.choices(favourite_tags, weights=tag_weights, k=rng.choice((1, 1, 2, 2, 3)))))
            target = int(clamp(rng.lognormvariate(math.log(mean_words), 0.45), 50, 570))
            title = text.entry_title(rng, mood, tags)
            sentences = text.journal_sentences(rng, mood, tags, target, valence)
            content = text.assemble_markdown(rng, sentences, title, rng.random() < 0.3)
            words = text.markdown_word_count(content)
            eid = new_uuid(rng)
            created = at(day, rng.triangular(21600, 86000, 75600))
            self.entry_counter += 1
            stored_words = words
            if is_planted(self.entry_counter, WORD_COUNT_BREAK_PERIOD):
                stored_words = max(0, words + rng.choice((-1, 1)) * rng.randint(3, 40))
                sink.add("public.generator_rule_breaks",
                         ("mindflow.journal_entries", eid, "entry_word_count_matches"))
            version, updated = 1, created
            if rng.random() < EDITED_ENTRY_SHARE:
                version = rng.randint(2, 4)
                updated = self._cap(later(created, rng, 120, 3 * 86400))
            deleted_at = None
            if rng.random() < DELETED_ENTRY_SHARE:
                deleted_at = self._cap(later(updated, rng, 600, 10 * 86400))
            label = None if rng.random() < NO_MOOD_SHARE else mood
            sink.add("mindflow.journal_entries", (
                eid, uid, day, title, content, label,
                rng.choice(text.LOCATIONS) if rng.random() < 0.6 else None,
                rng.choice(text.WEATHER) if rng.random() < 0.7 else None,
                stored_words, text.reading_time_seconds(stored_words), rng.random() < PRIVATE_ENTRY_SHARE,
                version, created, updated, deleted_at))
            sink.add("public.generator_entry_truth", (eid, valence, mood, tags))
            for tag in tags:
                sink.add("mindflow.journal_entry_tags", (new_uuid(rng), eid, self.tag_ids[tag], created))
            if rng.random() < ATTACHMENT_SHARE:
                self.attachments(rng, uid, eid, created, deleted_at)
            self.entry_trail(rng, uid, eid, title, label, created, version, updated, deleted_at, ip, agent)
            out.append((created, day, stored_words, deleted_at is not None))
        return out

    def attachments(self, rng, uid, eid, created, deleted_at):
        for n in range(rng.choice((1, 1, 1, 2, 3))):
            mime, ext, _ = rng.choices(MIME_TYPES, weights=[m[2] for m in MIME_TYPES])[0]
            aid = new_uuid(rng)
            key = f"users/{uid}/entries/{eid}/{aid}.{ext}"
            size = rng.randint(20_000, 8_000_000) if ext != "gif" else rng.randint(50_000, 15_000_000)
            thumb = f"users/{uid}/entries/{eid}/{aid}_thumb.jpg" if mime.startswith("image/") else None
            self.sink.add("mindflow.attachments", (
                aid, eid, f"{rng.choice(('photo', 'IMG', 'scan', 'note', 'receipt'))}_{rng.randint(1000, 9999)}.{ext}",
                size, mime, key, f"https://mindflow-media.s3.amazonaws.com/{key}", thumb,
                f"https://mindflow-media.s3.amazonaws.com/{thumb}" if thumb else None,
                later(created, rng, 1, 60), deleted_at))

    def entry_trail(self, rng, uid, eid, title, mood, created, version, updated, deleted_at, ip, agent):
        """Login, create, edits, delete, logout: audit rows, the API requests behind them, logs."""
        if rng.random() < 0.6:
            login = later(created, rng, -1800, -60)
            rid = self.request(rng, uid, login, "POST", "/api/v1/auth/login", 200, ip, agent, "auth-service")
            self.audit(rng, uid, "LOGIN", login, ip, agent, '{"method":"password"}', rid, "security_event")
        rid = self.request(rng, uid, created, "POST", "/api/v1/entries", 201, ip, agent, "command-service",
                           body={"title": title, "mood": mood})
        self.audit(rng, uid, "ENTRY_CREATE", created, ip, agent, f'{{"entryId":"{eid}"}}', rid)
        if rng.random() < 0.5:
            self.request(rng, uid, later(created, rng, 5, 600), "GET", "/api/v1/entries", 200, ip, agent,
                         "query-service", query={"limit": "20", "page": "1"})
        for v in range(2, version + 1):
            ts = updated if v == version else later(created, rng, 60, max(61, (updated - created).total_seconds()))
            rid = self.request(rng, uid, ts, "PUT", f"/api/v1/entries/{eid}", 200, ip, agent, "command-service")
            self.audit(rng, uid, "ENTRY_UPDATE", ts, ip, agent,
                       {"entryId": eid, "changes": {"before": {"version": v - 1}, "after": {"version": v}}}, rid)
        if deleted_at is not None:
            rid = self.request(rng, uid, deleted_at, "DELETE", f"/api/v1/entries/{eid}", 204, ip, agent,
                               "command-service")
            self.audit(rng, uid, "ENTRY_DELETE", deleted_at, ip, agent, {"entryId": eid, "reason": "user"}, rid)
        if rng.random() < 0.5:
            logout = self._cap(later(created, rng, 60, 3600))
            rid = self.request(rng, uid, logout, "POST", "/api/v1/auth/logout", 200, ip, agent, "auth-service")
            self.audit(rng, uid, "LOGOUT", logout, ip, agent, "{}", rid, "security_event")

    def occasional(self, rng, uid, first, last, ip, agent):
        """Insight views, profile updates, data exports over the user's active days."""
        if last < first:
            return
        s = self.scale
        span = last - first + 1
        for _ in range(rng.randint(0, max(1, span // 10))):
            ts = at(s.day(rng.randint(first, last)), rng.uniform(25200, 82800))
            rid = self.request(rng, uid, ts, "GET", "/api/v1/insights/weekly", 200, ip, agent, "query-service")
            self.audit(rng, uid, "INSIGHT_VIEW", ts, ip, agent, {"period": "weekly"}, rid)
        if rng.random() < 0.3:
            ts = at(s.day(rng.randint(first, last)), rng.uniform(25200, 82800))
            rid = self.request(rng, uid, ts, "PATCH", "/api/v1/users/me", 200, ip, agent, "command-service")
            self.audit(rng, uid, "PROFILE_UPDATE", ts, ip, agent,
                       {"changes": {"before": {"theme": "system"}, "after": {"theme": "dark"}}}, rid)
        if rng.random() < 0.01:
            ts = at(s.day(rng.randint(first, last)), rng.uniform(25200, 82800))
            rid = self.request(rng, uid, ts, "POST", "/api/v1/users/me/export", 202, ip, agent, "command-service")
            self.audit(rng, uid, "DATA_EXPORT", ts, ip, agent, {"format": "json"}, rid)
        for _ in range(rng.randint(0, 2)):  # failed requests (4xx/5xx)
            ts = at(s.day(rng.randint(first, last)), rng.uniform(25200, 82800))
            status = rng.choice((400, 401, 404, 409, 429, 500, 503))
            self.request(rng, uid, ts, "GET", "/api/v1/entries", status, ip, agent, "query-service")

    def audit(self, rng, uid, action, ts, ip, agent, metadata, request_id=None, category="user_data"):
        self.sink.add("mindflow.audit_logs", (
            new_uuid(rng), uid, action, ts, metadata if isinstance(metadata, str) else dumps(metadata), ip, agent,
            request_id or new_uuid(rng), category,
            "7_years", f"{action.lower().replace('_', ' ')} by user {uid} from {ip}"))

    def request(self, rng, uid, ts, method, path, status, ip, agent, service, body=None, query=None) -> str:
        rid = new_uuid(rng)
        rand = rng.random
        elapsed = int(rng.lognormvariate(4.2, 0.6))
        error = None
        if status >= 400:
            error = {"code": f"HTTP_{status}", "message": "Service unavailable" if status >= 500 else "Request rejected"}
        headers = self._headers.get(agent)
        if headers is None:
            headers = self._headers[agent] = dumps({"user-agent": agent, "content-type": "application/json"})
        self.sink.add("mindflow.api_requests", (
            new_uuid(rng), ts, rid, method, path, dumps(query) if query else "{}", headers,
            dumps(body) if body is not None else None, status, elapsed, 120 + int(rand() * 8880), uid, ip,
            dumps(error) if error else None))
        if status >= 500 or rand() < 0.3:
            level = "ERROR" if status >= 500 else "WARN" if status >= 400 else rng.choice(("INFO", "INFO", "DEBUG"))
            err = None
            if status >= 500:
                err = {"name": "UpstreamError", "message": "Service unavailable", "code": "SVC_503",
                       "stack": "Error: Service unavailable\n  at handleRequest (server.js:88)"}
            self.sink.add("mindflow.application_logs", (
                new_uuid(rng), later(ts, rng, 0, 0.5), level, service,
                f"{method} {path} -> {status}",
                f'{{"userId":"{uid}","requestId":"{rid}","function":"handleRequest","line":{20 + int(rand() * 380)}}}',
                dumps(err) if err else None, elapsed, rng.choice(PODS), rng.choice(NODES)))
        return rid

    def streak(self, rng, uid, index, entries):
        live = sorted((e for e in entries if not e[3]), key=lambda e: e[1])
        dates = [e[1] for e in live]
        current, longest, last, start = streak_stats(dates)
        total, words = len(live), sum(e[2] for e in live)
        sid = new_uuid(rng)
        if is_planted(index, STREAK_BREAK_PERIOD):
            total += rng.randint(1, 5)
            longest += rng.randint(1, 3)
            self.sink.add("public.generator_rule_breaks", ("mindflow.user_streaks", sid, "streak_consistent"))
        updated = max((e[0] for e in entries), default=at(self.scale.window_start, 0))
        self.sink.add("mindflow.user_streaks", (sid, uid, current, longest, last, start, total, words, updated))


def generate(scale: Scale, sink: Sink, progress=None) -> None:
    MindFlow(scale, sink).build(progress)
