"""Search assets in Dagster, the `tessera search` command, and search on data from the real pipeline
(generator + ingest, and the real embedding encoder)."""

from __future__ import annotations

import psycopg
import pytest

from test_search_helpers import build_journal_world, build_story_world, land_raw


def test_asset_graph_snapshot():
    import dagster as dg

    from assets.search.definitions import defs as search_defs
    from assets.resources import default_resources

    defs = dg.Definitions.merge(search_defs, dg.Definitions(resources=default_resources()))
    graph = {}
    for spec in defs.resolve_all_asset_specs():
        if spec.key.path[0] == "search":
            graph[tuple(spec.key.path)] = (spec.group_name, sorted(tuple(d.asset_key.path) for d in spec.deps))
    assert graph == {
        ("search", "journal_entries"): ("search", sorted([
            ("eligibility", "eligible_journal_entries"), ("staging", "stg_mindflow__tags"),
            ("staging", "stg_mindflow__journal_entry_tags"), ("vectors", "journal_entries")])),
        ("search", "mosaic_stories"): ("search", sorted([
            ("eligibility", "eligible_mosaic_stories"), ("staging", "stg_mosaic__legacies"),
            ("intermediate", "int_mosaic__story_grants"), ("vectors", "mosaic_stories")])),
    }
    assert isinstance(defs, dg.Definitions)


def test_materialize_assets_in_process(databases):
    import dagster as dg

    from assets.search.definitions import SearchResource, journal_entries, mosaic_stories
    from assets.resources import WarehouseDatabase

    world = build_journal_world(databases.source_url)
    build_story_world(databases.source_url)
    land_raw(databases.source_url, databases.warehouse_url, "mindflow")
    land_raw(databases.source_url, databases.warehouse_url, "mosaic")
    resources = {"search": SearchResource(), "warehouse": WarehouseDatabase()}
    first = dg.materialize([journal_entries, mosaic_stories], resources=resources)
    assert first.success
    materializations = [e.event_specific_data.materialization for e in first.get_asset_materialization_events()]
    meta = {tuple(m.asset_key.path): m.metadata for m in materializations}
    journal = meta[("search", "journal_entries")]
    assert journal["backend"].value == "postgres" and journal["documents_total"].value == 7
    assert journal["documents_indexed"].value == 7 and journal["index_version"].value == 1
    assert meta[("search", "mosaic_stories")]["documents_total"].value == 6
    with psycopg.connect(databases.source_url) as conn:
        conn.execute("UPDATE mindflow.journal_entries SET deleted_at = now() WHERE id = %s", (world.entries["cafe"],))
    land_raw(databases.source_url, databases.warehouse_url, "mindflow")
    second = dg.materialize([journal_entries], resources=resources)
    journal = second.get_asset_materialization_events()[0].event_specific_data.materialization.metadata
    assert (journal["documents_indexed"].value, journal["documents_deleted"].value) == (0, 1)
    assert journal["rebuilt"].value is False
    rebuilt = dg.materialize([journal_entries], resources=resources, run_config={
        "ops": {"search__journal_entries": {"config": {"full_rebuild": True}}}})
    journal = rebuilt.get_asset_materialization_events()[0].event_specific_data.materialization.metadata
    assert journal["index_version"].value == 2 and journal["documents_total"].value == 6


def test_cli_search_prints_hits_highlights_and_facets(databases):
    from click.testing import CliRunner

    from assets.search import postgres as pg
    from orchestration.cli import main

    world = build_journal_world(databases.source_url)
    land_raw(databases.source_url, databases.warehouse_url, "mindflow")
    pg.rebuild(databases.warehouse_url, pg.JOURNAL_INDEX)
    runner = CliRunner()
    out = runner.invoke(main, ["search", "work", "--user", world.users["alice"], "--mood", "happy"])
    assert out.exit_code == 0, out.output
    assert "Review went fine" in out.output and "[work]" in out.output and "mood: happy (1)" in out.output
    assert "Deadline stress" not in out.output
    out = runner.invoke(main, ["search", "wo", "--user", world.users["alice"], "--suggest"])
    assert out.exit_code == 0 and out.output.split() == ["work"]
    out = runner.invoke(main, ["search", "x", "--user", world.users["alice"], "--mode", "semantic"])
    assert out.exit_code != 0 and "no vectors" in out.output


