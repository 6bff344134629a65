"""The synthetic data generator: deterministic, schema-valid, realistic, with exactly the planted breaks."""

from __future__ import annotations

import datetime as dt
import math
import random
import re
import uuid

import psycopg
import pytest

from sources.generator import GeneratorError, generate, table_checksums, text
from sources.generator.rules import RULES

ANCHOR = dt.date(2025, 6, 30)
SCALE = {"users": 40, "days": 60, "anchor": ANCHOR}
TEMPLATE_DB = "tessera_app_template"  # built by tests/conftest.py


def _create_db(server) -> str:
    name = f"app_g{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    return name


def _drop_db(server, name: str) -> None:
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def generated(embedded_server):
    """One database with the test scale (seed 7), shared by the read-only checks below."""
    name = _create_db(embedded_server)
    url = embedded_server.url(name)
    report = generate(url, seed=7, **SCALE)
    yield url, report
    _drop_db(embedded_server, name)


def _one(conn, query: str, params=None):
    return conn.execute(query, params).fetchone()


def _col(conn, query: str, params=None) -> list:
    return [r[0] for r in conn.execute(query, params).fetchall()]


# --- determinism ------------------------------------------------------------------------------------

def test_same_seed_gives_identical_tables_and_another_seed_differs(embedded_server, generated):
    url_a, _ = generated
    names = [_create_db(embedded_server), _create_db(embedded_server)]
    try:
        generate(embedded_server.url(names[0]), seed=7, **SCALE)
        generate(embedded_server.url(names[1]), seed=8, **SCALE)
        first, again, other = (table_checksums(u) for u in (url_a, *map(embedded_server.url, names)))
    finally:
        for name in names:
            _drop_db(embedded_server, name)
    assert first == again
    assert len(first) >= 60  # every registry table plus the two truth tables
    differing = [t for t in first if first[t] != other[t]]
    # tables holding only fixed reference rows (plugins, personas, mappers...) may match across seeds
    assert {"mindflow.journal_entries", "mosaic.stories", "personakit.observations", "coach.dialogue_messages",
            "devassist.agent_sessions", "devassist.audit_log"} <= set(differing)


def test_refuses_to_load_over_data_unless_reset(databases):
    url = databases.source_url
    first = generate(url, users=6, days=5, seed=1, anchor=ANCHOR)
    with pytest.raises(GeneratorError, match="already hold data"):
        generate(url, users=6, days=5, seed=1, anchor=ANCHOR)
    before = table_checksums(url)
    second = generate(url, users=6, days=5, seed=1, anchor=ANCHOR, reset=True)
    assert table_checksums(url) == before
    assert second.per_table == first.per_table and second.rows > 0 and second.rows_per_second > 0


def test_seed_command_migrates_loads_and_reports(databases):
    from click.testing import CliRunner

    from sources.generator.cli import seed

    runner = CliRunner()
    args = ["--users", "6", "--days", "5", "--seed", "3", "--anchor", "2025-06-30"]
    result = runner.invoke(seed, args)
    assert result.exit_code == 0, result.output
    assert "mindflow" in result.output and "rows/s" in result.output
    refused = runner.invoke(seed, args)
    assert refused.exit_code != 0 and "--reset" in refused.output
    assert runner.invoke(seed, args + ["--reset"]).exit_code == 0
    with psycopg.connect(databases.source_url) as conn:
        assert _one(conn, "SELECT count(*) FROM mindflow.users")[0] == 6


# --- schema and explicit checks ---------------------------------------------------------------------

