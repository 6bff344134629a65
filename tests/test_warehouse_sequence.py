"""The operations sequence on both warehouses: seed, materialize twice, soft-delete a user in the source,
materialize, erase a second user on demand. No run fails, the BI roles have their grants (the dashboard
sees only its user's rows, the analyst no private entry text and no email in any relation it can
select), neither user's id is found in any relation outside the audit tables, and mood_daily_summary
equals an independent GROUP BY over the source's live entries (quarantined rows aside).

The plain-Postgres test runs always (tiny seed); the TimescaleDB one needs TESSERA_TIMESCALE_TEST_URL and
also runs the plain warehouse to compare the rows."""

from __future__ import annotations

import uuid
from collections import Counter

import psycopg
import pytest
from psycopg import sql

from assets.operations import bi_access, erasure
from test_operations import relations_holding

SEED = {"users": 8, "days": 10, "seed": 11}
STEPS = ("quality/quarantine", "dbt_staging", "dbt_eligibility", "dbt_changes", "dbt_intermediate", "dbt_marts", "mood",
         "tessera_meta/erasures", "tessera_meta/bi_access")
PRIVATE_CANARY = "zqxprivatecanary"
MOODS = ("ecstatic", "happy", "neutral", "sad", "anxious", "angry")


def _materialize() -> None:
    from orchestration.commands.materialize import materialize_all

    results = materialize_all(STEPS, backfill_days=SEED["days"] + 2, echo=lambda *_: None)
    failed = [(r.keys, r.failed_steps) for r in results if not r.success]
    assert results and not failed, failed


def _sequence(source_url: str, warehouse_url: str, monkeypatch) -> tuple[str, str]:
    """Runs the sequence against warehouse_url; returns (soft-deleted user, erased user)."""
    from click.testing import CliRunner

    from assets.ingest.pipeline import sync_all
    from orchestration.cli import main

    monkeypatch.setenv("TESSERA_WAREHOUSE_URL", warehouse_url)
    for _ in range(2):
        sync_all(source_url, warehouse_url)
        _materialize()
    with psycopg.connect(source_url) as src:
        gone, erased = [r[0] for r in src.execute(
            "SELECT id::text FROM mindflow.users u WHERE deleted_at IS NULL AND EXISTS (SELECT 1 FROM "
            "mindflow.journal_entries e WHERE e.user_id = u.id AND e.deleted_at IS NULL AND e.mood IS NOT NULL) "
            "ORDER BY id LIMIT 2")]
        src.execute("UPDATE mindflow.users SET deleted_at = now() WHERE id = %s", (gone,))
    sync_all(source_url, warehouse_url)
    _materialize()
    out = CliRunner().invoke(main, ["erase", "--user", erased])
    assert out.exit_code == 0, out.output
    assert "verified: no derived store holds the id" in out.output
    return gone, erased


def _seed(source_url: str) -> None:
    from sources.generator import generate

    generate(source_url, **SEED)
    with psycopg.connect(source_url) as src:  # a private entry whose text must never reach analysts
        src.execute("UPDATE mindflow.journal_entries SET is_private = true, content = content || %s, "
                    "title = title || %s WHERE id = (SELECT e.id FROM mindflow.journal_entries e JOIN mindflow.users u "
                    "ON u.id = e.user_id WHERE e.deleted_at IS NULL AND u.deleted_at IS NULL ORDER BY u.id DESC, e.id "
                    "LIMIT 1)", (f" {PRIVATE_CANARY}", f" {PRIVATE_CANARY}"))


def _expected_daily(source_url: str, warehouse_url: str) -> list[tuple]:
    """(day, user, entries, most common mood, words) from the source's live entries, computed in Python:
    not soft-deleted, user live and not erased, mood set, neither entry nor user quarantined."""
    with psycopg.connect(warehouse_url) as wh:
        quarantined = set(wh.execute("SELECT source_table, record_key FROM quality.active_quarantine").fetchall())
        erased = {str(r[0]) for r in wh.execute("SELECT subject_id FROM tessera_meta.erasures").fetchall()}
    with psycopg.connect(source_url) as src:
        rows = src.execute(
            "SELECT e.id::text, e.user_id::text, e.date, e.mood, e.word_count, e.deleted_at IS NULL, u.deleted_at IS NULL "
            "FROM mindflow.journal_entries e JOIN mindflow.users u ON u.id = e.user_id").fetchall()
    groups: dict[tuple, list] = {}
    for entry, user, day, mood, words, entry_live, user_live in rows:
        if not (entry_live and user_live) or mood not in MOODS or user in erased:
            continue
        if ("mindflow.journal_entries", entry) in quarantined or ("mindflow.users", user) in quarantined:
            continue
        groups.setdefault((day, user), []).append((mood, words))
    out = []
    for (day, user), items in groups.items():
        moods = Counter(m for m, _ in items)
        top = min(moods, key=lambda m: (-moods[m], m))  # MODE() breaks ties by sort order
        out.append((day, user, len(items), top, sum(w or 0 for _, w in items)))
    return sorted(out)


