"""The Postgres search backend on the embedded server: every feature, privacy canaries, atomic rebuilds."""

from __future__ import annotations

import threading

import psycopg
import pytest

from assets.search import postgres as pg
from assets.search.analysis import fold
from assets.search.api import autocomplete_tags, search_journal, search_stories
from assets.search.rrf import reciprocal_rank_fusion
from test_search_helpers import (
    StubEncoder,
    accessible_stories,
    activate_model,
    add_vector,
    build_journal_world,
    build_story_world,
    insert_entry,
    land_raw,
    make_vectors_tables,
    unit,
)

DIM = 8


@pytest.fixture
def journal(databases):
    world = build_journal_world(databases.source_url)
    land_raw(databases.source_url, databases.warehouse_url, "mindflow")
    make_vectors_tables(databases.warehouse_url)
    activate_model(databases.warehouse_url, "mindflow.journal_entries", "stub", DIM)
    e, u = world.entries, world.users
    # Vectors on axis-like directions so that semantic order is known. Adversarial rows too: vectors for
    # the private entry and the private-mode user's entry exist in vectors.* (as if an embedder had
    # misbehaved); search must still never attach them.
    layout = {"cafe": (1, 0.2), "running": (0, 1), "work": (0.2, 0, 1), "work2": (0.6, 0, 0.8),
              "dave": (1, 0.1), "private": (1, 0, 0.5), "bob": (1, 0, 0.5), "carol": (1, 0, 0.5), "deleted": (1, 0, 0.5)}
    for label, axes in layout.items():
        add_vector(databases.warehouse_url, "journal_entries", e[label], unit(DIM, *axes))
    # a second chunk for work2: the document vector is the normalised mean of its chunks
    add_vector(databases.warehouse_url, "journal_entries", e["work2"], unit(DIM, 0.6, 0, 0.8), chunk_index=1)
    report = pg.rebuild(databases.warehouse_url, pg.JOURNAL_INDEX)
    encoder = StubEncoder({"espresso morning": unit(DIM, 1, 0.15), "deadline worries": unit(DIM, 0.1, 0, 1),
                           "river work": unit(DIM, 0.5, 0.1, 0.7), "zqxprivatetoken": unit(DIM, 1, 0, 0.5),
                           "zqxprivmodetoken": unit(DIM, 1, 0, 0.5), "zqxdeletedtoken": unit(DIM, 1, 0, 0.5),
                           "zqxerasedtoken": unit(DIM, 1, 0, 0.5)}, DIM)
    backend = pg.PostgresBackend(databases.warehouse_url, encoder_for=lambda model_id: encoder)
    yield databases, world, backend, report
    backend.close()


def _ids(result):
    return result.ids


def test_rebuild_reports_and_privacy_by_construction(journal):
    dbs, world, backend, report = journal
    assert report.rebuilt and report.version == 1 and report.documents == 7  # 9 entries - deleted - erased user
    with psycopg.connect(dbs.warehouse_url) as conn:
        rows = dict(conn.execute("SELECT id::text, embedding IS NOT NULL FROM search.journal_documents").fetchall())
    e = world.entries
    assert e["deleted"] not in rows and e["carol"] not in rows
    assert rows[e["private"]] is False and rows[e["bob"]] is False  # present for keyword, never with a vector
    assert rows[e["cafe"]] is True and rows[e["dave"]] is True


def test_full_text_with_highlights(journal):
    _, world, backend, _ = journal
    result = search_journal("espresso", user_id=world.users["alice"], backend=backend)
    assert _ids(result) == [world.entries["cafe"]]
    hit = result.hits[0]
    assert hit.title == "Morning at the café" and hit.mood == "happy" and set(hit.tags) == {"coffee", "morning"}
    assert any("<em>espresso</em>" in f for f in hit.highlights["content"])
    assert result.backend == "postgres" and result.took_ms >= 0


def test_title_weighs_more_than_content(journal):
    _, world, backend, _ = journal
    # "review" is in work2's title and in work's content: the title match ranks first (weight A > B)
    result = search_journal("review", user_id=world.users["alice"], backend=backend)
    assert _ids(result)[:2] == [world.entries["work2"], world.entries["work"]]
    assert result.hits[0].highlights["title"] == ["<em>Review</em> went fine"]


