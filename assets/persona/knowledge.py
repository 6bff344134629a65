"""The knowledge store: hot layer persona.knowledge_entries, warm layer view over the embeddings area.

Hot layer (the seed's KnowledgeEntry, keyed mindscape:key). Facts per person with a mindscape:
| key               | data_type | category       | volatility | ttl      | from |
|-------------------|-----------|----------------|------------|----------|------|
| personality_type  | string    | personality    | low        | none     | MBTI assessments (categorical combination) |
| known_entities    | json      | relationships  | low        | none     | top 10 entities named in observations |
| observation_mix   | json      | provenance     | low        | none     | eligible observations per source type |
| preferred_channel | string    | communication  | low        | 90 days  | most frequent sourceMetadata.source of non-assessments |
| last_observed_at  | date      | activity       | high       | 30 days  | the latest observation |
| recent_topics     | json      | context        | high       | 7 days   | top keywords of text observed in the 14 days before as-of |
TTL: expires_at = the newest contributing observation's time + ttl. Every run deletes entries with
expires_at <= as-of, and never writes an entry that is already expired. An entry whose value, lineage
or confidence changes gets version + 1 and a new updated_at; an unchanged one keeps both.

Warm layer: the embeddings area's vectors.personakit_observations is referenced, not copied: the view
persona.knowledge_warm_layer shows its active-model rows of eligible observations in the seed's
VectorDocument terms (mindscape, embedding model, dimensions).
"""


import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import dagster as dg
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from assets.persona import store
from assets.persona.config import PersonaRunConfig
from assets.persona.evidence.assessments import assessment_evidence
from assets.persona.evidence.model import Observation
from assets.mood.keywords import keywords
from assets.persona.graph import entity_name
from assets.persona.scoring import combine_categorical, noisy_or
from core.db import table_exists
from assets.resources import WarehouseDatabase

AREA = "knowledge"
DAY = 86400
RECENT_WINDOW = timedelta(days=14)
TTL = {"preferred_channel": 90 * DAY, "last_observed_at": 30 * DAY, "recent_topics": 7 * DAY}
RECENT_TOPIC_WEIGHT = 0.3


@dataclass(frozen=True)
class KnowledgeFact:
    key: str
    value: Any
    data_type: str
    category: str
    volatility: str
    derived_from: tuple[str, ...]
    confidence: float
    ttl: int | None
    evidence_at: datetime

    @property
    def expires_at(self) -> datetime | None:
        return self.evidence_at + timedelta(seconds=self.ttl) if self.ttl else None


def _fact(key, value, data_type, category, volatility, obs: list[Observation], confidence) -> KnowledgeFact:
    return KnowledgeFact(key, value, data_type, category, volatility, tuple(sorted({o.observation_id for o in obs})),
                         round(min(1.0, max(0.0, confidence)), 4), TTL.get(key), max(o.observed_at for o in obs))


def build_knowledge(observations: list[Observation], as_of: datetime) -> list[KnowledgeFact]:
    """The hot-layer facts of one person, without those already expired at as_of."""
    facts: list[KnowledgeFact] = []
    if not observations:
        return facts
    mbti = [(e, o) for o in observations for e in assessment_evidence(o) if e.trait == "mbti_type"]
    if mbti:
        value, confidence, _ = combine_categorical([(e.value, e.weight, e.observed_at) for e, _ in mbti])
        facts.append(_fact("personality_type", value, "string", "personality", "low", [o for _, o in mbti], confidence))
    mentions: Counter[str] = Counter()
    with_entities = []
    for o in observations:
        structured = o.content_structured if isinstance(o.content_structured, dict) else {}
        names = {entity_name(e) for e in structured.get("entities") or []} - {None}
        if names:
            with_entities.append(o)
            mentions.update(names)
    if with_entities:
        top = [n for n, _ in sorted(mentions.items(), key=lambda kv: (-kv[1], kv[0]))[:10]]
        facts.append(_fact("known_entities", top, "json", "relationships", "low", with_entities, 1.0))
    mix = Counter(o.source_type for o in observations)
    facts.append(_fact("observation_mix", dict(sorted(mix.items())), "json", "provenance", "low", observations, 1.0))
    channels = [o for o in observations if o.source_type != "assessment" and isinstance((o.source_metadata or {}).get("source"), str)]
    if channels:
        counts = Counter(o.source_metadata["source"] for o in channels)
        best = min(counts, key=lambda c: (-counts[c], c))
        facts.append(_fact("preferred_channel", best, "string", "communication", "low", channels, counts[best] / len(channels)))
    latest = max(observations, key=lambda o: (o.observed_at, o.observation_id))
    facts.append(_fact("last_observed_at", latest.observed_at.date().isoformat(), "date", "activity", "high", [latest], 1.0))
    recent = [o for o in observations if o.source_type != "assessment" and as_of - RECENT_WINDOW <= o.observed_at <= as_of]
    topics = keywords(" ".join(o.content_raw for o in recent), k=5) if recent else []
    if topics:
        facts.append(_fact("recent_topics", [t for t, _ in topics], "json", "context", "high", recent,
                           noisy_or([RECENT_TOPIC_WEIGHT] * len(recent))))
    return [f for f in facts if f.expires_at is None or f.expires_at > as_of]


COLUMNS = ("mindscape_id", "person_id", "key", "value", "data_type", "category", "volatility", "derived_from",
           "confidence", "ttl", "expires_at")
TYPES = ["text", "text", "text", "jsonb", "text", "text", "text", "text[]", "float8", "int4", "timestamptz"]


