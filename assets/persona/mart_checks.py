"""Asset checks on the Mosaic persona marts that a dbt test cannot carry as a Dagster check (it reads
two marts built by different dbt assets): the legacy persona's examples for a user come only from
stories that user may read (privacy rule 3, the rule kept once in marts.story_access)."""

import dagster as dg
import psycopg

from core.db import table_exists
from assets.resources import WarehouseDatabase

EXAMPLES = dg.AssetKey(["marts", "legacy_persona_examples"])
STORY_ACCESS = dg.AssetKey(["marts", "story_access"])


def unreadable_examples(conn: psycopg.Connection, limit: int = 10) -> tuple[int, list[dict]]:
    """Examples whose (user, story, legacy) story_access does not grant; their count and a sample."""
    rows = conn.execute(
        "SELECT e.user_id::text, e.story_id::text, e.legacy_id::text FROM marts.legacy_persona_examples e "
        "WHERE NOT EXISTS (SELECT 1 FROM marts.story_access a WHERE a.user_id = e.user_id "
        "AND a.story_id = e.story_id AND a.legacy_id = e.legacy_id)").fetchall()
    return len(rows), [{"user_id": u, "story_id": s, "legacy_id": l} for u, s, l in rows[:limit]]


@dg.asset_check(asset=EXAMPLES, additional_deps=[STORY_ACCESS], blocking=True,
                description="Every example shown to a user is a story that user may read (marts.story_access).")
def persona_examples_only_readable_stories(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        if not (table_exists(conn, "marts", "legacy_persona_examples") and table_exists(conn, "marts", "story_access")):
            return dg.AssetCheckResult(passed=False, metadata={"missing": "marts.legacy_persona_examples or marts.story_access"})
        violations, sample = unreadable_examples(conn)
        examples = conn.execute("SELECT count(*) FROM marts.legacy_persona_examples").fetchone()[0]
    return dg.AssetCheckResult(passed=violations == 0,
                               metadata={"violations": violations, "examples": examples,
                                         "sample": dg.MetadataValue.json(sample)})


MART_CHECKS = [persona_examples_only_readable_stories]
