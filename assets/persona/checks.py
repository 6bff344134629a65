"""PersonaKit section 6 validation rules (and the persona outputs' own invariants) as asset checks.

Blocking (bad rows would poison what reads them): confidence in [0, 1], lineage only to existing
approved/processed observations of the same live person, one active mindscape per person, vector
dimensions as declared, related-story edges within one legacy. Non-blocking: UUID v4 format (a
well-formed non-v4 id harms nobody downstream), graph metric ranges, orphaned plugin metadata,
progress values.
"""


import dagster as dg
import psycopg
from psycopg import sql

from assets.persona import store
from core.db import table_exists
from assets.resources import WarehouseDatabase

# Staging views (every row, flagged) the checks compare the persona stores against.
PERSONS = "staging.stg_personakit__persons"
ALL_STORIES = "staging.stg_mosaic__stories"
COACH_USERS = "staging.stg_coach__users"
UUID_V4 = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"


def _result(violations: int, **metadata) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=violations == 0, metadata={"violations": violations, **metadata})


def _table(table: str) -> sql.Composed:
    return sql.SQL("persona.{}").format(sql.Identifier(table))


def count_confidence_out_of_range(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE confidence IS NULL OR NOT (confidence BETWEEN 0 AND 1)")
                        .format(_table(table))).fetchone()[0]


def count_ineligible_lineage(conn: psycopg.Connection, table: str) -> int:
    """Rows citing an observation that is missing, not approved/processed, quarantined, or another person's."""
    query = sql.SQL(
        "WITH eligible AS ({}) SELECT count(*) FROM {} t, unnest(t.derived_from) AS d(observation_id) "
        "WHERE NOT EXISTS (SELECT 1 FROM eligible e WHERE e.observation_id = d.observation_id AND e.person_id = t.person_id)"
    ).format(store.eligible_observations_sql(), _table(table))
    return conn.execute(query).fetchone()[0]


def count_non_v4(conn: psycopg.Connection, table: str, id_columns: tuple[str, ...]) -> int:
    parts = [sql.SQL("SELECT count(*) FROM {} t, unnest(t.derived_from) d(id) WHERE d.id::text !~ %(re)s").format(_table(table))]
    parts += [sql.SQL("SELECT count(*) FROM {} WHERE {} IS NULL OR {}::text !~ %(re)s").format(
        _table(table), sql.Identifier(c), sql.Identifier(c)) for c in id_columns]
    return sum(conn.execute(p, {"re": UUID_V4}).fetchone()[0] for p in parts)


def count_multiple_mindscapes(conn: psycopg.Connection) -> int:
    if not (store.relation_exists(conn, store.MINDSCAPES) and store.relation_exists(conn, PERSONS)):
        return 0
    return conn.execute(
        "SELECT count(*) FROM (SELECT m.person_id FROM staging.stg_personakit__mindscapes m "
        "JOIN staging.stg_personakit__persons p ON p.person_id = m.person_id AND NOT p.is_deleted "
        "GROUP BY m.person_id HAVING count(*) > 1) x").fetchone()[0]


def count_dimension_mismatches(conn: psycopg.Connection) -> tuple[int, int]:
    """(vectors whose dimension differs from their active model's declared one, vectors checked)."""
    if not (table_exists(conn, "vectors", "personakit_observations") and table_exists(conn, "vectors", "active_models")):
        return 0, 0
    return conn.execute(
        "SELECT count(*) FILTER (WHERE vector_dims(v.embedding) <> a.dimension), count(*) "
        "FROM vectors.personakit_observations v JOIN vectors.active_models a ON a.model_id = v.model_id "
        "AND replace(a.source, '.', '_') IN ('personakit_observations', 'personakit')").fetchone()


def count_cross_legacy_edges(conn: psycopg.Connection) -> int:
    return conn.execute(
        "SELECT count(*) FROM persona.related_stories r "
        "LEFT JOIN staging.stg_mosaic__stories a ON a.id = r.story_id "
        "LEFT JOIN staging.stg_mosaic__stories b ON b.id = r.related_story_id "
        "WHERE a.legacy_id IS DISTINCT FROM r.legacy_id OR b.legacy_id IS DISTINCT FROM r.legacy_id").fetchone()[0]


TRAITS = dg.AssetKey(["persona", "trait_matrix"])
KNOWLEDGE = dg.AssetKey(["persona", "knowledge_entries"])
WARM = dg.AssetKey(["persona", "knowledge_warm_layer"])
GRAPH = dg.AssetKey(["persona", "graph_metadata"])
RELATED = dg.AssetKey(["persona", "related_stories"])
PLUGIN = dg.AssetKey(["persona", "story_plugin_metadata"])
PROGRESS = dg.AssetKey(["persona", "progress_snapshots"])
SNAPSHOTS = dg.AssetKey(["persona", "persona_snapshots"])