def test_accent_folding_both_ways(journal):
    _, world, backend, _ = journal
    # 'cafe' finds 'café' and the highlight shows the user's own accented word
    result = search_journal("cafe", user_id=world.users["alice"], backend=backend)
    assert _ids(result) == [world.entries["cafe"]]
    assert result.hits[0].highlights["title"] == ["Morning at the <em>café</em>"]
    assert any("<em>café</em>" in f for f in result.hits[0].highlights["content"])
    # 'CAFÉ' finds dave's unaccented 'cafe'
    result = search_journal("CAFÉ", user_id=world.users["dave"], backend=backend)
    assert _ids(result) == [world.entries["dave"]]


def test_python_and_sql_folding_agree(journal):
    dbs, *_ = journal
    sample = "Crème brûlée, Ærøskøbing, straße, Łódź, Ĳssel, naïve — “quoted” façade Œuvre ðing Þorn"
    with psycopg.connect(dbs.warehouse_url) as conn:
        assert conn.execute("SELECT search.fold(%s)", (sample,)).fetchone()[0] == fold(sample)
    assert fold("Crème brûlée") == "Creme brulee" and fold("straße") == "strasse"


def test_stemming_and_stop_words(journal):
    _, world, backend, _ = journal
    alice = world.users["alice"]
    assert _ids(search_journal("runs", user_id=alice, backend=backend)) == [world.entries["running"]]
    assert _ids(search_journal("deadline", user_id=alice, backend=backend)) == [world.entries["work"]]  # 'deadlines'
    assert _ids(search_journal("the", user_id=alice, backend=backend)) == []  # only a stop word


def test_filters_mood_tags_dates(journal):
    _, world, backend, _ = journal
    alice, e = world.users["alice"], world.entries
    assert set(_ids(search_journal("work", user_id=alice, backend=backend))) == {e["work"], e["work2"], e["private"]}
    assert _ids(search_journal("work", user_id=alice, moods=["happy"], backend=backend)) == [e["work2"]]
    assert _ids(search_journal("work", user_id=alice, tags=["stress"], backend=backend)) == [e["work"]]
    assert _ids(search_journal("work", user_id=alice, tags=["work", "relief"], backend=backend)) == [e["work2"]]
    assert _ids(search_journal("work", user_id=alice, date_from="2025-02-10", date_to="2025-02-28",
                               backend=backend)) == [e["work2"]]
    # no text: the user's filtered entries, newest first (the seed's facet and date-range examples)
    result = search_journal("", user_id=alice, date_from="2025-01-01", date_to="2025-01-31", backend=backend)
    assert _ids(result) == [e["running"], e["cafe"]]


def test_facets_count_the_whole_filtered_result(journal):
    _, world, backend, _ = journal
    result = search_journal("work", user_id=world.users["alice"], limit=1, backend=backend)
    assert len(result.hits) == 1  # facets are not limited to the returned page
    assert result.facets["mood"] == {"anxious": 1, "happy": 1, "sad": 1}
    assert result.facets["tags"] == {"work": 2, "stress": 1, "relief": 1, "secret": 1}
    filtered = search_journal("work", user_id=world.users["alice"], moods=["happy"], backend=backend)
    assert filtered.facets == {"mood": {"happy": 1}, "tags": {"work": 1, "relief": 1}}


def test_tag_autocomplete(journal):
    dbs, world, backend, _ = journal
    alice, dave = world.users["alice"], world.users["dave"]
    assert autocomplete_tags("wo", user_id=alice, backend=backend) == ["work"]
    assert autocomplete_tags("co", user_id=alice, backend=backend) == ["coffee"]
    assert autocomplete_tags("CAF", user_id=dave, backend=backend) == ["cafeteria"]
    assert autocomplete_tags("caf", user_id=alice, backend=backend) == []      # dave's tag is not alice's
    assert autocomplete_tags("go", user_id=alice, backend=backend) == []       # tag only on a deleted entry
    assert autocomplete_tags("%", user_id=alice, backend=backend) == []        # LIKE metacharacters are literal
    assert autocomplete_tags("", user_id=alice, backend=backend)[:1] == ["work"]  # most used first
    # the prefix query can use the btree text_pattern_ops index
    with psycopg.connect(dbs.warehouse_url) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT tag FROM search.journal_tags WHERE user_id = %s::uuid AND tag_folded LIKE 'wo%%'",
            (alice,)).fetchall())
    assert "journal_tags_v1_prefix" in plan


def test_semantic_ranking(journal):
    _, world, backend, _ = journal
    e = world.entries
    result = search_journal("deadline worries", user_id=world.users["alice"], mode="semantic", backend=backend)
    # alice's entries with vectors, nearest first; never the private one although it has a vector row
    assert _ids(result) == [e["work"], e["work2"], e["cafe"], e["running"]]
    assert result.hits[0].score > result.hits[1].score > result.hits[2].score
    result = search_journal("espresso morning", user_id=world.users["alice"], mode="semantic", limit=1, backend=backend)
    assert _ids(result) == [e["cafe"]]


