"""The trait matrix on the generator's data after a real ingest tick; then a rejection made in the
source reaches raw through the next tick and leaves every trait it fed."""

from __future__ import annotations

from datetime import datetime, timezone

import psycopg

from assets.persona import checks
from assets.persona.graph import refresh_graph_metadata
from assets.persona.knowledge import refresh_knowledge
from assets.persona.traits import refresh_traits

AS_OF = datetime.now(timezone.utc)


def test_traits_on_generated_data_and_rejection_through_ingest(modelled):
    ingested = modelled  # the persona stores read the dbt views over the raw copies
    from assets.ingest.pipeline import sync_all

    with psycopg.connect(ingested.warehouse_url) as wh:
        stats = refresh_traits(wh, AS_OF)
        refresh_knowledge(wh, AS_OF)
        refresh_graph_metadata(wh, AS_OF)
        wh.commit()
        assert stats["persons_with_traits"] > 0 and stats["trait_rows_total"] > stats["persons_with_traits"]
        for table in ("trait_matrix", "knowledge_entries"):
            assert checks.count_confidence_out_of_range(wh, table) == 0
            assert checks.count_ineligible_lineage(wh, table) == 0
        assert wh.execute("SELECT count(*) FROM persona.graph_metadata WHERE total_nodes > 0").fetchone()[0] > 0
        # rule 4 against the raw copy: nothing pending or rejected is ever cited
        assert wh.execute(
            "SELECT count(*) FROM persona.trait_matrix t, unnest(t.derived_from) d(id) JOIN raw_personakit.observations o "
            "ON o.observation_id = d.id WHERE o.processing_status NOT IN ('approved', 'processed')").fetchone()[0] == 0
        # pick the most cited observation and reject it in the source
        victim, person = wh.execute(
            "SELECT d.id::text, t.person_id::text FROM persona.trait_matrix t, unnest(t.derived_from) d(id) "
            "GROUP BY 1, 2 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()
    with psycopg.connect(ingested.source_url) as src:
        src.execute("UPDATE personakit.observations SET processing_status = 'rejected', rejection_reason = 'test' "
                    "WHERE observation_id = %s", (victim,))
    sync_all(ingested.source_url, ingested.warehouse_url, products=["personakit"])
    with psycopg.connect(ingested.warehouse_url) as wh:
        stats = refresh_traits(wh, AS_OF)
        assert stats["persons_recomputed"] == 1
        assert wh.execute("SELECT count(*) FROM persona.trait_matrix WHERE %s::uuid = ANY(derived_from)", (victim,)).fetchone()[0] == 0
        assert checks.count_ineligible_lineage(wh, "trait_matrix") == 0
