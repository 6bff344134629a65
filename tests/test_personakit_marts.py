"""PersonaKit derived stores (issue 20): the assembled mindscape, persona cache status and expiry,
mapper effectiveness, outbox and sync queue health, and the section 6.2 rule findings, each compared
with an independent pandas computation from the raw tables on the seeded dataset."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import psycopg
import pytest

import test_dbt_reference as ref

MARTS = ("persona_cache_status", "mapper_effectiveness", "personakit_queue_health", "personakit_rule_findings",
         "personakit_mindscapes", "personakit_device_sync")
RATINGS = ("overall", "accuracy", "completeness", "relevance", "usability")
TABLES = ["personakit.persons", "personakit.mindscapes", "personakit.goals", "personakit.beliefs",
          "personakit.personas", "personakit.feedback", "personakit.persona_mappers", "personakit.outbox_tasks",
          "personakit.sync_queue", "personakit.sync_state"]


def _dbt_build(url: str, *models: str):
    from assets.dbt.project import run_dbt

    selection = " ".join(f"+{m}" for m in models)
    result = run_dbt(["build", "--select", selection], url=url)
    assert result.returncode == 0, result.stdout[-8000:]
    return result


def _frame(conn, query: str, params=None) -> pd.DataFrame:
    cur = conn.execute(query, params)
    return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description], dtype=object)


def _json(value):
    return json.loads(value) if isinstance(value, str) else (value or {})


def _int(value):
    return int(value) if isinstance(value, int) or (isinstance(value, str) and value.lstrip("-").isdigit()) else None


def _ts(value):
    try:
        return pd.Timestamp(value).tz_convert("UTC") if value else None
    except (ValueError, TypeError):
        return None


@pytest.fixture
def built(modelled):
    """The seeded warehouse with the persona stores computed (from the dbt views) and the PersonaKit marts built."""
    ingested = modelled
    from conftest import compute_persona_stores

    compute_persona_stores(ingested.warehouse_url)
    _dbt_build(ingested.warehouse_url, *MARTS)
    return ingested


def _live(raw) -> tuple[set, pd.DataFrame]:
    persons = raw["personakit.persons"]
    live = set(persons.loc[persons["deleted_at"].isna(), "person_id"])
    personas = raw["personakit.personas"]
    return live, personas[personas["person_id"].isin(live)]


def expected_cache_status(raw, as_of) -> dict:
    live, personas = _live(raw)
    versions = dict(zip(raw["personakit.mindscapes"]["mindscape_id"], raw["personakit.mindscapes"]["version"]))
    out = {}
    for p in ref._rows(personas):
        ttl = p["ttl_hours"] if p["ttl_hours"] is not None else 24
        core, gen, usage = _json(p["persona_core"]), _json(p["generation_metadata"]), _json(p["usage_metadata"])
        core_version = _int(core.get("coreVersion"))
        current = versions.get(p["source_mindscape_id"])
        reported = (gen.get("cacheStatus") or {}).get("coreIsStale")
        stale = bool(core_version is not None and current is not None and core_version < current) or bool(reported)
        expired = p["expires_at"] <= as_of
        last = _ts(usage.get("lastAccessedAt"))
        out[str(p["persona_instance_id"])] = {
            "ttl_consistent": p["expires_at"] == p["created_at"] + dt.timedelta(hours=ttl),
            "is_expired": expired, "core_is_stale": stale,
            "accessed_after_expiry": bool(last is not None and last > p["expires_at"]),
            "cache_status": "expired" if expired else "stale_core" if stale else "fresh",
            "mindscape_version": current,
        }
    return out


@pytest.mark.slow
def test_persona_cache_status_equals_pandas(shared_warehouse):
    with psycopg.connect(shared_warehouse.warehouse_url) as conn:
        got = _frame(conn, "select * from marts.persona_cache_status")
        raw = ref.load_raw(conn, TABLES)
    assert len(got) > 0
    as_of = got["as_of"].iloc[0]
    want = expected_cache_status(raw, as_of)
    assert set(got["persona_instance_id"].astype(str)) == set(want)
    for row in ref._rows(got):
        w = want[str(row["persona_instance_id"])]
        assert {k: row[k] for k in w} == w, row["persona_instance_id"]
    # the seeded data holds every status a reader must tell apart
    assert {"fresh", "stale_core", "expired"} <= set(got["cache_status"])


@pytest.mark.slow
def test_mapper_effectiveness_equals_pandas(shared_warehouse):
    with psycopg.connect(shared_warehouse.warehouse_url) as conn:
        got = {str(r["mapper_id"]): r for r in ref._rows(_frame(conn, "select * from marts.mapper_effectiveness"))}
        raw = ref.load_raw(conn, TABLES)
    _, personas = _live(raw)
    mapper_of = dict(zip(personas["persona_instance_id"], personas["source_mapper_id"]))
    feedback = raw["personakit.feedback"]
    feedback = feedback[feedback["persona_instance_id"].isin(mapper_of)]
    assert len(feedback) > 0
    per_mapper: dict[str, list[dict]] = {}
    for f in ref._rows(feedback):
        per_mapper.setdefault(str(mapper_of[f["persona_instance_id"]]), []).append(f)
    assert set(got) == {str(m) for m in raw["personakit.persona_mappers"]["mapper_id"]}
    for mapper_id, row in got.items():
        items = per_mapper.get(mapper_id, [])
        assert row["feedback_count"] == len(items)
        assert row["personas_generated"] == sum(1 for m in mapper_of.values() if str(m) == mapper_id)
        if not items:
            assert row["nps"] is None and row["avg_overall"] is None
            continue
        ratings = pd.DataFrame([_json(f["ratings"]) for f in items]).reindex(columns=list(RATINGS))
        for r in RATINGS:
            assert float(row[f"avg_{r}"]) == pytest.approx(ratings[r].astype(float).mean(), abs=5e-4)
        assert float(row["effectiveness_score"]) == pytest.approx(ratings.astype(float).mean(axis=1).mean(), abs=5e-4)
        scores = pd.Series([_json(f["impact"]).get("recommendationScore") for f in items], dtype=float)
        nps = 100 * ((scores >= 9).sum() - (scores <= 6).sum()) / scores.count()
        assert float(row["nps"]) == pytest.approx(nps, abs=0.05)
        assert row["promoters"] + row["passives"] + row["detractors"] == row["nps_responses"] == scores.count()
        again = pd.Series([_json(f["impact"]).get("wouldUseAgain") for f in items], dtype=float)
        assert float(row["would_use_again_rate"]) == pytest.approx(again.mean(), abs=5e-4)
        assert row["invalid_ratings"] == 0


@pytest.mark.slow
def test_invalid_ratings_are_counted_not_averaged(built):
    """A rating of 9 on a 1-5 scale is not averaged in, and is counted."""
    from assets.dbt.project import run_dbt

    with psycopg.connect(built.warehouse_url) as conn:
        fid, pid = conn.execute("select feedback_id, persona_instance_id from raw_personakit.feedback f "
                                "where exists (select 1 from marts.persona_cache_status c "
                                "where c.persona_instance_id = f.persona_instance_id) limit 1").fetchone()
        mapper = conn.execute("select source_mapper_id from raw_personakit.personas where persona_instance_id = %s",
                              (pid,)).fetchone()[0]
        conn.execute("update raw_personakit.feedback set ratings = ratings || '{\"usability\": 9}' where feedback_id = %s",
                     (fid,))
        conn.commit()
    assert run_dbt(["run", "--select", "mapper_effectiveness"], url=built.warehouse_url).returncode == 0
    with psycopg.connect(built.warehouse_url) as conn:
        invalid, top = conn.execute("select invalid_ratings, avg_usability from marts.mapper_effectiveness "
                                    "where mapper_id = %s", (mapper,)).fetchone()
    assert invalid == 1 and (top is None or top <= 5)


@pytest.mark.slow
def test_queue_health_equals_pandas(shared_warehouse):
    with psycopg.connect(shared_warehouse.warehouse_url) as conn:
        got = {(r["queue"], r["kind"]): r for r in ref._rows(_frame(conn, "select * from marts.personakit_queue_health"))}
        raw = ref.load_raw(conn, TABLES)
    as_of = next(iter(got.values()))["as_of"]
    outbox = raw["personakit.outbox_tasks"]
    sync = raw["personakit.sync_queue"].copy()
    meta = sync["sync_metadata"].map(_json)
    sync["attempts"] = meta.map(lambda m: _int(m.get("attemptCount")))
    sync["created_at"] = meta.map(lambda m: _ts(m.get("createdAt")))
    frames = {"outbox": (outbox, "task_type"), "sync_queue": (sync, "operation_type")}
    want = {}
    for queue, (df, kind_col) in frames.items():
        for kind, g in df.groupby(kind_col):
            waiting = g[g["status"].isin(["pending", "in_progress"])]
            oldest = min(waiting["created_at"]) if len(waiting) else None
            want[(queue, kind)] = {
                "total_items": len(g), "pending": int((g["status"] == "pending").sum()),
                "failed": int((g["status"] == "failed").sum()),
                "done": int(g["status"].isin(["done", "completed"]).sum()),
                "retries": int(sum(max(a - 1, 0) for a in g["attempts"] if a is not None)),
                "max_attempts": int(max(a for a in g["attempts"] if a is not None)),
                "oldest_waiting_created_at": oldest,
                "oldest_waiting_age_seconds": round((as_of - oldest).total_seconds()) if oldest is not None else None,
            }
    assert set(got) == set(want)
    for key, w in want.items():
        g = {k: got[key][k] for k in w}
        if g["oldest_waiting_age_seconds"] is not None:
            g["oldest_waiting_age_seconds"] = int(g["oldest_waiting_age_seconds"])
        assert g == w, key
    assert sum(w["failed"] for w in want.values()) > 0 and sum(w["retries"] for w in want.values()) > 0


@pytest.mark.slow
def test_mindscapes_assemble_every_layer(shared_warehouse):
    with psycopg.connect(shared_warehouse.warehouse_url) as conn:
        got = {str(r["person_id"]): r for r in ref._rows(_frame(conn, "select * from marts.personakit_mindscapes"))}
        raw = ref.load_raw(conn, TABLES)
        traits = _frame(conn, "select person_id, trait_name, confidence from persona.trait_matrix")
        facts = _frame(conn, "select person_id, key from persona.knowledge_entries "
                             "where expires_at is null or expires_at > now()")
        graph = _frame(conn, "select person_id, total_nodes from persona.graph_metadata")
    live, _ = _live(raw)
    mindscapes = raw["personakit.mindscapes"]
    mindscapes = mindscapes[mindscapes["person_id"].isin(live)]
    assert set(got) == {str(p) for p in mindscapes["person_id"]} and len(got) > 0
    goals, beliefs = raw["personakit.goals"], raw["personakit.beliefs"]
    for m in ref._rows(mindscapes):
        row = got[str(m["person_id"])]
        narrative, processing = _json(m["narrative"]), _json(m["processing_metadata"])
        assert row["narrative_summary"] == narrative["summary"] and row["key_themes"] == narrative["keyThemes"]
        assert row["total_observations_processed"] == processing["totalObservationsProcessed"]
        assert row["last_processing_duration_ms"] == processing["lastProcessingDuration"]
        mine = goals[goals["mindscape_id"] == m["mindscape_id"]]
        assert sorted(g["goalId"] for g in _json(row["goals"])) == sorted(str(g) for g in mine["goal_id"])
        assert row["goal_count"] == len(mine)
        mine = beliefs[beliefs["mindscape_id"] == m["mindscape_id"]]
        assert sorted(b["beliefId"] for b in _json(row["beliefs"])) == sorted(str(b) for b in mine["belief_id"])
        mine = traits[traits["person_id"] == m["person_id"]]
        assert {t["traitName"]: t["confidence"] for t in _json(row["trait_matrix"])} == \
            dict(zip(mine["trait_name"], mine["confidence"]))
        mine = facts[facts["person_id"] == m["person_id"]]
        assert sorted(f["key"] for f in _json(row["hot_layer"])) == sorted(mine["key"])
        mine = graph[graph["person_id"] == m["person_id"]]
        cold = _json(row["cold_layer"]) if row["cold_layer"] is not None else None
        assert (cold["totalNodes"] if cold else None) == (int(mine["total_nodes"].iloc[0]) if len(mine) else None)
    assert sum(r["trait_count"] for r in got.values()) > 0 and sum(r["hot_layer_count"] for r in got.values()) > 0


@pytest.mark.slow
def test_rule_findings_flag_ttl_and_sync_version_breaks(built):
    """On the seeded data the section 6.2 checks are quiet; planted breaks each show as a finding, and
    the singular tests (asset checks) report them without failing the build."""
    from assets.dbt.project import run_dbt

    with psycopg.connect(built.warehouse_url) as conn:
        assert conn.execute("select count(*) from marts.personakit_rule_findings").fetchone()[0] == 0
        persona, person, mindscape = conn.execute(
            "select persona_instance_id, person_id, mindscape_id from marts.persona_cache_status limit 1").fetchone()
        conn.execute("update raw_personakit.personas set expires_at = created_at + interval '5 days', "
                     "persona_core = persona_core || jsonb_build_object('coreVersion', '999') "
                     "where persona_instance_id = %s", (persona,))
        device = conn.execute("select device_id from raw_personakit.sync_state where person_id = %s limit 1",
                              (person,)).fetchone()[0]
        version = conn.execute("select version from raw_personakit.mindscapes where mindscape_id = %s",
                               (mindscape,)).fetchone()[0]
        cores = [{"personaInstanceId": str(persona), "mindscapeVersion": version + 3, "isStale": False},
                 {"personaInstanceId": str(persona), "mindscapeVersion": version - 1, "isStale": False}]
        conn.execute("update raw_personakit.sync_state set cached_data = jsonb_build_object('mindscapeVersion', %s::int, "
                     "'personaCores', %s::jsonb) where device_id = %s and person_id = %s",
                     (version + 1, json.dumps(cores), device, person))
        conn.commit()
        found = _frame(conn, "select rule, entity_key from marts.personakit_rule_findings")
    assert set(found["rule"]) == {"persona_ttl_mismatch", "persona_core_version_ahead", "sync_core_version_ahead",
                                  "sync_core_stale_unflagged", "sync_mindscape_version_ahead"}
    assert set(found["entity_key"]) == {str(persona), f"{device}|{person}"}
    result = run_dbt(["test", "--select", "personakit_persona_ttl personakit_sync_version_consistency"],
                     url=built.warehouse_url)
    assert result.returncode == 0 and "WARN=2" in result.stdout, result.stdout[-3000:]


@pytest.mark.slow
def test_device_sync_equals_pandas(shared_warehouse):
    with psycopg.connect(shared_warehouse.warehouse_url) as conn:
        got = {(r["device_id"], str(r["person_id"])): r
               for r in ref._rows(_frame(conn, "select * from marts.personakit_device_sync"))}
        raw = ref.load_raw(conn, TABLES)
    live, _ = _live(raw)
    versions = dict(zip(raw["personakit.mindscapes"]["person_id"], raw["personakit.mindscapes"]["version"]))
    queue = raw["personakit.sync_queue"]
    states = raw["personakit.sync_state"]
    states = states[states["person_id"].isin(live)]
    assert set(got) == {(d, str(p)) for d, p in zip(states["device_id"], states["person_id"])} and got
    as_of = next(iter(got.values()))["as_of"]
    for st in ref._rows(states):
        row = got[(st["device_id"], str(st["person_id"]))]
        last, pending, config = _json(st["last_sync"]), _json(st["pending_items"]), _json(st["configuration"])
        cores = _json(st["cached_data"]).get("personaCores") or []
        current = versions.get(st["person_id"])
        mine = queue[queue["device_id"] == st["device_id"]]
        last_at = _ts(last.get("timestamp"))
        interval = config.get("syncInterval")
        want = {
            "last_sync_at": last_at, "last_sync_errors": last.get("errors"),
            "pending_upstream": pending.get("upstream"), "pending_downstream": pending.get("downstream"),
            "cached_cores": len(cores),
            "stale_cached_cores": sum(1 for c in cores if current is not None and c["mindscapeVersion"] < current),
            "queue_pending": int((mine["status"] == "pending").sum()),
            "queue_failed": int((mine["status"] == "failed").sum()),
            "queue_retries": sum(max(_int(_json(m).get("attemptCount")) - 1, 0) for m in mine["sync_metadata"]),
            "overdue": bool(last_at is not None and interval is not None
                            and as_of - last_at > dt.timedelta(minutes=interval)),
        }
        assert {k: row[k] for k in want} == want, st["device_id"]
    assert sum(r["stale_cached_cores"] for r in got.values()) > 0
