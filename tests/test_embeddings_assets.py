"""The embedding assets in Dagster: the graph they declare, and in-process materializations
(hand-made raw rows, then the generator -> ingest -> embed path on a tiny dataset)."""

from __future__ import annotations

import dagster as dg
import psycopg
import pytest

from assets.embeddings.assets import EMBEDDING_ASSETS, EMBEDDING_CHECKS
from assets.embeddings.definitions import defs
from assets.embeddings.resources import EmbeddingModel
from assets.resources import WarehouseDatabase

from test_embeddings_store import add_entry, add_user, all_vector_source_ids, encoder, ingest_with_views  # noqa: F401


def test_definitions_snapshot():
    from assets.resources import default_resources

    graph = dg.Definitions.merge(defs, dg.Definitions(resources=default_resources())).resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys() if k.path[0] == "vectors"}
    assert keys == {"vectors/journal_entries", "vectors/mosaic_stories", "vectors/personakit_observations",
                    "vectors/coach_dialogue_messages", "vectors/coach_knowledge_resources"}
    deps = {a.key.to_user_string(): sorted(d.to_user_string() for d in a.asset_deps[a.key]) for a in EMBEDDING_ASSETS}
    assert deps == {
        "vectors/journal_entries": ["eligibility/eligible_journal_entries"],
        "vectors/mosaic_stories": ["eligibility/eligible_mosaic_stories"],
        "vectors/personakit_observations": ["eligibility/eligible_personakit_observations"],
        "vectors/coach_dialogue_messages": ["eligibility/eligible_coach_dialogue_messages"],
        "vectors/coach_knowledge_resources": ["eligibility/eligible_coach_knowledge_resources"],
    }
    # every dependency is an asset of the code location (the dbt models under the keys the translator gives)
    from orchestration.definitions import defs as location

    known = {k.to_user_string() for k in location.resolve_asset_graph().get_all_asset_keys()}
    assert {d for ds in deps.values() for d in ds} <= known
    assert {a.group_names_by_key[a.key] for a in EMBEDDING_ASSETS} == {"embeddings"}
    checks = {(k.asset_key.to_user_string(), k.name) for c in EMBEDDING_CHECKS for k in c.check_keys}
    assert checks == {(k, "only_eligible_documents") for k in deps}
    assert "embedding_model" in defs.resources


def _materialize(encoder):
    assert encoder.model_id  # the session encoder is loaded (and cached) before Dagster asks for it
    return dg.materialize(
        [*EMBEDDING_ASSETS, *EMBEDDING_CHECKS],
        resources={"warehouse": WarehouseDatabase(), "embedding_model": EmbeddingModel()},
    )


def test_assets_materialize_in_process_with_metadata(databases, encoder):
    ingest_with_views(databases)
    with psycopg.connect(databases.warehouse_url) as wh:
        alice, bob = add_user(wh), add_user(wh, private_mode=True)
        kept = add_entry(wh, alice, "We planted tomatoes and basil in the garden.")
        hidden = add_entry(wh, bob, "zqcanarymaterialize private mode entry")
        wh.execute("INSERT INTO raw_mosaic.legacies (id) VALUES ('00000000-0000-0000-0000-000000000001')")
        wh.execute("INSERT INTO raw_mosaic.stories (id, legacy_id, title, content)"
                   " VALUES (gen_random_uuid(), '00000000-0000-0000-0000-000000000001',"
                   " 'The lake', 'Every summer at the lake he taught us to swim.')")
        wh.commit()

    result = _materialize(encoder)
    assert result.success
    meta = {m.asset_key.path[-1]: m.materialization.metadata for m in result.get_asset_materialization_events()}
    assert set(meta) == {"journal_entries", "mosaic_stories", "personakit_observations", "coach_dialogue_messages",
                         "coach_knowledge_resources"}
    journal = meta["journal_entries"]
    assert journal["docs_embedded"].value == 1 and journal["chunks"].value == 1
    assert journal["model_id"].value == encoder.model_id and journal["docs_per_s"].value > 0
    assert meta["mosaic_stories"]["docs_embedded"].value == 1
    assert meta["personakit_observations"]["docs_embedded"].value == 0
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 5 and all(c.passed for c in checks)

    with psycopg.connect(databases.warehouse_url) as wh:
        ids = all_vector_source_ids(wh)
        assert kept in ids and hidden not in ids
        wh.execute("UPDATE raw_mindflow.journal_entries SET deleted_at = now() WHERE id = %s", (kept,))
        wh.commit()

    again = _materialize(encoder)
    meta = {m.asset_key.path[-1]: m.materialization.metadata for m in again.get_asset_materialization_events()}
    assert meta["journal_entries"]["removed"].value == 1 and meta["journal_entries"]["docs_embedded"].value == 0
    assert meta["mosaic_stories"]["skipped_unchanged"].value == 1 and meta["mosaic_stories"]["docs_embedded"].value == 0
    with psycopg.connect(databases.warehouse_url) as wh:
        assert kept not in all_vector_source_ids(wh)


def _generated_pipeline_available() -> bool:
    try:
        import assets.ingest.pipeline  # noqa: F401
        import sources.generator  # noqa: F401
    except ImportError:
        return False
    return hasattr(sources.generator, "generate") and hasattr(assets.ingest.pipeline, "sync_all")


@pytest.mark.skipif(not _generated_pipeline_available(), reason="generator or ingest pipeline not present yet")
def test_generated_data_through_ingest_privacy_holds_and_rerun_embeds_nothing(databases, encoder):
    from sources.generator import generate

    generate(databases.source_url, users=3, days=6, seed=11)
    ingest_with_views(databases)
    first = _materialize(encoder)
    assert first.success and all(c.passed for c in first.get_asset_check_evaluations())

    with psycopg.connect(databases.source_url) as src:
        eligible = {r[0] for r in src.execute(
            "SELECT je.id FROM mindflow.journal_entries je JOIN mindflow.users u ON u.id = je.user_id"
            " LEFT JOIN mindflow.user_settings s ON s.user_id = je.user_id"
            " WHERE je.deleted_at IS NULL AND u.deleted_at IS NULL AND NOT je.is_private"
            " AND s.private_mode IS NOT TRUE").fetchall()}
        ineligible = {r[0] for r in src.execute("SELECT id FROM mindflow.journal_entries").fetchall()} - eligible
    with psycopg.connect(databases.warehouse_url) as wh:
        quarantined = {r[0] for r in wh.execute(
            "SELECT record_key::uuid FROM quality.active_quarantine WHERE source_table = 'mindflow.journal_entries'"
        ).fetchall()} if wh.execute("SELECT to_regclass('quality.active_quarantine')").fetchone()[0] else set()
        embedded = {r[0] for r in wh.execute("SELECT source_id FROM vectors.journal_entries_doc").fetchall()}
    assert eligible, "the generator produced eligible entries"
    assert embedded == eligible - quarantined
    assert not embedded & ineligible

    rerun = _materialize(encoder)
    meta = {m.asset_key.path[-1]: m.materialization.metadata for m in rerun.get_asset_materialization_events()}
    assert all(m["docs_embedded"].value == 0 and m["chunks"].value == 0 for m in meta.values())
    assert meta["journal_entries"]["skipped_unchanged"].value == len(embedded)
