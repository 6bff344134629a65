"""The five source schemas: they apply from nothing, re-apply as a no-op, and enforce the seeds' rules."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from sources.migrate import MigrationError, apply_migrations, discover
from sources.registry import PRODUCTS, TABLES


def test_schemas_apply_from_nothing_and_reapply_is_noop(embedded_server):
    name = f"app_m{uuid.uuid4().hex[:8]}"
    with psycopg.connect(embedded_server.url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = embedded_server.url(name)
        first = apply_migrations(url)
        assert [m.version for m in first] == [m.version for m in discover()]
        assert apply_migrations(url) == []
        with psycopg.connect(url) as conn:
            schemas = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace").fetchall()}
            assert set(PRODUCTS) <= schemas
            assert conn.execute("SELECT count(*) FROM public.tessera_migrations").fetchone()[0] == len(first)
    finally:
        with psycopg.connect(embedded_server.url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_changed_migration_is_refused(databases, tmp_path):
    for migration in discover():
        (tmp_path / migration.path.name).write_text(migration.sql)
    first = sorted(tmp_path.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited after apply\n")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        apply_migrations(databases.source_url, tmp_path)


def test_registry_matches_the_source_catalog(databases):
    with psycopg.connect(databases.source_url) as conn:
        catalog = {
            (r[0], r[1])
            for r in conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' AND table_schema = ANY(%s)",
                (list(PRODUCTS),),
            ).fetchall()
        }
        primary_keys = dict(
            ((r[0], r[1]), tuple(r[2]))
            for r in conn.execute(
                """SELECT n.nspname, c.relname,
                          array_agg(a.attname ORDER BY array_position(i.indkey::int2[], a.attnum))
                     FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
                     JOIN pg_namespace n ON n.oid = c.relnamespace
                     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
                    WHERE i.indisprimary GROUP BY 1, 2"""
            ).fetchall()
        )
    assert {(t.product, t.name) for t in TABLES} == catalog
    for table in TABLES:
        assert primary_keys[(table.product, table.name)] == table.key, table.qualified


def _mindflow_user(conn) -> uuid.UUID:
    return conn.execute(
        "INSERT INTO mindflow.users (email, password_hash, display_name) VALUES (%s, 'x', 'Ann') RETURNING id",
        (f"ann{uuid.uuid4().hex[:6]}@example.com",),
    ).fetchone()[0]


def test_mindflow_rejects_invalid_mood_and_email(databases):
    with psycopg.connect(databases.source_url) as conn:
        user = _mindflow_user(conn)
        with pytest.raises(psycopg.errors.CheckViolation, match="check_mood"):
            conn.execute(
                "INSERT INTO mindflow.journal_entries (user_id, date, title, content, mood) "
                "VALUES (%s, '2025-01-01', 't', 'c', 'furious')",
                (user,),
            )
        conn.rollback()
        with pytest.raises(psycopg.errors.CheckViolation, match="check_email_format"):
            conn.execute("INSERT INTO mindflow.users (email, password_hash, display_name) VALUES ('nope', 'x', 'B')")


def test_mindflow_updated_at_trigger_bumps_on_update(databases):
    with psycopg.connect(databases.source_url, autocommit=True) as conn:
        user = _mindflow_user(conn)
        conn.execute("UPDATE mindflow.users SET updated_at = '2000-01-01' WHERE id = %s", (user,))
        stamped = conn.execute("SELECT updated_at FROM mindflow.users WHERE id = %s", (user,)).fetchone()[0]
        assert stamped.year > 2000  # the trigger overwrote the value the update tried to set


def test_agent_cannot_run_without_governance_approval(databases):
    with psycopg.connect(databases.source_url) as conn:
        user = conn.execute(
            "INSERT INTO devassist.users (email, username) VALUES ('dev@example.com', 'dev') RETURNING user_id"
        ).fetchone()[0]
        session = conn.execute(
            "INSERT INTO devassist.agent_sessions (user_id, agent_type, status) VALUES (%s, 'coder', 'pending_approval') "
            "RETURNING agent_session_id",
            (user,),
        ).fetchone()[0]
        conn.commit()
        with pytest.raises(psycopg.errors.RaiseException, match="without governance approval"):
            conn.execute("UPDATE devassist.agent_sessions SET status = 'running' WHERE agent_session_id = %s", (session,))
        conn.rollback()
        conn.execute(
            "INSERT INTO devassist.governance_events (agent_session_id, event_type, framework_type, approved) "
            "VALUES (%s, 'pre_agent_spawn', 'consensus', true)",
            (session,),
        )
        conn.execute("UPDATE devassist.agent_sessions SET status = 'running' WHERE agent_session_id = %s", (session,))
        conn.commit()
        audited = conn.execute(
            "SELECT table_name, operation FROM devassist.audit_log "
            "WHERE new_values->>'agent_session_id' = %s ORDER BY changed_at, operation",
            (str(session),),
        ).fetchall()
        assert ("agent_sessions", "INSERT") in audited and ("agent_sessions", "UPDATE") in audited
        assert ("governance_events", "INSERT") in audited


def test_observations_are_immutable_and_mappers_cannot_be_deleted(databases):
    with psycopg.connect(databases.source_url) as conn:
        person = conn.execute("INSERT INTO personakit.persons (display_name) VALUES ('P') RETURNING person_id").fetchone()[0]
        obs = conn.execute(
            "INSERT INTO personakit.observations (person_id, source_type, content_raw) VALUES (%s, 'chat_log', 'hi') "
            "RETURNING observation_id",
            (person,),
        ).fetchone()[0]
        conn.execute("UPDATE personakit.observations SET processing_status = 'approved' WHERE observation_id = %s", (obs,))
        assert conn.execute("SELECT version FROM personakit.observations WHERE observation_id = %s", (obs,)).fetchone()[0] == 2
        with pytest.raises(psycopg.errors.RaiseException, match="immutable"):
            conn.execute("UPDATE personakit.observations SET content_raw = 'edited' WHERE observation_id = %s", (obs,))
        conn.rollback()
        mapper = conn.execute(
            "INSERT INTO personakit.persona_mappers (name, purpose, version, created_by, updated_by) "
            "VALUES ('m', 'p', '1.0.0', 'a', 'a') RETURNING mapper_id"
        ).fetchone()[0]
        with pytest.raises(psycopg.errors.RaiseException, match="only deprecated"):
            conn.execute("DELETE FROM personakit.persona_mappers WHERE mapper_id = %s", (mapper,))


def test_user_can_access_story_matches_the_seed(databases):
    with psycopg.connect(databases.source_url) as conn:
        def user(name):
            return conn.execute(
                "INSERT INTO mosaic.users (email, full_name) VALUES (%s, %s) RETURNING id", (f"{name}@example.com", name)
            ).fetchone()[0]

        admin, author, member, family, outsider = (user(n) for n in ("admin", "author", "member", "family", "outsider"))
        legacy = conn.execute(
            "INSERT INTO mosaic.legacies (person_name, created_by) VALUES ('Grandma', %s) RETURNING id", (admin,)
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO mosaic.groups (legacy_id, name, created_by, members) VALUES (%s, 'Family', %s, ARRAY[%s]::uuid[])",
            (legacy, admin, member),
        )
        conn.execute(
            "INSERT INTO mosaic.persons (name, relationship_type, legacy_id, user_id) VALUES ('F', 'family', %s, %s)",
            (legacy, family),
        )
        stories = {}
        for visibility in ("public", "private", "group"):
            stories[visibility] = conn.execute(
                "INSERT INTO mosaic.stories (legacy_id, submitted_by, title, content, visibility_level) "
                "VALUES (%s, %s, 't', 'c', %s) RETURNING id",
                (legacy, author, visibility),
            ).fetchone()[0]

        def can(u, story):
            return conn.execute("SELECT mosaic.user_can_access_story(%s, %s)", (u, story)).fetchone()[0]

        expected = {
            # (user, visibility): access
            (author, "public"): True, (author, "private"): True, (author, "group"): True,
            (admin, "public"): True, (admin, "private"): True, (admin, "group"): True,
            (member, "public"): True, (member, "private"): False, (member, "group"): True,
            (family, "public"): True, (family, "private"): False, (family, "group"): False,
            (outsider, "public"): True, (outsider, "private"): False, (outsider, "group"): False,
        }
        for (u, visibility), access in expected.items():
            assert can(u, stories[visibility]) is access, (u, visibility)
        assert can(outsider, uuid.uuid4()) is False
        # the seed's family_only level, through the function's enum
        assert conn.execute("SELECT mosaic.check_family_relationship(%s, %s)", (family, legacy)).fetchone()[0] is True
        assert conn.execute("SELECT mosaic.check_family_relationship(%s, %s)", (outsider, legacy)).fetchone()[0] is False