def refresh_knowledge(conn: psycopg.Connection, as_of: datetime, *, full: bool = False) -> dict:
    started = time.perf_counter()
    store.ensure_schema(conn)
    expired = conn.execute("DELETE FROM persona.knowledge_entries WHERE expires_at <= %s", (as_of,)).rowcount
    fingerprints = store.person_fingerprints(conn)
    mindscapes = store.mindscapes_by_person(conn, list(fingerprints))
    current = {p: f"{fp}|{mindscapes.get(p, '-')}" for p, (fp, _) in fingerprints.items()}
    plan = store.plan_refresh(current, store.load_state(conn, AREA), as_of, None, full)
    gone = plan.removed if not full else None
    if full:
        conn.execute("DELETE FROM persona.knowledge_entries WHERE NOT (person_id = ANY(%s::uuid[]))", (list(current),))
    elif gone:
        conn.execute("DELETE FROM persona.knowledge_entries WHERE person_id = ANY(%s::uuid[])", (gone,))
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS knowledge_incoming (LIKE persona.knowledge_entries INCLUDING DEFAULTS) ON COMMIT DROP")
    upserted = 0
    for batch in store.batches(plan.changed):
        observations = store.read_observations(conn, batch)
        conn.execute("TRUNCATE knowledge_incoming")
        rows = []
        for person_id in batch:
            mindscape = mindscapes.get(person_id)
            if mindscape is None:
                continue
            rows.extend((mindscape, person_id, f.key, Jsonb(f.value), f.data_type, f.category, f.volatility,
                         list(f.derived_from), f.confidence, f.ttl, f.expires_at)
                        for f in build_knowledge(observations[person_id], as_of))
        _copy_incoming(conn, rows)
        conn.execute(
            "DELETE FROM persona.knowledge_entries k WHERE k.person_id = ANY(%s::uuid[]) AND NOT EXISTS "
            "(SELECT 1 FROM knowledge_incoming i WHERE i.mindscape_id = k.mindscape_id AND i.key = k.key)", (batch,))
        upserted += conn.execute(sql.SQL(store.sql_file("knowledge_upsert.sql")), {"as_of": as_of}).rowcount
    store.save_state(conn, AREA, plan, as_of, None, full)
    total = conn.execute("SELECT count(*), count(DISTINCT mindscape_id) FROM persona.knowledge_entries").fetchone()
    return {"persons_recomputed": len(plan.changed), "persons_unchanged": plan.unchanged,
            "persons_removed": len(plan.removed), "entries_expired_removed": expired,
            "entries_upserted_changed": upserted, "entries_total": total[0], "mindscapes": total[1],
            "as_of": as_of.isoformat(), "seconds": round(time.perf_counter() - started, 3)}


def _copy_incoming(conn: psycopg.Connection, rows: list[tuple]) -> None:
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS)
    with conn.cursor().copy(sql.SQL("COPY knowledge_incoming ({}) FROM STDIN").format(columns)) as copy:
        copy.set_types(TYPES)
        for row in rows:
            copy.write_row(row)


def ensure_warm_layer_view(conn: psycopg.Connection) -> bool:
    """Create persona.knowledge_warm_layer when the embeddings area's tables exist; False otherwise."""
    needed = [("vectors", "personakit_observations"), ("vectors", "active_models")]
    if not (all(table_exists(conn, s, t) for s, t in needed)
            and all(store.relation_exists(conn, r) for r in (store.OBSERVATIONS, store.MINDSCAPES))):
        return False
    conn.execute(sql.SQL(store.sql_file("knowledge_warm_layer.sql")).format(eligible=store.eligible_observations_sql()))
    return True


@dg.asset(
    key=["persona", "knowledge_entries"], group_name="persona", kinds={"postgres", "python"},
    deps=[*store.OBSERVATION_DEPS, *store.MINDSCAPE_DEPS],
    description="PersonaKit knowledge store hot layer (KnowledgeEntry per mindscape:key) with TTL honoured each run.",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=10),
    automation_condition=dg.AutomationCondition.eager().resolve_through_virtual() | dg.AutomationCondition.on_cron("0 * * * *"),
)
def knowledge_entries(context: dg.AssetExecutionContext, config: PersonaRunConfig,
                      warehouse: WarehouseDatabase) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        stats = refresh_knowledge(conn, config.as_of_time(), full=config.full_refresh)
    return dg.MaterializeResult(metadata={**stats, "dagster/row_count": stats["entries_total"]})


@dg.asset(
    key=["persona", "knowledge_warm_layer"], group_name="persona", kinds={"postgres"},
    deps=[dg.AssetKey(["vectors", "personakit_observations"]), *store.OBSERVATION_DEPS, *store.MINDSCAPE_DEPS],
    description="View over vectors.personakit_observations (the warm layer, owned by the embeddings area): "
                "active-model vectors of eligible observations, with mindscape, model and dimensions.",
    # Plain eager, not through the virtual dbt views: a dbt rebuild of a view this one reads drops it
    # (dbt swaps views and drops the old one with CASCADE), and that rebuild is what re-creates it.
    automation_condition=dg.AutomationCondition.eager(),
)
def knowledge_warm_layer(context: dg.AssetExecutionContext, warehouse: WarehouseDatabase) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        store.ensure_schema(conn)
        if not ensure_warm_layer_view(conn):
            return dg.MaterializeResult(metadata={"created": False, "reason": "vectors.* or the persona inputs' dbt views not present yet"})
        count, mindscapes = conn.execute(
            "SELECT count(*), count(DISTINCT mindscape_id) FROM persona.knowledge_warm_layer").fetchone()
    return dg.MaterializeResult(metadata={"created": True, "dagster/row_count": count, "mindscapes": mindscapes})
