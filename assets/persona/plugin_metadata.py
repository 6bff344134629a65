"""persona.story_plugin_metadata: rows in the shape of mosaic.story_plugin_metadata, plugin 'tessera',
metadata types 'sentiment' and 'keywords', from our own lexicons (evidence/lexicons.py).

Sentiment: tokens matching POSITIVE_WORDS / NEGATIVE_WORDS, a negation in the two preceding tokens
flips a hit; score = (pos - neg) / (pos + neg) in [-1, 1] (0 without hits); label positive if
score >= 0.2, negative if <= -0.2, else neutral ("mixed" when neutral with >= 2 hits of each pole).
Keywords: the 8 most frequent non-stopword tokens of title + content (3+ letters; ties alphabetical).
Incremental per story on md5(title, content) and the lexicon version; deleted or quarantined
stories lose their rows; created_at survives an update.
"""


import time
from datetime import datetime

import dagster as dg
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from assets.persona import store
from assets.persona.config import PersonaRunConfig
from assets.persona.evidence.lexicons import LEXICON_VERSION, NEGATIONS, NEGATIVE_WORDS, POSITIVE_WORDS
from assets.persona.evidence.text import keywords, tokenize
from orchestration.db import table_exists
from orchestration.resources import WarehouseDatabase
from quality.quarantine import not_quarantined

AREA = "story_metadata"
PLUGIN_ID = "tessera"
KEYWORDS_K = 8


def sentiment(text: str) -> dict:
    tokens = tokenize(text)
    pos = neg = 0
    for i, token in enumerate(tokens):
        pole = 1 if token in POSITIVE_WORDS else -1 if token in NEGATIVE_WORDS else 0
        if not pole:
            continue
        if any(t in NEGATIONS for t in tokens[max(0, i - 2):i]):
            pole = -pole
        pos, neg = (pos + 1, neg) if pole > 0 else (pos, neg + 1)
    score = (pos - neg) / (pos + neg) if pos + neg else 0.0
    label = "positive" if score >= 0.2 else "negative" if score <= -0.2 else "mixed" if pos >= 2 and neg >= 2 else "neutral"
    return {"label": label, "score": round(score, 4), "positive": pos, "negative": neg, "tokens": len(tokens),
            "method": LEXICON_VERSION}


def story_metadata(title: str, content: str) -> dict[str, dict]:
    text = f"{title or ''}\n{content or ''}"
    return {
        "sentiment": sentiment(text),
        "keywords": {"keywords": [{"term": t, "count": c} for t, c in keywords(text, KEYWORDS_K)], "method": LEXICON_VERSION},
    }


def refresh_story_metadata(conn: psycopg.Connection, as_of: datetime, *, full: bool = False) -> dict:
    started = time.perf_counter()
    store.ensure_schema(conn)
    if not table_exists(conn, "raw_mosaic", "stories"):
        return {"skipped": "raw_mosaic.stories absent"}
    story_ok = not_quarantined("mosaic.stories", sql.SQL("s.id::text"))
    rows = conn.execute(sql.SQL(
        "SELECT s.id::text, md5(coalesce(s.title, '') || E'\\n' || coalesce(s.content, '')) FROM raw_mosaic.stories s WHERE {}"
    ).format(story_ok)).fetchall()
    current = {sid: f"{h}|{LEXICON_VERSION}" for sid, h in rows}
    plan = store.plan_refresh(current, store.load_state(conn, AREA), as_of, None, full)
    if full:
        conn.execute("DELETE FROM persona.story_plugin_metadata WHERE NOT (story_id = ANY(%s::uuid[]))", (list(current),))
    elif plan.removed:
        conn.execute("DELETE FROM persona.story_plugin_metadata WHERE story_id = ANY(%s::uuid[])", (plan.removed,))
    written = 0
    for batch in store.batches(plan.changed, 2000):
        stories = conn.execute("SELECT id::text, title, content FROM raw_mosaic.stories WHERE id = ANY(%s::uuid[])",
                               (batch,)).fetchall()
        params = [(sid, PLUGIN_ID, kind, Jsonb(value), as_of)
                  for sid, title, content in stories for kind, value in story_metadata(title, content).items()]
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
    deps=[dg.AssetKey(["raw_mosaic", "stories"])],
    description="Mosaic plugin metadata by plugin 'tessera': lexicon sentiment and keywords per story.",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=10),
    automation_condition=dg.AutomationCondition.eager(),
)
def story_plugin_metadata(context: dg.AssetExecutionContext, config: PersonaRunConfig,
                          warehouse: WarehouseDatabase) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        stats = refresh_story_metadata(conn, config.as_of_time(), full=config.full_refresh)
    return dg.MaterializeResult(metadata={**stats, "dagster/row_count": stats.get("rows_total", 0)})