def test_hybrid_is_rrf_of_keyword_and_semantic(journal):
    _, world, backend, _ = journal
    e, alice = world.entries, world.users["alice"]
    keyword = _ids(search_journal("river work", user_id=alice, backend=backend))
    semantic = _ids(search_journal("river work", user_id=alice, mode="semantic", backend=backend))
    hybrid = search_journal("river work", user_id=alice, mode="hybrid", backend=backend)
    eligible_keyword = [i for i in keyword if i != e["private"]]  # hybrid arms only see AI-eligible entries
    expected = reciprocal_rank_fusion([eligible_keyword, semantic])
    assert _ids(hybrid) == [doc for doc, _ in expected]
    assert [round(h.score, 9) for h in hybrid.hits] == [round(s, 9) for _, s in expected]
    # the constructed case: keyword ranks cafe, running, work, work2 (title/content matches of river/work);
    # semantic ranks work2 first; work2 is 2nd or better in both, so it wins the fusion
    assert semantic[0] == e["work2"]
    assert _ids(hybrid)[0] == e["work2"]
    assert e["private"] not in _ids(hybrid)


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_canaries_never_leak(journal, mode):
    """Each canary entry carries a unique token and also shares words ('river', 'work') with ordinary
    entries: it is absent for every user and mode, except its owner's keyword search may find the
    owner's private entry and the private-mode user's own entry."""
    _, world, backend, _ = journal
    for label, (token, owner) in world.canaries.items():
        canary_id = world.entries[label]
        for user_label, user_id in world.users.items():
            owner_keyword = mode == "keyword" and user_label == owner
            for text in (token, "river work"):
                hits = search_journal(text, user_id=user_id, mode=mode, backend=backend)
                if owner_keyword:
                    assert canary_id in hits.ids, (label, user_label, text)
                else:
                    assert canary_id not in hits.ids, (label, mode, user_label, text)
                    shown = " ".join(h.title + " " + " ".join(sum(h.highlights.values(), [])) for h in hits.hits)
                    assert token not in shown


def test_every_result_belongs_to_the_user(journal):
    dbs, world, backend, _ = journal
    with psycopg.connect(dbs.source_url) as conn:
        owner = dict(conn.execute("SELECT id::text, user_id::text FROM mindflow.journal_entries").fetchall())
    for user_id in world.users.values():
        for mode in ("keyword", "semantic", "hybrid"):
            for text in ("river work", "espresso morning"):
                for hit in search_journal(text, user_id=user_id, mode=mode, backend=backend).hits:
                    assert owner[hit.id] == user_id


def test_incremental_sync_upserts_and_deletes(journal):
    dbs, world, backend, _ = journal
    e, alice = world.entries, world.users["alice"]
    with psycopg.connect(dbs.source_url) as conn:
        conn.execute("UPDATE mindflow.journal_entries SET deleted_at = now() WHERE id = %s", (e["running"],))
        conn.execute("UPDATE mindflow.journal_entries SET title = 'Morning at the bakery', version = version + 1 "
                     "WHERE id = %s", (e["cafe"],))
        conn.execute("UPDATE mindflow.journal_entries SET is_private = true WHERE id = %s", (e["work2"],))
        new = insert_entry(conn, alice, "2025-04-01", "Kayaking", "Kayaking on the lake at dawn.", mood="happy",
                           tags=("outdoors",))
        conn.execute("UPDATE mindflow.users SET deleted_at = now() WHERE id = %s", (world.users["dave"],))
    land_raw(dbs.source_url, dbs.warehouse_url, "mindflow")
    report = pg.sync(dbs.warehouse_url, pg.JOURNAL_INDEX)
    assert not report.rebuilt and report.version == 1
    assert report.deleted == 2            # the soft-deleted entry and the erased user's entry
    assert report.upserted == 3           # edited title, privacy flip, new entry
    assert _ids(search_journal("kayak", user_id=alice, backend=backend)) == [new]
    assert _ids(search_journal("bakery", user_id=alice, backend=backend)) == [e["cafe"]]
    assert _ids(search_journal("runs", user_id=alice, backend=backend)) == []
    assert _ids(search_journal("cafe", user_id=world.users["dave"], backend=backend)) == []
    assert autocomplete_tags("out", user_id=alice, backend=backend) == ["outdoors"]
    assert autocomplete_tags("run", user_id=alice, backend=backend) == []
    # work2 turned private: keyword for its owner yes, semantic/hybrid never (its vector is dropped)
    assert e["work2"] in _ids(search_journal("review", user_id=alice, backend=backend))
    assert e["work2"] not in _ids(search_journal("river work", user_id=alice, mode="semantic", backend=backend))
    again = pg.sync(dbs.warehouse_url, pg.JOURNAL_INDEX)
    assert (again.upserted, again.deleted) == (0, 0)  # nothing changed: nothing written