def _daily(warehouse_url: str) -> list[tuple]:
    with psycopg.connect(warehouse_url) as wh:
        return sorted((d.date(), str(u), n, m, w) for d, u, n, m, w in wh.execute(
            "SELECT day AT TIME ZONE 'UTC', user_id, entry_count, most_common_mood, total_words "
            "FROM analytics.mood_daily_summary").fetchall())


def _as(url: str, role: str) -> psycopg.Connection:
    return psycopg.connect(psycopg.conninfo.make_conninfo(url, user=role))


def _check_bi_roles(source_url: str, warehouse_url: str) -> None:
    with psycopg.connect(warehouse_url) as wh:
        users = [str(r[0]) for r in wh.execute("SELECT DISTINCT user_id FROM analytics.mood_daily_summary ORDER BY 1")]
        total = wh.execute("SELECT count(*) FROM analytics.mood_daily_summary").fetchone()[0]
    with psycopg.connect(source_url) as src:
        emails = [r[0].lower() for r in src.execute(
            "SELECT email FROM mindflow.users UNION SELECT email FROM coach.users WHERE email IS NOT NULL")]
    assert len(users) >= 2 and emails
    me = users[0]
    with _as(warehouse_url, bi_access.DASHBOARD_ROLE) as dash:
        for rel in ("dashboard.mood_daily_summary", "dashboard.user_weekly_activity", "dashboard.mood_events",
                    "dashboard.journals_view"):
            assert dash.execute(f"SELECT count(*) FROM {rel}").fetchone()[0] == 0, rel  # no user set
        dash.execute("SELECT set_config('app.current_user_id', %s, false)", (me,))
        for rel in ("dashboard.mood_daily_summary", "dashboard.user_weekly_activity", "dashboard.mood_events",
                    "dashboard.journals_view"):
            assert {str(r[0]) for r in dash.execute(f"SELECT DISTINCT user_id FROM {rel}")} == {me}, rel
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            dash.execute("SELECT 1 FROM raw_mindflow.users LIMIT 1")
    with _as(warehouse_url, bi_access.ANALYST_ROLE) as analyst:
        assert analyst.execute("SELECT count(*) FROM analytics.mood_daily_summary").fetchone()[0] == total
        readable = analyst_readable(analyst)
        assert ("analyst", "journals_view") in readable and ("marts", "journals_view") not in readable
        assert ("analytics", "mood_daily_summary") in readable
        leaks = []
        for schema, name in readable:
            text = analyst.execute(sql.SQL("SELECT coalesce(string_agg(lower(t::text), ' '), '') FROM {} t").format(
                sql.Identifier(schema, name))).fetchone()[0]
            if PRIVATE_CANARY in text or any(e in text for e in emails):
                leaks.append(f"{schema}.{name}")
        assert leaks == []
        # the masking hides only private text: public entries keep theirs
        assert analyst.execute("SELECT count(*) FROM analyst.journals_view WHERE NOT is_private AND content IS NOT NULL"
                               ).fetchone()[0] > 0


def analyst_readable(conn) -> list[tuple[str, str]]:
    """Every relation (outside the system catalogs) the connected role can select from, whole or by column."""
    return [tuple(r) for r in conn.execute(
        """SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
              AND has_schema_privilege(n.oid, 'USAGE')
              AND (has_table_privilege(c.oid, 'SELECT') OR has_any_column_privilege(c.oid, 'SELECT'))
            ORDER BY 1, 2""").fetchall()]


def _check_gone(warehouse_url: str, *subjects: str) -> None:
    with psycopg.connect(warehouse_url) as wh:
        for subject in subjects:
            assert relations_holding(wh, subject) == [], subject
            assert erasure.find_subject(wh, uuid.UUID(subject)) == [], subject


@pytest.mark.slow
def test_sequence_on_plain_postgres(databases, monkeypatch):
    _seed(databases.source_url)
    gone, erased = _sequence(databases.source_url, databases.warehouse_url, monkeypatch)
    _check_gone(databases.warehouse_url, gone, erased)
    _check_bi_roles(databases.source_url, databases.warehouse_url)
    daily = _daily(databases.warehouse_url)
    assert daily and daily == _expected_daily(databases.source_url, databases.warehouse_url)


@pytest.mark.slow
@pytest.mark.timescale
def test_sequence_on_timescaledb_matches_plain_postgres(databases, timescale_database, monkeypatch):
    from assets.mood import schema

    _seed(databases.source_url)
    gone, erased = _sequence(databases.source_url, timescale_database, monkeypatch)
    with psycopg.connect(timescale_database) as wh:
        assert schema.stored_mode(wh) == "timescaledb"
        assert wh.execute("SELECT count(*) FROM timescaledb_information.continuous_aggregates "
                          "WHERE view_schema = 'analytics'").fetchone()[0] == 2
    _check_gone(timescale_database, gone, erased)
    _check_bi_roles(databases.source_url, timescale_database)
    daily = _daily(timescale_database)
    assert daily and daily == _expected_daily(databases.source_url, timescale_database)
