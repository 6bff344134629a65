"""persona.trait_matrix: the seed's TraitEntry per person, from eligible observations only (rule 4).

Incremental: persons whose eligible observation set changed (persona.refresh_state, area 'traits')
are recomputed; persons with high-volatility traits are also recomputed once their last computation
is REDECAY_AFTER old, so decayed confidences never lag more than that; persons who no longer qualify
(no eligible observation left, soft-deleted, quarantined) lose their traits.
"""


import time
from datetime import datetime, timedelta

import dagster as dg
import psycopg
from psycopg.types.json import Jsonb

from assets.persona import store
from assets.persona.config import PersonaRunConfig
from assets.persona.scoring import HIGH_VOLATILITY_HALF_LIFE_DAYS, build_traits
from assets.resources import WarehouseDatabase

AREA = "traits"
REDECAY_AFTER = timedelta(days=7)
COLUMNS = ("person_id", "trait_name", "value", "data_type", "volatility", "derived_from", "confidence", "metadata", "updated_at")
TYPES = ["text", "text", "jsonb", "text", "text", "text[]", "float8", "jsonb", "timestamptz"]


def refresh_traits(conn: psycopg.Connection, as_of: datetime, *, full: bool = False,
                   half_life_days: float = HIGH_VOLATILITY_HALF_LIFE_DAYS,
                   redecay_after: timedelta = REDECAY_AFTER) -> dict:
    """Bring persona.trait_matrix up to date in one transaction; returns what it did."""
    started = time.perf_counter()
    store.ensure_schema(conn)
    fingerprints = store.person_fingerprints(conn)
    plan = store.plan_refresh({p: fp for p, (fp, _) in fingerprints.items()}, store.load_state(conn, AREA),
                              as_of, redecay_after, full)
    if full:
        conn.execute("TRUNCATE persona.trait_matrix")
    elif plan.removed:
        conn.execute("DELETE FROM persona.trait_matrix WHERE person_id = ANY(%s::uuid[])", (plan.removed,))
    written, redecay = 0, {}
    for batch in store.batches(plan.changed):
        observations = store.read_observations(conn, batch)
        if not full:
            conn.execute("DELETE FROM persona.trait_matrix WHERE person_id = ANY(%s::uuid[])", (batch,))
        rows = []
        for person_id in batch:
            entries = build_traits(person_id, observations[person_id], as_of, half_life_days)
            redecay[person_id] = any(e.volatility == "high" for e in entries)
            rows.extend((e.person_id, e.trait_name, Jsonb(e.value), e.data_type, e.volatility, list(e.derived_from),
                         e.confidence, Jsonb(e.metadata), as_of) for e in entries)
        written += store.copy_rows(conn, "trait_matrix", COLUMNS, TYPES, rows)
    store.save_state(conn, AREA, plan, as_of, redecay, full)
    total = conn.execute("SELECT count(*), count(DISTINCT person_id) FROM persona.trait_matrix").fetchone()
    return {
        "persons_qualifying": plan.total, "persons_recomputed": len(plan.changed),
        "persons_unchanged": plan.unchanged, "persons_removed": len(plan.removed),
        "trait_rows_written": written, "trait_rows_total": total[0], "persons_with_traits": total[1],
        "full_refresh": full, "as_of": as_of.isoformat(), "seconds": round(time.perf_counter() - started, 3),
    }


@dg.asset(
    key=["persona", "trait_matrix"], group_name="persona", deps=store.OBSERVATION_DEPS, kinds={"postgres", "python"},
    description="PersonaKit TraitEntry per person from approved/processed observations of live persons "
                "(assessments + lexicon evidence, noisy-or confidence, 30-day half-life for high-volatility traits).",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=10),
    automation_condition=dg.AutomationCondition.eager().resolve_through_virtual(),
)
def trait_matrix(context: dg.AssetExecutionContext, config: PersonaRunConfig, warehouse: WarehouseDatabase) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        stats = refresh_traits(conn, config.as_of_time(), full=config.full_refresh)
        preview = conn.execute(
            "SELECT trait_name, count(*), round(avg(confidence)::numeric, 3) FROM persona.trait_matrix "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
    context.log.info("trait matrix: %s", stats)
    table = "| trait | persons | mean confidence |\n|---|---|---|\n" + "\n".join(f"| {t} | {n} | {c} |" for t, n, c in preview)
    return dg.MaterializeResult(metadata={**stats, "dagster/row_count": stats["trait_rows_total"],
                                          "traits": dg.MetadataValue.md(table)})