def test_every_product_table_is_filled_within_the_window(generated):
    url, report = generated
    from sources.registry import TABLES

    assert all(report.per_table.get(t.qualified, 0) > 0 for t in TABLES), report.per_table
    end = dt.datetime(2025, 6, 30, 23, 59, 59, 999000, tzinfo=dt.timezone.utc)
    start = dt.datetime(2025, 5, 2, tzinfo=dt.timezone.utc)  # 60 days ending 2025-06-30
    with psycopg.connect(url) as conn:
        lo, hi = _one(conn, "SELECT min(date), max(date) FROM mindflow.journal_entries")
        assert lo >= start.date() and hi <= ANCHOR
        for query in ("SELECT max(timestamp) FROM mindflow.audit_logs", "SELECT max(updated_at) FROM mosaic.stories",
                      "SELECT max(created_at) FROM coach.dialogue_messages",
                      "SELECT max(changed_at) FROM devassist.audit_log",
                      "SELECT max(created_at) FROM personakit.observations"):
            assert _one(conn, query)[0] <= end, query
        assert _one(conn, "SELECT min(timestamp) FROM mindflow.audit_logs")[0] >= start


def test_enumerations_cover_every_allowed_value(generated):
    url, _ = generated
    with psycopg.connect(url) as conn:
        moods = set(_col(conn, "SELECT DISTINCT mood FROM mindflow.journal_entries"))
        assert moods - {None} == set(text.MOODS)
        assert set(_col(conn, "SELECT DISTINCT visibility_level FROM mosaic.stories")) == {"public", "private", "group"}
        assert set(_col(conn, "SELECT DISTINCT story_type FROM mosaic.stories")) == {
            "written", "transcribed", "imported", "sms", "email", "audio"}
        assert set(_col(conn, "SELECT DISTINCT source_type FROM personakit.observations")) == {
            "chat_log", "document", "interview", "assessment", "api_import"}
        assert set(_col(conn, "SELECT DISTINCT processing_status FROM personakit.observations")) == {
            "pending", "approved", "processed", "rejected"}
        assert set(_col(conn, "SELECT DISTINCT status FROM devassist.agent_sessions")) == {
            "initializing", "pending_approval", "approved", "running", "completed", "failed", "cancelled", "blocked"}
        assert set(_col(conn, "SELECT DISTINCT relationship FROM mosaic.person_relationships")) == {
            "KNEW", "FAMILY_OF", "WORKED_WITH", "FRIENDS_WITH"}
        actions = set(_col(conn, "SELECT DISTINCT action FROM mindflow.audit_logs"))
        assert {"LOGIN", "LOGOUT", "ENTRY_CREATE", "ENTRY_UPDATE", "ENTRY_DELETE", "SETTINGS_UPDATE",
                "INSIGHT_VIEW", "ACCOUNT_DELETE"} <= actions
        assert set(_col(conn, "SELECT DISTINCT status FROM coach.tasks")) == {"todo", "in_progress", "done", "skipped"}
        assert _one(conn, "SELECT count(*) FROM coach.tasks WHERE (status = 'done') <> (completed_at IS NOT NULL)")[0] == 0


