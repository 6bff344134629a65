"""persona.story_plugin_metadata: rows in the shape of mosaic.story_plugin_metadata, plugin 'tessera',
metadata types 'sentiment' and 'keywords'.

Sentiment: `assets.mood.scoring.text_valence` of title + content (VADER blended with the bundled MiniLM
model's similarity to described positive / negative prototypes; the same valence the mood score and the
insight themes use). Label positive if score >= 0.2, negative if <= -0.2, else "mixed" when VADER sees
both poles (its positive and negative shares both >= 0.1), else neutral. VADER's shares are kept.
Keywords: the 8 best YAKE key phrases of title + content (assets.mood.keywords), each with its count.
Incremental per story on md5(title, content) and the method versions; deleted or quarantined stories
lose their rows; created_at survives an update.
"""


import time
from datetime import datetime

import dagster as dg
import psycopg
from psycopg.types.json import Jsonb

from assets.persona import store
from assets.persona.config import PersonaRunConfig
from assets.mood import keywords as kw
from assets.mood import scoring, text_model
from assets.resources import WarehouseDatabase

AREA = "story_metadata"
PLUGIN_ID = "tessera"
KEYWORDS_K = 8


METHOD = f"{scoring.METHOD}|{kw.METHOD}"
POSITIVE_AT = 0.2
MIXED_SHARE = 0.1


def sentiment_label(score: float, vader_pos: float, vader_neg: float) -> str:
    """Pure: the label of a story from its valence and VADER's positive / negative shares."""
    if score >= POSITIVE_AT:
        return "positive"
    if score <= -POSITIVE_AT:
        return "negative"
    return "mixed" if vader_pos >= MIXED_SHARE and vader_neg >= MIXED_SHARE else "neutral"


def story_text(title: str | None, content: str | None) -> str:
    return f"{title or ''}\n{content or ''}"


def story_metadata_many(stories: list[tuple[str | None, str | None]]) -> list[dict[str, dict]]:
    """Metadata of many (title, content) pairs, valence in one embedding pass."""
    texts = [story_text(t, c) for t, c in stories]
    readings = scoring.read_texts(texts)
    out = []
    for text, reading in zip(texts, readings):
        shares = text_model.vader().polarity_scores(text) if text.strip() else {"pos": 0.0, "neg": 0.0}
        out.append({
            "sentiment": {"label": sentiment_label(reading.valence, shares["pos"], shares["neg"]),
                          "score": round(reading.valence, 4), "vader_positive": shares["pos"],
                          "vader_negative": shares["neg"], "tokens": len(kw.words(text)), "method": scoring.METHOD},
            "keywords": {"keywords": [{"term": t, "count": c} for t, c in kw.keywords(text, KEYWORDS_K)],
                         "method": kw.METHOD},
        })
    return out


def sentiment(text: str) -> dict:
    return story_metadata_many([(None, text)])[0]["sentiment"]


def story_metadata(title: str, content: str) -> dict[str, dict]:
    return story_metadata_many([(title, content)])[0]


def refresh_story_metadata(conn: psycopg.Connection, as_of: datetime, *, full: bool = False) -> dict:
    started = time.perf_counter()
    store.ensure_schema(conn)
    if not store.relation_exists(conn, store.STORIES):
        return {"skipped": f"{store.STORIES} absent"}
    rows = conn.execute(
        "SELECT s.id::text, md5(coalesce(s.title, '') || E'\\n' || coalesce(s.content, '')) "
        "FROM eligibility.eligible_mosaic_stories s").fetchall()
    current = {sid: f"{h}|{METHOD}" for sid, h in rows}
    plan = store.plan_refresh(current, store.load_state(conn, AREA), as_of, None, full)
    if full:
        conn.execute("DELETE FROM persona.story_plugin_metadata WHERE NOT (story_id = ANY(%s::uuid[]))", (list(current),))
    elif plan.removed:
        conn.execute("DELETE FROM persona.story_plugin_metadata WHERE story_id = ANY(%s::uuid[])", (plan.removed,))
    written = 0
    for batch in store.batches(plan.changed, 2000):
        stories = conn.execute("SELECT id::text, title, content FROM eligibility.eligible_mosaic_stories "
                               "WHERE id = ANY(%s::uuid[])", (batch,)).fetchall()
        metadata = story_metadata_many([(title, content) for _, title, content in stories])
        params = [(sid, PLUGIN_ID, kind, Jsonb(value), as_of)
                  for (sid, _, _), meta in zip(stories, metadata) for kind, value in meta.items()]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO persona.story_plugin_metadata (story_id, plugin_id, metadata_type, metadata_value, created_at, updated_at) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (story_id, plugin_id, metadata_type) DO UPDATE "
                "SET metadata_value = EXCLUDED.metadata_value, updated_at = EXCLUDED.updated_at",
                [(s, p, k, v, t, t) for s, p, k, v, t in params])
        written += len(params)
    store.save_state(conn, AREA, plan, as_of, None, full)
    counts = dict(conn.execute("SELECT metadata_type, count(*) FROM persona.story_plugin_metadata GROUP BY 1").fetchall())
    labels = dict(conn.execute("SELECT metadata_value->>'label', count(*) FROM persona.story_plugin_metadata "
                               "WHERE metadata_type = 'sentiment' GROUP BY 1").fetchall())
    return {"stories": plan.total, "stories_recomputed": len(plan.changed), "stories_removed": len(plan.removed),
            "rows_written": written, "rows_total": sum(counts.values()), "by_type": counts, "sentiment_labels": labels,
            "seconds": round(time.perf_counter() - started, 3)}


@dg.asset(
    key=["persona", "story_plugin_metadata"], group_name="persona", kinds={"postgres", "python"},
    deps=store.STORY_DEPS,
    description="Mosaic plugin metadata by plugin 'tessera': text valence (VADER + MiniLM) and YAKE keywords per story.",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=10),
    automation_condition=dg.AutomationCondition.eager().resolve_through_virtual(),
)
def story_plugin_metadata(context: dg.AssetExecutionContext, config: PersonaRunConfig,
                          warehouse: WarehouseDatabase) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        stats = refresh_story_metadata(conn, config.as_of_time(), full=config.full_refresh)
    return dg.MaterializeResult(metadata={**stats, "dagster/row_count": stats.get("rows_total", 0)})