def test_rebuild_swaps_atomically_under_concurrent_readers(journal):
    dbs, world, backend, _ = journal
    alice = world.users["alice"]
    expected_total = 7
    failures: list[str] = []
    observations = {"n": 0}
    stop = threading.Event()

    def reader():
        with psycopg.connect(dbs.warehouse_url, autocommit=True) as conn:
            while not stop.is_set():
                total = conn.execute("SELECT count(*) FROM search.journal_documents").fetchone()[0]
                tags = conn.execute("SELECT count(*) FROM search.journal_tags WHERE user_id = %s", (alice,)).fetchone()[0]
                hits = conn.execute("SELECT count(*) FROM search.journal_documents WHERE user_id = %s "
                                    "AND tsv @@ websearch_to_tsquery('english', 'work')", (alice,)).fetchone()[0]
                observations["n"] += 1
                if (total, tags, hits) != (expected_total, 8, 3):
                    failures.append(f"saw total={total} tags={tags} hits={hits}")

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        versions = [pg.rebuild(dbs.warehouse_url, pg.JOURNAL_INDEX).version for _ in range(4)]
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert versions == [2, 3, 4, 5]
    assert failures == []
    assert observations["n"] > 0
    with psycopg.connect(dbs.warehouse_url) as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'search' AND tablename LIKE 'journal_%%_v%%'")}
        current = conn.execute("SELECT version FROM search.current_versions WHERE index_name = 'journal_documents'").fetchone()[0]
    assert current == 5
    assert tables == {"journal_documents_v4", "journal_documents_v5", "journal_tags_v4", "journal_tags_v5"}


def test_story_search_follows_the_access_function(databases):
    world = build_story_world(databases.source_url)
    land_raw(databases.source_url, databases.warehouse_url, "mosaic")
    make_vectors_tables(databases.warehouse_url)
    activate_model(databases.warehouse_url, "mosaic.stories", "stub", DIM)
    for i, story_id in enumerate(world.stories.values()):
        add_vector(databases.warehouse_url, "mosaic_stories", story_id, unit(DIM, 1, 0.1 * i))
    report = pg.rebuild(databases.warehouse_url, pg.STORY_INDEX)
    assert report.documents == 6
    encoder = StubEncoder({"lighthouse": unit(DIM, 1, 0.05)}, DIM)
    backend = pg.PostgresBackend(databases.warehouse_url, encoder_for=lambda m: encoder)
    try:
        checked = 0
        for label, user_id in world.users.items():
            truth = accessible_stories(databases.source_url, user_id)
            keyword = set(search_stories("lighthouse", user_id=user_id, backend=backend).ids)
            assert keyword == truth, label
            for mode in ("semantic", "hybrid"):
                assert set(search_stories("lighthouse", user_id=user_id, mode=mode, backend=backend).ids) <= truth
            checked += len(truth)
        s, u = world.stories, world.users
        assert accessible_stories(databases.source_url, u["member"]) == {s["g_public"], s["g_group"], s["u_public"]}
        assert accessible_stories(databases.source_url, u["stranger"]) == {s["g_public"], s["u_public"]}
        result = search_stories("lighthouse", user_id=u["admin1"], tags=["grandma"], backend=backend)
        assert set(result.ids) == {s["g_public"], s["g_private"], s["g_group"]}
        assert result.facets["legacy"] == {"Grandma": 3}
        assert any("<em>lighthouse</em>" in f.lower() for f in result.hits[0].highlights.get("content", []))
        # access changes reach the index incrementally: the stranger joins the cousins' group
        with psycopg.connect(databases.source_url) as conn:
            conn.execute("UPDATE mosaic.groups SET members = members || %s::uuid", (u["stranger"],))
        land_raw(databases.source_url, databases.warehouse_url, "mosaic")
        assert pg.sync(databases.warehouse_url, pg.STORY_INDEX).upserted == 1
        truth = accessible_stories(databases.source_url, u["stranger"])
        assert s["g_group"] in truth
        assert set(search_stories("lighthouse", user_id=u["stranger"], backend=backend).ids) == truth
    finally:
        backend.close()