def test_entry_text_is_consistent_with_its_metadata(generated):
    url, _ = generated
    words = RULES["entry_word_count_matches"][1].split("<>", 1)[1].replace("e.content", "content")
    with psycopg.connect(url) as conn:
        lo, hi = _one(conn, f"SELECT min({words}), max({words}) FROM mindflow.journal_entries")
        assert 50 <= lo and hi <= 600
        assert _one(conn, "SELECT count(*) FROM mindflow.journal_entries WHERE reading_time <> ceil(word_count * 60 / 200.0)")[0] == 0
        # every entry has tags, an ENTRY_CREATE audit row at its created_at, and a latent valence
        assert _one(conn, """SELECT count(*) FROM mindflow.journal_entries e WHERE NOT EXISTS
                               (SELECT 1 FROM mindflow.journal_entry_tags t WHERE t.journal_entry_id = e.id)""")[0] == 0
        assert _one(conn, """SELECT count(*) FROM mindflow.journal_entries e WHERE NOT EXISTS
                               (SELECT 1 FROM mindflow.audit_logs a WHERE a.action = 'ENTRY_CREATE'
                                   AND a.metadata->>'entryId' = e.id::text AND a.timestamp = e.created_at)""")[0] == 0
        assert _one(conn, """SELECT count(*) FROM mindflow.journal_entries e
                              LEFT JOIN public.generator_entry_truth t ON t.entry_id = e.id
                             WHERE t.valence IS NULL OR t.valence NOT BETWEEN -1 AND 1""")[0] == 0
        # the truth also names the mood and topics the text was written from: the label when there is one,
        # the entry's tags as topics
        assert _one(conn, """SELECT count(*) FROM mindflow.journal_entries e JOIN public.generator_entry_truth t
                               ON t.entry_id = e.id WHERE t.mood IS NULL OR (e.mood IS NOT NULL AND e.mood <> t.mood)""")[0] == 0
        assert _one(conn, """SELECT count(*) FROM mindflow.journal_entries e JOIN public.generator_entry_truth t
                               ON t.entry_id = e.id WHERE t.topics IS DISTINCT FROM ARRAY(
                                 SELECT g.name::text FROM mindflow.journal_entry_tags jt JOIN mindflow.tags g ON g.id = jt.tag_id
                                  WHERE jt.journal_entry_id = e.id ORDER BY g.name)""")[0] == 0
        # edits bump the version and move updated_at; every edit has its audit row
        assert _one(conn, "SELECT count(*) FROM mindflow.journal_entries WHERE (version > 1) <> (updated_at > created_at)")[0] == 0
        edits, audits = _one(conn, """SELECT (SELECT sum(version - 1) FROM mindflow.journal_entries),
                                             (SELECT count(*) FROM mindflow.audit_logs WHERE action = 'ENTRY_UPDATE')""")
        assert edits == audits > 0
        share = _one(conn, """SELECT count(DISTINCT journal_entry_id)::float / (SELECT count(*) FROM mindflow.journal_entries)
                               FROM mindflow.attachments""")[0]
        assert 0.05 < share < 0.16


def test_planted_breaks_are_exactly_the_rule_violations(generated):
    url, _ = generated
    with psycopg.connect(url) as conn:
        planted: dict[str, set] = {}
        for table, key, rule in conn.execute("SELECT source_table, record_key, rule FROM public.generator_rule_breaks"):
            planted.setdefault(rule, set()).add((table, key))
        assert set(planted) == set(RULES)
        for rule, (table, query) in RULES.items():
            violating = {(table, key) for (key,) in conn.execute(query)}
            assert violating == planted[rule], rule
            schema, name = table.split(".")
            total = _one(conn, f'SELECT count(*) FROM "{schema}"."{name}"')[0]
            # documented band: one row in 128 to 150 (0.67% to 0.78%), at least one row in small runs
            assert len(violating) >= 1
            assert len(violating) == 1 or len(violating) / total <= 0.01, (rule, len(violating), total)


def test_running_sessions_are_approved_and_streaks_match_except_planted(generated):
    url, _ = generated
    with psycopg.connect(url) as conn:
        planted = set(_col(conn, "SELECT record_key FROM public.generator_rule_breaks WHERE rule = 'agent_running_has_approval'"))
        assert _col(conn, "SELECT status FROM devassist.agent_sessions WHERE agent_session_id::text = ANY(%s)",
                    (list(planted),)) == ["running"] * len(planted)
        unapproved = set(_col(conn, RULES["agent_running_has_approval"][1]))
        assert unapproved == planted
        # the audit trigger fired for every insert and its rows were made deterministic
        audit, expected = _one(conn, """SELECT (SELECT count(*) FROM devassist.audit_log),
            (SELECT count(*) FROM devassist.users) + (SELECT count(*) FROM devassist.agent_sessions)
            + (SELECT count(*) FROM devassist.governance_events)""")
        assert audit == expected
        # token cost is the sum of the session's interactions
        assert _one(conn, """SELECT count(*) FROM devassist.agent_sessions a WHERE a.token_cost <>
                               coalesce((SELECT sum(cost) FROM devassist.agent_interactions i
                                          WHERE i.agent_session_id = a.agent_session_id), 0)""")[0] == 0


