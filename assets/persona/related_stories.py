"""persona.related_stories: Mosaic's (:Story)-[:RELATED_TO {similarity_score}]->(:Story) edges.

A story's vector is the normalised mean of its chunk embeddings under the source's active model
(vectors.mosaic_stories + vectors.active_models), skipping quarantined stories. Within each legacy
(never across: candidates are only the legacy's own stories), every story gets edges to at most
`top_k` other stories whose cosine similarity is >= `min_similarity` (defaults 5 and 0.5: at 0.5
all-MiniLM-L6-v2 pairs share a topic, below it they mostly share only the genre). Edges are directed
(top-k of the source story), ranked 1..k. Legacies whose fingerprint (stories, chunk hashes, model,
k, threshold) changed are recomputed; legacies without vectors lose their edges.

Access (rule 3): the edges are a derived store, not a query; whoever returns related stories to a
user must still pass them through mosaic.user_can_access_story.
"""


import hashlib
import time
from datetime import datetime

import dagster as dg
import psycopg
from psycopg import sql

from assets.persona import store
from core.db import table_exists
from assets.resources import WarehouseDatabase

AREA = "related_stories"
DEFAULT_TOP_K = 5
DEFAULT_MIN_SIMILARITY = 0.5


class RelatedStoriesConfig(dg.Config):
    top_k: int = DEFAULT_TOP_K
    min_similarity: float = DEFAULT_MIN_SIMILARITY
    full_refresh: bool = False


def top_k_related(story_ids: list[str], vectors, k: int = DEFAULT_TOP_K,
                  min_similarity: float = DEFAULT_MIN_SIMILARITY) -> list[tuple[str, str, float, int]]:
    """(story, related story, cosine similarity, rank) for one legacy's stories; pure numpy."""
    import numpy as np

    matrix = np.asarray(vectors, dtype=np.float64)
    if len(story_ids) < 2 or k <= 0:
        return []
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit = matrix / np.where(norms == 0, 1.0, norms)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    edges = []
    for i, source in enumerate(story_ids):
        order = sorted(range(len(story_ids)), key=lambda j: (-sims[i, j], story_ids[j]))
        rank = 0
        for j in order[:k]:
            score = float(sims[i, j])
            if score < min_similarity:
                break
            rank += 1
            edges.append((source, story_ids[j], round(min(1.0, score), 6), rank))
    return edges


def refresh_related_stories(conn: psycopg.Connection, as_of: datetime, *, top_k: int = DEFAULT_TOP_K,
                            min_similarity: float = DEFAULT_MIN_SIMILARITY, full: bool = False) -> dict:
    started = time.perf_counter()
    store.ensure_schema(conn)
    needed = [("vectors", "mosaic_stories"), ("vectors", "active_models")]
    if not (all(table_exists(conn, s, t) for s, t in needed) and store.relation_exists(conn, store.STORIES)):
        return {"skipped": f"vectors.mosaic_stories, vectors.active_models or {store.STORIES} absent"}
    params = f"k={top_k};min={min_similarity}"
    rows = conn.execute(sql.SQL(store.sql_file("story_fingerprints.sql"))).fetchall()
    current = {legacy: hashlib.md5(f"{fp}|{params}".encode()).hexdigest() for legacy, fp in rows}
    plan = store.plan_refresh(current, store.load_state(conn, AREA), as_of, None, full)
    if full:
        conn.execute("TRUNCATE persona.related_stories")
    stale = plan.removed + plan.changed
    if stale and not full:
        conn.execute("DELETE FROM persona.related_stories WHERE legacy_id = ANY(%s::uuid[])", (stale,))
    written = 0
    for batch in store.batches(plan.changed, 200):
        grouped: dict[str, tuple[list, list, set]] = {}
        query = sql.SQL(store.sql_file("story_vectors.sql"))
        for legacy, story, model, vector in conn.execute(query, {"legacies": batch}).fetchall():
            ids, vecs, models = grouped.setdefault(legacy, ([], [], set()))
            ids.append(story)
            vecs.append(vector)
            models.add(model)
        out = []
        for legacy, (ids, vecs, models) in grouped.items():
            model_id = sorted(models)[0]
            out.extend((s, r, legacy, score, rank, model_id, as_of) for s, r, score, rank in
                       top_k_related(ids, vecs, top_k, min_similarity))
        written += store.copy_rows(conn, "related_stories",
                                   ("story_id", "related_story_id", "legacy_id", "similarity_score", "rank", "model_id", "computed_at"),
                                   ["text", "text", "text", "float8", "int4", "text", "timestamptz"], out)
    store.save_state(conn, AREA, plan, as_of, None, full)
    total = conn.execute("SELECT count(*), count(DISTINCT legacy_id) FROM persona.related_stories").fetchone()
    return {"legacies": plan.total, "legacies_recomputed": len(plan.changed), "legacies_unchanged": plan.unchanged,
            "legacies_removed": len(plan.removed), "edges_written": written, "edges_total": total[0],
            "legacies_with_edges": total[1], "top_k": top_k, "min_similarity": min_similarity,
            "seconds": round(time.perf_counter() - started, 3)}


@dg.asset(
    key=["persona", "related_stories"], group_name="persona", kinds={"postgres", "numpy"},
    deps=[dg.AssetKey(["vectors", "mosaic_stories"]), *store.STORY_DEPS],
    description="RELATED_TO {similarity_score} edges: top-k most similar stories of the same legacy above a threshold.",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=10),
    automation_condition=dg.AutomationCondition.eager().resolve_through_virtual(),
)
def related_stories(context: dg.AssetExecutionContext, config: RelatedStoriesConfig,
                    warehouse: WarehouseDatabase) -> dg.MaterializeResult:
    from assets.persona.config import parse_as_of

    with warehouse.connect() as conn:
        stats = refresh_related_stories(conn, parse_as_of(None), top_k=config.top_k,
                                        min_similarity=config.min_similarity, full=config.full_refresh)
    return dg.MaterializeResult(metadata={**stats, "dagster/row_count": stats.get("edges_total", 0)})