def test_keyword_search_on_generated_and_ingested_data(modelled):
    """The real generator and ingest: for every user, listing all their entries returns exactly the entries
    the source says they own and may see (no soft-deleted entries, no erased users, private included)."""
    from assets.search import postgres as pg
    from assets.search.api import search_journal

    report = pg.rebuild(modelled.warehouse_url, pg.JOURNAL_INDEX)
    with psycopg.connect(modelled.source_url) as conn:
        truth_rows = conn.execute(
            """SELECT e.user_id::text, e.id::text FROM mindflow.journal_entries e JOIN mindflow.users u ON u.id = e.user_id
                WHERE e.deleted_at IS NULL AND u.deleted_at IS NULL""").fetchall()
        users = [r[0] for r in conn.execute("SELECT id::text FROM mindflow.users").fetchall()]
        flags = conn.execute(
            """SELECT count(*) FILTER (WHERE e.deleted_at IS NOT NULL), count(*) FILTER (WHERE e.is_private),
                      count(*) FILTER (WHERE coalesce(s.private_mode, false)), count(*) FILTER (WHERE u.deleted_at IS NOT NULL)
                 FROM mindflow.journal_entries e JOIN mindflow.users u ON u.id = e.user_id
                 LEFT JOIN mindflow.user_settings s ON s.user_id = e.user_id""").fetchone()
    assert all(n > 0 for n in flags[:3]), flags  # the generator made deleted, private and private-mode entries
    truth: dict[str, set[str]] = {}
    for user_id, entry_id in truth_rows:
        truth.setdefault(user_id, set()).add(entry_id)
    assert report.documents == len(truth_rows)
    backend = pg.PostgresBackend(modelled.warehouse_url)
    try:
        for user_id in users:
            listed = search_journal("", user_id=user_id, limit=1000, backend=backend)
            assert set(listed.ids) == truth.get(user_id, set())
    finally:
        backend.close()


@pytest.mark.slow
def test_semantic_search_with_the_real_encoder(databases):
    """Vectors written by the embeddings area's own sync with the real model; the query is encoded with the
    index's model by the default encoder lookup."""
    from assets.embeddings.model import get_encoder
    from assets.embeddings.sources import SOURCES
    from assets.embeddings.store import sync_source
    from assets.search import postgres as pg
    from assets.search.api import search_journal

    world = build_journal_world(databases.source_url)
    land_raw(databases.source_url, databases.warehouse_url, "mindflow")
    encoder = get_encoder(None)
    journal_source = next(s for s in SOURCES if s.table == "journal_entries")
    with psycopg.connect(databases.warehouse_url) as conn:
        sync_source(conn, journal_source, encoder)
    report = pg.rebuild(databases.warehouse_url, pg.JOURNAL_INDEX)
    assert report.model_id == encoder.model_id
    backend = pg.PostgresBackend(databases.warehouse_url)
    try:
        alice = world.users["alice"]
        result = search_journal("jogging in wet weather", user_id=alice, mode="semantic", backend=backend)
        assert result.ids[0] == world.entries["running"]
        assert world.entries["private"] not in result.ids
        result = search_journal("coffee shop breakfast", user_id=alice, mode="semantic", backend=backend)
        assert result.ids[0] == world.entries["cafe"]
        hybrid = search_journal("anxious about work", user_id=alice, mode="hybrid", backend=backend)
        assert hybrid.ids[0] == world.entries["work"] and world.entries["private"] not in hybrid.ids
        bob = search_journal("river walk", user_id=world.users["bob_private_mode"], mode="semantic", backend=backend)
        assert bob.ids == []  # a private-mode user's entries never have vectors
    finally:
        backend.close()