def test_privacy_cases_are_present_in_plausible_shares(generated):
    url, _ = generated
    with psycopg.connect(url) as conn:
        private, deleted = _one(conn, """SELECT avg(is_private::int), avg((deleted_at IS NOT NULL)::int)
                                          FROM mindflow.journal_entries""")
        assert 0.02 < private < 0.09 and 0.005 < deleted < 0.05
        private_mode = _one(conn, "SELECT count(*) FILTER (WHERE private_mode), count(*) FROM mindflow.user_settings")
        assert 1 <= private_mode[0] <= max(1, 0.05 * private_mode[1])
        deleted_users, inactive = _one(conn, """SELECT count(*) FILTER (WHERE deleted_at IS NOT NULL),
                                                       count(*) FILTER (WHERE deleted_at IS NOT NULL AND NOT is_active)
                                                  FROM mindflow.users""")
        assert deleted_users >= 1 and inactive == deleted_users
        # a deleted user's entries stay, all written before the deletion
        assert _one(conn, """SELECT count(*) FROM mindflow.journal_entries e JOIN mindflow.users u ON u.id = e.user_id
                              WHERE u.deleted_at IS NOT NULL AND e.created_at > u.deleted_at""")[0] == 0
        pending, rejected = _one(conn, """SELECT avg((processing_status = 'pending')::int),
                                                 avg((processing_status = 'rejected')::int) FROM personakit.observations""")
        assert 0.05 < pending < 0.3 and 0.03 < rejected < 0.2
        assert _one(conn, "SELECT count(*) FROM personakit.observations WHERE processing_status = 'rejected' AND rejection_reason IS NULL")[0] == 0
        assert _one(conn, "SELECT count(*) FROM coach.dialogue_messages WHERE deleted_at IS NOT NULL")[0] >= 1
        assert _one(conn, "SELECT count(*) FROM coach.dialogue_messages WHERE flagged_for_recall")[0] >= 1
        assert _one(conn, "SELECT count(*) FROM coach.users WHERE deleted_at IS NOT NULL")[0] >= 1
        assert _one(conn, "SELECT count(*) FROM personakit.persons WHERE deleted_at IS NOT NULL")[0] >= 1


def test_journaling_habits_differ_between_users(generated):
    url, _ = generated
    with psycopg.connect(url) as conn:
        longest = _col(conn, "SELECT longest_streak FROM mindflow.user_streaks ORDER BY longest_streak")
        per_user = _col(conn, "SELECT count(*) FROM mindflow.journal_entries GROUP BY user_id ORDER BY 1")
    assert longest[-1] >= 14 and longest[0] <= 3       # daily writers and sporadic ones
    assert per_user[-1] >= 4 * max(1, per_user[0])


def _pearson(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(xs, ys))
    return cov / math.sqrt(sum((a - mx) ** 2 for a in xs) * sum((b - my) ** 2 for b in ys))


def test_entry_vocabulary_fits_its_mood_and_valence(generated):
    """Judged by VADER (a lexicon the generator does not use): text follows the label and the valence."""
    from assets.mood.text_model import vader_compound

    url, _ = generated
    with psycopg.connect(url) as conn:
        rows = conn.execute("""SELECT e.mood, e.content, t.valence::float FROM mindflow.journal_entries e
                                 JOIN public.generator_entry_truth t ON t.entry_id = e.id""").fetchall()
    scores = [vader_compound(c) for _, c, _ in rows]
    mean = lambda moods: sum(s for (m, _, _), s in zip(rows, scores) if m in moods) / max(  # noqa: E731
        1, sum(1 for m, _, _ in rows if m in moods))
    assert mean({"ecstatic", "happy"}) > 0.3 > -0.3 > mean({"sad", "angry"})
    assert _pearson(scores, [v for _, _, v in rows]) > 0.6