@dg.asset_check(asset=TRAITS, blocking=True, description="Section 6.1: every trait confidence is in [0, 1].")
def trait_confidence_in_unit_interval(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        store.ensure_schema(conn)
        return _result(count_confidence_out_of_range(conn, "trait_matrix"))


@dg.asset_check(asset=TRAITS, blocking=True,
                description="Rule 4: every derived_from id exists and is an approved/processed observation of that live person.")
def trait_lineage_eligible(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        store.ensure_schema(conn)
        return _result(count_ineligible_lineage(conn, "trait_matrix"))


@dg.asset_check(asset=TRAITS, description="Section 6.1: person and observation ids are valid UUID v4.")
def trait_ids_valid_uuid(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        store.ensure_schema(conn)
        return _result(count_non_v4(conn, "trait_matrix", ("person_id",)))


@dg.asset_check(asset=KNOWLEDGE, blocking=True, description="Section 6.1: every knowledge confidence is in [0, 1].")
def knowledge_confidence_in_unit_interval(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        store.ensure_schema(conn)
        return _result(count_confidence_out_of_range(conn, "knowledge_entries"))


@dg.asset_check(asset=KNOWLEDGE, blocking=True, description="Rule 4 lineage for knowledge entries.")
def knowledge_lineage_eligible(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        store.ensure_schema(conn)
        return _result(count_ineligible_lineage(conn, "knowledge_entries"))


@dg.asset_check(asset=KNOWLEDGE, blocking=True, description="Section 6.2: a person has only one active mindscape.")
def one_active_mindscape_per_person(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        return _result(count_multiple_mindscapes(conn))


@dg.asset_check(asset=KNOWLEDGE, description="Section 6.1: mindscape, person and observation ids are valid UUID v4.")
def knowledge_ids_valid_uuid(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        store.ensure_schema(conn)
        return _result(count_non_v4(conn, "knowledge_entries", ("entry_id", "mindscape_id", "person_id")))


@dg.asset_check(asset=KNOWLEDGE, description="TTL honoured: no entry past its expires_at at the last run's as-of time.")
def knowledge_no_expired_entries(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        store.ensure_schema(conn)
        # against the as-of time of the last knowledge run (the time the TTL sweep honoured)
        return _result(conn.execute(
            "SELECT count(*) FROM persona.knowledge_entries WHERE expires_at <= coalesce("
            "(SELECT max(as_of) FROM persona.refresh_state WHERE area = 'knowledge'), now())").fetchone()[0])


@dg.asset_check(asset=WARM, blocking=True,
                description="Section 6.1: vectors.personakit_observations dimensions equal vectors.active_models.dimension.")
def warm_layer_vector_dimensions(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        bad, checked = count_dimension_mismatches(conn)
        return _result(bad, vectors_checked=checked)


@dg.asset_check(asset=GRAPH, description="Graph metrics in range: density and cohesion in [0, 1], communities within the node count.")
def graph_metrics_in_range(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        store.ensure_schema(conn)
        bad = conn.execute(
            "SELECT count(*) FROM persona.graph_metadata g WHERE NOT (graph_density BETWEEN 0 AND 1) "
            "OR total_edges > total_nodes * (total_nodes - 1) / 2 OR EXISTS (SELECT 1 FROM jsonb_array_elements(g.communities) c "
            "WHERE NOT ((c->>'cohesionScore')::float8 BETWEEN 0 AND 1) OR jsonb_array_length(c->'nodeIds') > g.total_nodes)"
        ).fetchone()[0]
        return _result(bad)


@dg.asset_check(asset=RELATED, blocking=True, description="RELATED_TO edges never cross legacies.")
def related_edges_within_legacy(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        store.ensure_schema(conn)
        if not store.relation_exists(conn, ALL_STORIES):
            return _result(0, note=f"{ALL_STORIES} absent")
        return _result(count_cross_legacy_edges(conn))


@dg.asset_check(asset=PLUGIN, description="Seed monitor: no plugin metadata for a story that no longer exists.")
def plugin_metadata_no_orphans(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        store.ensure_schema(conn)
        if not store.relation_exists(conn, ALL_STORIES):
            return _result(0, note=f"{ALL_STORIES} absent")
        return _result(conn.execute(
            "SELECT count(*) FROM persona.story_plugin_metadata m WHERE NOT EXISTS "
            "(SELECT 1 FROM staging.stg_mosaic__stories s WHERE s.id = m.story_id)").fetchone()[0])


@dg.asset_check(asset=SNAPSHOTS, blocking=True, description="Soft-deleted learners have no persona snapshot.")
def persona_snapshots_live_learners_only(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        store.ensure_schema(conn)
        if not store.relation_exists(conn, COACH_USERS):
            return _result(0, note=f"{COACH_USERS} absent")
        return _result(conn.execute(
            "SELECT count(*) FROM persona.persona_snapshots s WHERE NOT EXISTS "
            "(SELECT 1 FROM staging.stg_coach__users u WHERE u.id = s.user_id AND NOT u.is_deleted)").fetchone()[0])


CHECKS = [
    trait_confidence_in_unit_interval, trait_lineage_eligible, trait_ids_valid_uuid,
    knowledge_confidence_in_unit_interval, knowledge_lineage_eligible, one_active_mindscape_per_person,
    knowledge_ids_valid_uuid, knowledge_no_expired_entries, warm_layer_vector_dimensions, graph_metrics_in_range,
    related_edges_within_legacy, plugin_metadata_no_orphans, persona_snapshots_live_learners_only,
]
