"""Persona assets against the embedded Postgres, on small hand-built source rows mirrored into raw_*
(the mirror below stands in for an ingest tick: raw_<product>.<table> = the source table + _ingested_at,
_source_lsn), with the dbt views the persona assets read (staging, eligibility) built over them. Known
answers throughout."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import dagster as dg
import psycopg
import pytest

from assets.persona import checks
from assets.persona.graph import refresh_graph_metadata
from assets.persona.knowledge import refresh_knowledge
from assets.persona.plugin_metadata import refresh_story_metadata
from assets.persona.related_stories import refresh_related_stories, top_k_related
from assets.persona.snapshots import refresh_persona_snapshots, refresh_progress_snapshot
from assets.persona.traits import refresh_traits
from assets.dbt.project import run_dbt
from assets.ingest import feed
from core.db import columns_of, table_exists
from assets.resources import WarehouseDatabase

AS_OF = datetime(2025, 6, 1, 12, tzinfo=timezone.utc)
PERSONAKIT = ("personakit.persons", "personakit.observations", "personakit.mindscapes")
MOSAIC = ("mosaic.users", "mosaic.legacies", "mosaic.stories")
COACH = ("coach.users", "coach.sessions", "coach.plans", "coach.tasks", "coach.study_sessions")
# The dbt views over each mirrored set that the persona assets read.
DBT_VIEWS = {
    tables: [f"staging.stg_{t.replace('.', '__')}" for t in tables] + extra
    for tables, extra in ((PERSONAKIT, ["eligibility.eligible_personakit_observations"]),
                          (MOSAIC, ["eligibility.eligible_mosaic_stories"]), (COACH, []))
}


def mirror(dbs, tables) -> None:
    """Reload raw_<product>.<table> from the source (a full-load ingest tick, for tests)."""
    with psycopg.connect(dbs.source_url) as src, psycopg.connect(dbs.warehouse_url) as wh:
        for qualified in tables:
            product, name = qualified.split(".")
            cols = columns_of(src, product, name)
            wh.execute(f'CREATE SCHEMA IF NOT EXISTS "raw_{product}"')
            defs = ", ".join(f'"{c}" {t}' for c, t in cols)
            wh.execute(f'CREATE TABLE IF NOT EXISTS "raw_{product}"."{name}" ({defs}, '
                       "_ingested_at timestamptz NOT NULL DEFAULT now(), _source_lsn pg_lsn)")
            wh.execute(f'TRUNCATE "raw_{product}"."{name}"')
            names = ", ".join(f'"{c}"' for c, _ in cols)
            with src.cursor().copy(f'COPY (SELECT {names} FROM "{product}"."{name}") TO STDOUT') as out:
                with wh.cursor().copy(f'COPY "raw_{product}"."{name}" ({names}) FROM STDIN') as into:
                    for chunk in out:
                        into.write(chunk)
        feed.ensure_feed(wh)  # as ingest does (dbt's run-end hook prunes the change feed)
        wh.commit()
        missing = [v for v in DBT_VIEWS[tables] if not table_exists(wh, *v.split("."))]
    if missing:  # views read the raw copies live: built once, they see every later mirror
        run_dbt(["run", "--select", *(v.split(".")[1] for v in missing)], url=dbs.warehouse_url, check=True)


def person(conn, name="P", deleted=False) -> str:
    return str(conn.execute("INSERT INTO personakit.persons (display_name, deleted_at) VALUES (%s, %s) RETURNING person_id",
                            (name, AS_OF if deleted else None)).fetchone()[0])


def observe(conn, person_id, source_type="chat_log", text="", structured=None, status="approved", days_ago=1.0,
            source="slack") -> str:
    at = AS_OF - timedelta(days=days_ago)
    meta = {"source": source, "timestamp": at.isoformat()}
    if source_type == "assessment" and structured:
        meta["assessmentType"] = structured.get("assessmentType")
    return str(conn.execute(
        "INSERT INTO personakit.observations (person_id, source_type, source_metadata, content_raw, content_structured, "
        "processing_status, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING observation_id",
        (person_id, source_type, json.dumps(meta), text, json.dumps(structured) if structured else None, status, at),
    ).fetchone()[0])


def mbti(type_, confidence=0.9):
    return {"assessmentType": "mbti", "result": {"type": type_}, "confidence": confidence}


def traits(wh_url, person_id) -> dict:
    with psycopg.connect(wh_url) as wh:
        rows = wh.execute("SELECT trait_name, value, confidence, derived_from FROM persona.trait_matrix WHERE person_id = %s",
                          (person_id,)).fetchall()
    return {name: (value, conf, sorted(str(d) for d in derived)) for name, value, conf, derived in rows}


def run_traits(dbs, as_of=AS_OF) -> dict:
    with psycopg.connect(dbs.warehouse_url) as wh:
        return refresh_traits(wh, as_of)


def test_trait_matrix_rule4_lineage_and_incremental(databases):
    with psycopg.connect(databases.source_url) as src:
        p1, p2, p3 = person(src, "Ann"), person(src, "Bo"), person(src, "Cy")
        o1 = observe(src, p1, "assessment", "", mbti("INTJ"), "approved")
        o2 = observe(src, p1, "assessment", "", mbti("INTJ"), "processed")
        o3 = observe(src, p1, "chat_log", "I am so outgoing and talkative, I love parties.", status="pending")
        o4 = observe(src, p1, "chat_log", "I am anxious and stressed, I feel overwhelmed.", status="rejected")
        o5 = observe(src, p2, "assessment", "", mbti("ENFP"), "approved")
        observe(src, p3, "assessment", "", mbti("ISTJ"), "approved")
    mirror(databases, PERSONAKIT)

    stats = run_traits(databases)
    assert stats["persons_recomputed"] == 3
    t1 = traits(databases.warehouse_url, p1)
    assert t1["mbti_type"][0] == "INTJ"
    assert t1["mbti_type"][1] == pytest.approx(1 - 0.1 * 0.1)  # two agreeing assessments
    assert t1["mbti_type"][2] == sorted([o1, o2])  # lineage: exactly the contributing ids
    assert "stress_level" not in t1  # rejected o4 never contributes
    with psycopg.connect(databases.warehouse_url) as wh:
        for never in (o3, o4):  # pending and rejected never appear in any lineage
            assert wh.execute("SELECT count(*) FROM persona.trait_matrix WHERE %s::uuid = ANY(derived_from)", (never,)).fetchone()[0] == 0

    assert run_traits(databases)["persons_recomputed"] == 0  # nothing changed: nothing recomputed

    with psycopg.connect(databases.source_url) as src:  # reject o2 in the source, approve o3
        src.execute("UPDATE personakit.observations SET processing_status = 'rejected' WHERE observation_id = %s", (o2,))
        src.execute("UPDATE personakit.observations SET processing_status = 'approved' WHERE observation_id = %s", (o3,))
    mirror(databases, PERSONAKIT)
    stats = run_traits(databases)
    assert stats["persons_recomputed"] == 1 and stats["persons_unchanged"] == 2
    t1 = traits(databases.warehouse_url, p1)
    assert t1["mbti_type"][2] == [o1] and t1["mbti_type"][1] == pytest.approx(0.9)
    assert o3 in t1["extraversion"][2] and t1["extraversion"][0] > 0.2  # the chat now counts, against the I in INTJ
    with psycopg.connect(databases.warehouse_url) as wh:
        assert wh.execute("SELECT count(*) FROM persona.trait_matrix WHERE %s::uuid = ANY(derived_from)", (o2,)).fetchone()[0] == 0

    with psycopg.connect(databases.source_url) as src:  # soft-delete p3, hard-delete o1
        src.execute("UPDATE personakit.persons SET deleted_at = now() WHERE person_id = %s", (p3,))
        src.execute("DELETE FROM personakit.observations WHERE observation_id = %s", (o1,))
    mirror(databases, PERSONAKIT)
    stats = run_traits(databases)
    assert stats["persons_removed"] == 1 and stats["persons_recomputed"] == 1
    assert traits(databases.warehouse_url, p3) == {}
    assert "mbti_type" not in traits(databases.warehouse_url, p1)

    with psycopg.connect(databases.warehouse_url) as wh:  # quarantined observations are skipped too
        wh.execute("INSERT INTO quality.quarantine (source_table, record_key, rule, reason, row_data) "
                   "VALUES ('personakit.observations', %s, 'test_rule', 'test', '{}')", (o5,))
        wh.commit()
        refresh_traits(wh, AS_OF)
        wh.commit()
        assert checks.count_ineligible_lineage(wh, "trait_matrix") == 0
        assert checks.count_confidence_out_of_range(wh, "trait_matrix") == 0
    assert traits(databases.warehouse_url, p2) == {}


def test_checks_catch_bad_rows_and_run_in_dagster(databases):
    with psycopg.connect(databases.source_url) as src:
        p1 = person(src, "Ann")
        src.execute("INSERT INTO personakit.mindscapes (person_id) VALUES (%s)", (p1,))
        good = observe(src, p1, "assessment", "", mbti("ENTP"), "approved")
        bad = observe(src, p1, "chat_log", "I am outgoing", status="rejected")
    mirror(databases, PERSONAKIT)
    from assets.persona.definitions import defs

    result = dg.materialize(
        [defs.get_assets_def(["persona", k]) for k in ("trait_matrix", "knowledge_entries", "graph_metadata")]
        + [c for c in checks.CHECKS if next(iter(c.check_keys)).asset_key.path[1] in ("trait_matrix", "knowledge_entries", "graph_metadata")],
        resources={"warehouse": WarehouseDatabase()},
        run_config={"ops": {n: {"config": {"as_of": AS_OF.isoformat()}} for n in ("persona__trait_matrix", "persona__knowledge_entries", "persona__graph_metadata")}},
    )
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 9 and all(e.passed for e in evaluations), [(e.check_name, e.passed) for e in evaluations]
    meta = result.asset_materializations_for_node("persona__trait_matrix")[0].metadata
    assert meta["persons_recomputed"].value == 1

    with psycopg.connect(databases.warehouse_url) as wh:
        wh.execute("UPDATE persona.trait_matrix SET confidence = 1.5 WHERE trait_name = 'mbti_type'")
        wh.execute("UPDATE persona.trait_matrix SET derived_from = derived_from || %s::uuid WHERE trait_name = 'extraversion'", (bad,))
        wh.execute("INSERT INTO raw_personakit.mindscapes (mindscape_id, person_id, version, narrative, created_at, updated_at, "
                   "processing_metadata) VALUES (gen_random_uuid(), %s, 1, '{}', now(), now(), '{}')", (p1,))
        assert checks.count_confidence_out_of_range(wh, "trait_matrix") == 1
        assert checks.count_ineligible_lineage(wh, "trait_matrix") == 1
        assert checks.count_multiple_mindscapes(wh) == 1
        assert checks.count_non_v4(wh, "trait_matrix", ("person_id",)) == 0
        assert good


def test_knowledge_entries_ttl_and_versions(databases):
    with psycopg.connect(databases.source_url) as src:
        p1 = person(src, "Ann")
        mindscape = str(src.execute("INSERT INTO personakit.mindscapes (person_id) VALUES (%s) RETURNING mindscape_id", (p1,)).fetchone()[0])
        m = observe(src, p1, "assessment", "", mbti("INFP", 0.8), days_ago=200)
        c = observe(src, p1, "chat_log", "Planning the garden project with Maria, garden tools", {"entities": [{"name": "Maria"}]}, days_ago=3)
    mirror(databases, PERSONAKIT)
    with psycopg.connect(databases.warehouse_url) as wh:
        refresh_knowledge(wh, AS_OF)
        entries = {k: (v, ttl, exp, ver, [str(d) for d in df], str(ms)) for k, v, ttl, exp, ver, df, ms in wh.execute(
            "SELECT key, value, ttl, expires_at, version, derived_from, mindscape_id FROM persona.knowledge_entries").fetchall()}
        assert entries["personality_type"][0] == "INFP" and entries["personality_type"][2] is None
        assert entries["personality_type"][4] == [m] and entries["personality_type"][5] == mindscape
        assert "garden" in entries["recent_topics"][0][0].split() and entries["recent_topics"][4] == [c]
        assert entries["recent_topics"][2] == AS_OF - timedelta(days=3) + timedelta(days=7)
        assert entries["last_observed_at"][1] == 30 * 86400
        wh.commit()
        # 10 days later, no new observations: recent_topics (7-day TTL) is gone, the rest stays, versions unchanged
        stats = refresh_knowledge(wh, AS_OF + timedelta(days=10))
        wh.commit()
        assert stats["entries_expired_removed"] == 1 and stats["persons_recomputed"] == 0
        keys = dict(wh.execute("SELECT key, version FROM persona.knowledge_entries").fetchall())
        assert "recent_topics" not in keys and keys["personality_type"] == 1 and "last_observed_at" in keys
        assert wh.execute("SELECT count(*) FROM persona.knowledge_entries WHERE expires_at <= %s",
                          (AS_OF + timedelta(days=10),)).fetchone()[0] == 0
    with psycopg.connect(databases.source_url) as src:  # a second MBTI disagreeing: new value or confidence -> version 2
        observe(src, p1, "assessment", "", mbti("ENTJ", 0.6), days_ago=1)
    mirror(databases, PERSONAKIT)
    with psycopg.connect(databases.warehouse_url) as wh:
        refresh_knowledge(wh, AS_OF + timedelta(days=10))
        value, version, conf = wh.execute("SELECT value, version, confidence FROM persona.knowledge_entries "
                                          "WHERE key = 'personality_type'").fetchone()
        assert value == "INFP" and version == 2 and conf < 0.8
        assert checks.count_ineligible_lineage(wh, "knowledge_entries") == 0


def test_graph_metadata_matches_hand_computed(databases):
    with psycopg.connect(databases.source_url) as src:
        p1 = person(src, "Ann")
        src.execute("INSERT INTO personakit.mindscapes (person_id) VALUES (%s)", (p1,))
        g1 = observe(src, p1, "chat_log", "x", {"entities": [{"name": "Ann", "type": "person"}, {"name": "Bo", "type": "person"}],
                                                "relations": [{"source": "Ann", "target": "Bo", "type": "TALKED_WITH"},
                                                              {"source": "Ann", "target": "Cy", "type": "TALKED_WITH"}]})
        g2 = observe(src, p1, "document", "y", {"entities": [{"name": "planning", "type": "topic"}],
                                                "relations": [{"source": "Bo", "target": "Cy", "type": "KNOWS"},
                                                              {"source": "Dee", "target": "Eve", "type": "KNOWS"}]})
        observe(src, p1, "chat_log", "z", {"entities": [{"name": "Zed"}]}, status="rejected")
        observe(src, p1, "chat_log", "no graph here")
    mirror(databases, PERSONAKIT)
    with psycopg.connect(databases.warehouse_url) as wh:
        refresh_graph_metadata(wh, AS_OF)
        nodes, edges, density, central, communities, derived = wh.execute(
            "SELECT total_nodes, total_edges, graph_density, central_nodes, communities, derived_from FROM persona.graph_metadata"
        ).fetchone()
    # nodes Ann, Bo, Cy, Dee, Eve, planning (Zed is rejected) = 6; edges Ann-Bo, Ann-Cy, Bo-Cy, Dee-Eve = 4
    assert (nodes, edges) == (6, 4)
    assert density == pytest.approx(2 * 4 / (6 * 5), abs=1e-6)
    assert central == ["Ann", "Bo", "Cy", "Dee", "Eve"]
    assert sorted(c["nodeIds"] for c in communities) == [["Ann", "Bo", "Cy"], ["Dee", "Eve"]]
    assert sorted(str(d) for d in derived) == sorted([g1, g2])


def _vectors_schema(wh) -> None:
    wh.execute("CREATE EXTENSION IF NOT EXISTS vector")
    wh.execute("CREATE SCHEMA IF NOT EXISTS vectors")
    wh.execute("CREATE TABLE IF NOT EXISTS vectors.active_models (source text PRIMARY KEY, model_id text NOT NULL, "
               "dimension int NOT NULL, activated_at timestamptz NOT NULL DEFAULT now())")
    wh.execute("CREATE TABLE IF NOT EXISTS vectors.mosaic_stories (source_id uuid NOT NULL, chunk_index int NOT NULL, "
               "model_id text NOT NULL, content_hash text NOT NULL, embedding vector NOT NULL, embedded_at timestamptz "
               "NOT NULL DEFAULT now(), legacy_id uuid, PRIMARY KEY (source_id, chunk_index, model_id))")
    wh.execute("CREATE TABLE IF NOT EXISTS vectors.personakit_observations (source_id uuid NOT NULL, chunk_index int NOT NULL, "
               "model_id text NOT NULL, content_hash text NOT NULL, embedding vector NOT NULL, embedded_at timestamptz "
               "NOT NULL DEFAULT now(), legacy_id uuid, person_id uuid, metadata jsonb NOT NULL DEFAULT '{}', "
               "PRIMARY KEY (source_id, chunk_index, model_id))")


def test_related_stories_never_cross_legacies(databases):
    import numpy as np

    rng = np.random.default_rng(3)
    with psycopg.connect(databases.source_url) as src:
        user = src.execute("INSERT INTO mosaic.users (email, full_name) VALUES ('a@x.org', 'A') RETURNING id").fetchone()[0]
        legacies = [src.execute("INSERT INTO mosaic.legacies (person_name, created_by) VALUES (%s, %s) RETURNING id",
                                (f"L{i}", user)).fetchone()[0] for i in range(3)]
        stories = {str(l): [str(src.execute("INSERT INTO mosaic.stories (legacy_id, submitted_by, title, content) "
                                            "VALUES (%s, %s, %s, 'c') RETURNING id", (l, user, f"s{j}")).fetchone()[0])
                            for j in range(5)] for l in legacies}
    mirror(databases, MOSAIC)
    # the same 5 base directions in every legacy: the nearest neighbours of a story are in OTHER legacies,
    # so any cross-legacy leak would show up
    base = rng.normal(size=(5, 8))
    chunks = {}
    with psycopg.connect(databases.warehouse_url) as wh:
        _vectors_schema(wh)
        wh.execute("INSERT INTO vectors.active_models VALUES ('mosaic_stories', 'm1', 8, now())")
        for legacy, ids in stories.items():
            for j, sid in enumerate(ids):
                a, b = base[j] + rng.normal(scale=0.3, size=8), base[j] + rng.normal(scale=0.3, size=8)
                chunks[sid] = [a, b]
                for k, vec in enumerate((a, b)):
                    wh.execute("INSERT INTO vectors.mosaic_stories VALUES (%s, %s, 'm1', %s, %s::vector, now(), %s)",
                               (sid, k, f"h{k}", str(list(map(float, vec))), legacy))
                wh.execute("INSERT INTO vectors.mosaic_stories VALUES (%s, 0, 'm0', 'old', %s::vector, now(), %s)",
                           (sid, str([1.0] * 8), legacy))  # an inactive model's rows are ignored
        wh.commit()
        stats = refresh_related_stories(wh, AS_OF, top_k=2, min_similarity=-1.0)
        wh.commit()
        assert stats["legacies_recomputed"] == 3
        assert checks.count_cross_legacy_edges(wh) == 0
        edges = wh.execute("SELECT story_id::text, related_story_id::text, similarity_score, rank, model_id FROM persona.related_stories").fetchall()
    assert len(edges) == 3 * 5 * 2 and {e[4] for e in edges} == {"m1"}
    legacy_of = {s: l for l, ids in stories.items() for s in ids}
    assert all(legacy_of[s] == legacy_of[r] for s, r, *_ in edges)
    expected = set()
    for legacy, ids in stories.items():  # independent expectation: mean of chunks, per legacy
        means = [np.mean(chunks[s], axis=0) for s in ids]
        expected |= {(s, r, rank) for s, r, _, rank in top_k_related(ids, means, 2, -1.0)}
    assert {(s, r, rank) for s, r, _, rank, _ in edges} == expected

    changed = stories[str(legacies[0])][0]
    with psycopg.connect(databases.warehouse_url) as wh:
        wh.execute("UPDATE vectors.mosaic_stories SET content_hash = 'h9', embedding = %s::vector WHERE source_id = %s AND chunk_index = 0 "
                   "AND model_id = 'm1'", (str([0.5] * 8), changed))
        wh.commit()
        again = refresh_related_stories(wh, AS_OF, top_k=2, min_similarity=-1.0)
        assert again["legacies_recomputed"] == 1 and again["legacies_unchanged"] == 2
        wh.commit()
        stricter = refresh_related_stories(wh, AS_OF, top_k=2, min_similarity=0.99)  # new threshold: all legacies, fewer edges
        assert stricter["legacies_recomputed"] == 3 and stricter["edges_total"] < len(edges)
        assert wh.execute("SELECT min(similarity_score) FROM persona.related_stories").fetchone()[0] is None or \
            wh.execute("SELECT min(similarity_score) FROM persona.related_stories").fetchone()[0] >= 0.99


def test_story_plugin_metadata_shape_and_incremental(databases):
    with psycopg.connect(databases.source_url) as src:
        user = src.execute("INSERT INTO mosaic.users (email, full_name) VALUES ('a@x.org', 'A') RETURNING id").fetchone()[0]
        legacy = src.execute("INSERT INTO mosaic.legacies (person_name, created_by) VALUES ('G', %s) RETURNING id", (user,)).fetchone()[0]
        happy, sad = (str(src.execute("INSERT INTO mosaic.stories (legacy_id, submitted_by, title, content) VALUES (%s, %s, %s, %s) "
                                      "RETURNING id", (legacy, user, t, c)).fetchone()[0]) for t, c in
                      (("Sunday lunches", "She loved cooking, we laughed and laughed; the best lunches, lunches with joy."),
                       ("Hospital", "The last weeks in hospital were painful and we cried.")))
    mirror(databases, MOSAIC)
    with psycopg.connect(databases.warehouse_url) as wh:
        refresh_story_metadata(wh, AS_OF)
        rows = {(str(s), t): (p, v, c) for s, p, t, v, c in wh.execute(
            "SELECT story_id, plugin_id, metadata_type, metadata_value, created_at FROM persona.story_plugin_metadata").fetchall()}
        wh.commit()
    assert len(rows) == 4 and {p for p, _, _ in rows.values()} == {"tessera"}
    assert rows[(happy, "sentiment")][1]["label"] == "positive" and rows[(sad, "sentiment")][1]["label"] == "negative"
    happy_keywords = rows[(happy, "keywords")][1]["keywords"]
    assert "lunches" in {w for k in happy_keywords for w in k["term"].split()}
    assert all(k["count"] >= 1 for k in happy_keywords)
    with psycopg.connect(databases.source_url) as src:
        src.execute("UPDATE mosaic.stories SET content = 'Terrible, awful loss.' WHERE id = %s", (happy,))
        src.execute("DELETE FROM mosaic.stories WHERE id = %s", (sad,))
    mirror(databases, MOSAIC)
    with psycopg.connect(databases.warehouse_url) as wh:
        stats = refresh_story_metadata(wh, AS_OF + timedelta(hours=1))
        assert stats["stories_recomputed"] == 1 and stats["stories_removed"] == 1
        label, created, updated = wh.execute("SELECT metadata_value->>'label', created_at, updated_at FROM persona.story_plugin_metadata "
                                             "WHERE story_id = %s AND metadata_type = 'sentiment'", (happy,)).fetchone()
        assert label == "negative" and created == AS_OF and updated == AS_OF + timedelta(hours=1)
        assert wh.execute("SELECT count(*) FROM persona.story_plugin_metadata WHERE story_id = %s", (sad,)).fetchone()[0] == 0


COACH_START = date(2025, 3, 1)
COACH_DAYS = 12


def _coach_fixture(conn):
    """3 live learners in three zones (one invalid: UTC), 1 soft-deleted; sessions with gaps, tasks."""
    users = {}
    for name, tz, deleted in (("utc", "UTC", False), ("ny", "America/New_York", False), ("bad", "Mars/Olympus", False),
                              ("gone", "UTC", True)):
        users[name] = str(conn.execute(
            "INSERT INTO coach.users (email, password_hash, display_name, timezone, created_at, deleted_at) "
            "VALUES (%s, 'x', %s, %s, %s, %s) RETURNING id",
            (f"{name}@x.org", name, tz, datetime(2025, 3, 2 if name == "bad" else 1, 5, tzinfo=timezone.utc),
             datetime(2025, 3, 20, tzinfo=timezone.utc) if deleted else None)).fetchone()[0])
    focus = {}
    for name, uid in users.items():
        session = conn.execute("INSERT INTO coach.sessions (user_id, title, focus) VALUES (%s, 't', %s) RETURNING id",
                               (uid, "Calculus" if name != "ny" else "History")).fetchone()[0]
        focus[name] = session
        plan = conn.execute("INSERT INTO coach.plans (user_id, title) VALUES (%s, 'p') RETURNING id", (uid,)).fetchone()[0]
        for k, (status, day, hour) in enumerate((("done", 2, 10), ("done", 5, 2), ("todo", None, None), ("done", 9, 23), ("skipped", 3, 1))):
            done_at = datetime(2025, 3, day, hour, tzinfo=timezone.utc) if day else None
            conn.execute("INSERT INTO coach.tasks (plan_id, summary, status, completed_at) VALUES (%s, %s, %s, %s)",
                         (plan, f"t{k}", status, done_at))
    # active days (UTC timestamps; the NY learner's early-morning sessions fall on the previous local day)
    pattern = {"utc": [1, 2, 3, 5, 6, 7, 8, 11, 12], "ny": [1, 2, 3, 4, 8, 9, 10], "bad": [2, 3, 4, 6, 7, 12], "gone": [1, 2, 3]}
    for name, days in pattern.items():
        for d in days:
            for hour, minutes in ((3, 20), (14, 35)):
                conn.execute("INSERT INTO coach.study_sessions (user_id, session_id, minutes, recorded_at) VALUES (%s, %s, %s, %s)",
                             (users[name], focus[name], minutes if d != 7 else 0, datetime(2025, 3, d, hour, tzinfo=timezone.utc)))
    return users


def _pandas_progress(dbs) -> "pd.DataFrame":
    """Independent computation of the progress snapshots with pandas, from the source tables."""
    import pandas as pd

    with psycopg.connect(dbs.source_url) as src:
        users = pd.DataFrame(src.execute("SELECT id::text, timezone, created_at, deleted_at FROM coach.users").fetchall(),
                             columns=["user_id", "tz", "created_at", "deleted_at"])
        sessions = pd.DataFrame(src.execute("SELECT user_id::text, minutes, recorded_at FROM coach.study_sessions").fetchall(),
                                columns=["user_id", "minutes", "recorded_at"])
        tasks = pd.DataFrame(src.execute("SELECT p.user_id::text, t.status, t.completed_at FROM coach.tasks t JOIN coach.plans p "
                                         "ON p.id = t.plan_id").fetchall(), columns=["user_id", "status", "completed_at"])
    import zoneinfo

    def zone(name):
        try:
            return zoneinfo.ZoneInfo(name)
        except Exception:
            return zoneinfo.ZoneInfo("UTC")

    users = users[users.deleted_at.isna()]
    out = []
    for _, u in users.iterrows():
        tz = zone(u.tz)
        mine = sessions[sessions.user_id == u.user_id].copy()
        mine["day"] = mine.recorded_at.apply(lambda t: t.astimezone(tz).date())
        per_day = mine.groupby("day").minutes.sum()
        active = set(per_day[per_day > 0].index)
        done = tasks[(tasks.user_id == u.user_id) & (tasks.status == "done") & tasks.completed_at.notna()]
        done_days = done.completed_at.apply(lambda t: t.astimezone(tz).date())
        created = u.created_at.astimezone(tz).date()
        for offset in range(COACH_DAYS):
            day = COACH_START + timedelta(days=offset)
            if created > day:
                continue
            streak, d = 0, day
            while d in active:
                streak, d = streak + 1, d - timedelta(days=1)
            out.append({"user_id": u.user_id, "snapshot_date": day, "streak_days": streak,
                        "completed_tasks": int((done_days <= day).sum()), "study_minutes": int(per_day.get(day, 0))})
    return pd.DataFrame(out).sort_values(["user_id", "snapshot_date"]).reset_index(drop=True)


def test_progress_snapshots_match_pandas_and_drop_deleted_learners(databases):
    import pandas as pd

    with psycopg.connect(databases.source_url) as src:
        users = _coach_fixture(src)
    mirror(databases, COACH)
    from assets.persona.definitions import defs

    # one partition through Dagster, the rest through the same function the asset calls
    result = dg.materialize([defs.get_assets_def(["persona", "progress_snapshots"])], partition_key=COACH_START.isoformat(),
                            resources={"warehouse": WarehouseDatabase()})
    assert result.success
    with psycopg.connect(databases.warehouse_url) as wh:
        for offset in range(1, COACH_DAYS):
            refresh_progress_snapshot(wh, COACH_START + timedelta(days=offset))
        wh.commit()
        got = pd.DataFrame(wh.execute("SELECT user_id::text, snapshot_date, streak_days, completed_tasks, study_minutes "
                                      "FROM persona.progress_snapshots ORDER BY 1, 2").fetchall(),
                           columns=["user_id", "snapshot_date", "streak_days", "completed_tasks", "study_minutes"])
    expected = _pandas_progress(databases)
    assert users["gone"] not in set(got.user_id)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got.streak_days.max() >= 3 and got.completed_tasks.max() == 3  # the fixture exercises streaks and tasks

    with psycopg.connect(databases.source_url) as src:
        src.execute("UPDATE coach.users SET deleted_at = now() WHERE id = %s", (users["ny"],))
    mirror(databases, COACH)
    with psycopg.connect(databases.warehouse_url) as wh:
        stats = refresh_progress_snapshot(wh, COACH_START + timedelta(days=3))
        assert stats["rows_of_deleted_learners_removed"] == COACH_DAYS - 1  # every day's row of that learner, not just one
        assert wh.execute("SELECT count(*) FROM persona.progress_snapshots WHERE user_id = %s", (users["ny"],)).fetchone()[0] == 0


def test_persona_snapshots_preferences_and_soft_delete(databases):
    with psycopg.connect(databases.source_url) as src:
        users = _coach_fixture(src)
    mirror(databases, COACH)
    with psycopg.connect(databases.warehouse_url) as wh:
        stats = refresh_persona_snapshots(wh, datetime(2025, 3, 13, tzinfo=timezone.utc))
        rows = {str(u): (t, p) for u, t, p in wh.execute("SELECT user_id, traits, preferences FROM persona.persona_snapshots").fetchall()}
    assert stats["learners"] == 3 and users["gone"] not in rows
    # UTC learner: 03:00 (night) 20 min vs 14:00 (afternoon) 35 min -> afternoon; NY: 22:00 / 10:00 local -> morning
    assert rows[users["utc"]][1]["preferred_study_time"] == "afternoon"
    assert rows[users["ny"]][1]["preferred_study_time"] == "morning"
    assert rows[users["ny"]][1]["focus_areas"] == ["history"]
    assert rows[users["utc"]][0]["completion_rate"] == pytest.approx(3 / 4)


def test_definitions_snapshot():
    from assets.persona.definitions import defs as persona_defs
    from assets.resources import default_resources

    defs = dg.Definitions.merge(persona_defs, dg.Definitions(resources=default_resources()))
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys() if k.path[0] == "persona"}
    assert keys == {"persona/trait_matrix", "persona/knowledge_entries", "persona/knowledge_warm_layer", "persona/graph_metadata",
                    "persona/progress_snapshots", "persona/persona_snapshots", "persona/related_stories",
                    "persona/story_plugin_metadata"}
    assert all(graph.get(dg.AssetKey.from_user_string(k)).group_name == "persona" for k in keys)
    blocking = {c.name for c in graph.asset_check_keys if graph.get_check_spec(c).blocking}
    assert {"trait_confidence_in_unit_interval", "trait_lineage_eligible", "one_active_mindscape_per_person",
            "warm_layer_vector_dimensions", "related_edges_within_legacy"} <= blocking
    assert {s.name for s in defs.schedules} == {"persona_progress_snapshots_daily_schedule", "persona_snapshots_nightly_schedule"}
    # the persona stores read the dbt models (rule 4 once, in eligibility), never the raw copies
    parents = {k: sorted(p.to_user_string() for p in graph.get(dg.AssetKey.from_user_string(k)).parent_keys)
               for k in keys}
    assert parents["persona/trait_matrix"] == ["eligibility/eligible_personakit_observations"]
    assert parents["persona/related_stories"] == ["eligibility/eligible_mosaic_stories", "vectors/mosaic_stories"]
    assert not [p for ps in parents.values() for p in ps if p.startswith("raw_")]