def _sentences(content: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", content)
    return [p.lstrip("- ").replace("**", "") for p in parts if p.strip() and not p.startswith("## ")]


def test_ten_thousand_entries_rarely_repeat_a_sentence_and_are_deterministic():
    def corpus(seed: int) -> list[tuple[str, str]]:
        rng = random.Random(seed)
        return [text.journal_entry(rng, rng.choice(text.MOODS), rng.sample(text.TAGS, 2), rng.randint(50, 300))
                for _ in range(10_000)]

    first = corpus(11)
    sentences = [s for _, content in first for s in _sentences(content)]
    assert len(sentences) > 50_000
    assert len(set(sentences)) / len(sentences) >= 0.95
    assert corpus(11)[:200] == first[:200]  # same seed, same words
    assert corpus(12)[:200] != first[:200]


def test_stories_of_one_legacy_share_people_places_and_events():
    world = text.legacy_world(random.Random(5), "Maria Silva")
    other = text.legacy_world(random.Random(6), "Rosa Costa")
    stories = [text.story_text(random.Random(i), 200, "Maria Silva", world) for i in range(4)]
    for story in stories:
        assert "Maria" in story
        assert any(n in story for n in world.relative_names)
        assert any(p in story for p in world.places) or any(e in story for e in world.events)
    # what two stories of one legacy share is that legacy's world, more than any other legacy's story
    names = lambda t: set(re.findall(r"\b[A-Z][a-z]+\b", t))  # noqa: E731
    stranger = text.story_text(random.Random(9), 200, "Rosa Costa", other)
    assert len(names(stories[0]) & names(stories[1])) > len(names(stories[0]) & names(stranger))


def test_assessments_carry_structured_results_matching_their_text(generated):
    url, _ = generated
    with psycopg.connect(url) as conn:
        rows = conn.execute("""SELECT content_structured FROM personakit.observations
                                WHERE source_type = 'assessment'""").fetchall()
        graphs = _one(conn, """SELECT count(*) FROM personakit.observations
                                WHERE source_type IN ('chat_log', 'document', 'interview')
                                  AND jsonb_typeof(content_structured->'relations') = 'array'""")[0]
    kinds = {r[0]["assessmentType"] for r in rows}
    assert kinds <= {"mbti", "disc", "enneagram"} and len(kinds) >= 2
    for (doc,) in rows:
        if doc["assessmentType"] == "mbti":
            assert re.fullmatch(r"[EI][NS][FT][JP]", doc["result"]["type"])
            assert set(doc["result"]["scores"]) == {"E", "N", "F", "J"}
    assert graphs > 0


def test_text_functions_are_pure_and_sized():
    a = text.journal_entry(random.Random(1), "happy", ["work", "family"], 120)
    b = text.journal_entry(random.Random(1), "happy", ["work", "family"], 120)
    assert a == b and a[0] and 120 <= text.word_count(a[1]) <= 160
    assert text.markdown_word_count(a[1]) == text.word_count(a[1])
    story = text.story_text(random.Random(2), 300, "Maria Silva")
    assert 300 <= text.word_count(story) <= 330 and "Maria" in story
    chat = text.observation_text(random.Random(3), "chat_log", {"extraversion": 0.95}, "Ana")
    assert "Ana:" in chat
    assert text.dialogue_message(random.Random(4), "assistant", "statistics")


def test_bulk_load_rebuilds_exactly_the_indexes_it_dropped(databases, monkeypatch):
    import sources.generator as generator

    query = """SELECT schemaname, indexname, indexdef FROM pg_indexes
                WHERE schemaname IN ('mindflow', 'mosaic', 'personakit', 'coach', 'devassist') ORDER BY 1, 2"""
    with psycopg.connect(databases.source_url) as conn:
        before = conn.execute(query).fetchall()
    monkeypatch.setattr(generator, "BULK_INDEX_THRESHOLD", 1)  # take the bulk path at a tiny scale
    generator.generate(databases.source_url, users=6, days=5, seed=1, anchor=ANCHOR)
    with psycopg.connect(databases.source_url) as conn:
        assert conn.execute(query).fetchall() == before
        assert len(before) > 50
        assert _one(conn, "SELECT count(*) FROM mindflow.journal_entries")[0] > 0
