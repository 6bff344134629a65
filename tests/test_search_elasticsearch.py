"""Elasticsearch backend: mappings, requests, bulk actions and result handling as pure functions, plus
integration tests against a real server that run only when TESSERA_ELASTICSEARCH_URL is set."""

from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest

from assets.search import elasticsearch as es
from assets.search.elasticsearch import backend as es_backend
from assets.search.model import JournalQuery, StoryQuery


def test_journal_mapping_follows_the_seed():
    body = es.journal_index_body(384, shards=1, replicas=0)
    settings = body["settings"]
    assert (settings["number_of_shards"], settings["number_of_replicas"]) == (1, 0)
    assert settings["analysis"]["analyzer"]["journal_analyzer"] == {
        "type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding", "stop", "snowball"]}
    props = body["mappings"]["properties"]
    seed = {"id": "keyword", "userId": "keyword", "date": "date", "title": "text", "content": "text", "mood": "keyword",
            "tags": "keyword", "location": "text", "wordCount": "integer", "isPrivate": "boolean",
            "createdAt": "date", "updatedAt": "date"}
    assert {k: props[k]["type"] for k in seed} == seed
    assert props["date"]["format"] == "yyyy-MM-dd"
    assert props["title"]["analyzer"] == props["content"]["analyzer"] == "journal_analyzer"
    assert props["title"]["fields"] == {"keyword": {"type": "keyword"}}
    assert props["content"]["term_vector"] == "with_positions_offsets"
    assert props["embedding"] == {"type": "dense_vector", "dims": 384, "index": True, "similarity": "cosine",
                                  "index_options": {"type": "int8_hnsw"}}
    assert props["tagSuggest"]["type"] == "completion"
    assert props["tagSuggest"]["contexts"] == [{"name": "userId", "type": "category", "path": "userId"}]
    assert "embedding" not in es.journal_index_body(None)["mappings"]["properties"]
    assert es.journal_index_body(8, shards=3, replicas=1)["settings"]["number_of_shards"] == 3


def test_story_mapping_has_access_fields():
    props = es.story_index_body(384)["mappings"]["properties"]
    assert props["isPublic"]["type"] == "boolean" and props["readers"]["type"] == "keyword"
    assert props["embedding"]["index_options"] == {"type": "int8_hnsw"}


def test_alias_swap_is_one_request():
    body = es.alias_swap_body("journal_entries", "journal_entries_v3", ["journal_entries_v2", "journal_entries_v1"])
    assert body == {"actions": [
        {"remove": {"index": "journal_entries_v1", "alias": "journal_entries"}},
        {"remove": {"index": "journal_entries_v2", "alias": "journal_entries"}},
        {"add": {"index": "journal_entries_v3", "alias": "journal_entries", "is_write_index": True}}]}
    assert es.alias_swap_body("a", "a_v1", []) == {"actions": [{"add": {"index": "a_v1", "alias": "a", "is_write_index": True}}]}
    assert es.index_version("journal_entries_v12") == 12 and es.index_version("journal_entries") is None


def _row(**overrides):
    row = {"id": uuid.UUID(int=1), "user_id": uuid.UUID(int=2), "date": dt.date(2025, 10, 25), "title": "A Reflective Evening",
           "content": "Today was productive", "mood": "neutral", "tags": ["work", "stress"], "location": "Home Office",
           "word_count": 3, "is_private": False, "private_mode": False, "ai_eligible": True,
           "created_at": dt.datetime(2025, 10, 25, 20, 30, tzinfo=dt.timezone.utc),
           "updated_at": dt.datetime(2025, 10, 25, 20, 30, tzinfo=dt.timezone.utc), "embedding": "[0.6,0.8]"}
    row.update(overrides)
    return row


def test_journal_document_shape_and_privacy():
    doc = es.journal_document(_row())
    assert doc["id"] == str(uuid.UUID(int=1)) and doc["userId"] == str(uuid.UUID(int=2))
    assert doc["date"] == "2025-10-25" and doc["createdAt"] == "2025-10-25T20:30:00+00:00"
    assert doc["tags"] == ["work", "stress"] and doc["tagSuggest"] == {"input": ["work", "stress"]}
    assert doc["embedding"] == [0.6, 0.8] and doc["aiEligible"] is True
    private = es.journal_document(_row(is_private=True, ai_eligible=False))
    assert "embedding" not in private and private["isPrivate"] is True  # even if a vector slipped through
    assert "tagSuggest" not in es.journal_document(_row(tags=[]))


def test_bulk_actions_use_external_versions():
    assert es.index_action("journal_entries_v2", "d1", 42, {"id": "d1"}) == {
        "_op_type": "index", "_index": "journal_entries_v2", "_id": "d1", "version": 42,
        "version_type": "external", "_source": {"id": "d1"}}
    assert es.delete_action("journal_entries", "d1", 43) == {
        "_op_type": "delete", "_index": "journal_entries", "_id": "d1", "version": 43, "version_type": "external"}


def test_plan_sync_sends_changes_and_deletes_with_increasing_versions():
    ledger = {"same": es.LedgerEntry("f1", 100), "changed": es.LedgerEntry("old", 100),
              "gone": es.LedgerEntry("f", 90), "already_deleted": es.LedgerEntry(None, 95, deleted=True),
              "back": es.LedgerEntry(None, 120, deleted=True)}
    documents = {"same": ("f1", 100), "changed": ("new", 50), "new": ("n", 300), "back": ("b", 110)}
    plan = es.plan_sync(documents, ledger)
    assert sorted(plan.upserts) == [("back", 121, "b"), ("changed", 101, "new"), ("new", 300, "n")]
    assert plan.deletes == [("gone", 91)]
    full = es.plan_sync(documents, ledger, full=True)
    assert sorted(d for d, _, _ in full.upserts) == ["back", "changed", "new", "same"] and full.deletes == []
    assert dict((d, v) for d, v, _ in full.upserts)["same"] == 100


def test_bulk_items_are_each_checked():
    outcome = es.BulkOutcome()
    es.classify_bulk_item(True, {"index": {"_id": "a", "status": 201}}, outcome)
    es.classify_bulk_item(False, {"delete": {"_id": "b", "status": 404, "result": "not_found"}}, outcome)
    es.classify_bulk_item(False, {"index": {"_id": "c", "status": 409,
                                            "error": {"type": "version_conflict_engine_exception"}}}, outcome)
    es.classify_bulk_item(False, {"index": {"_id": "d", "status": 400,
                                            "error": {"type": "document_parsing_exception"}}}, outcome)
    assert outcome.succeeded == [("index", "a"), ("delete", "b")]
    assert outcome.stale == ["c"]
    assert [e["id"] for e in outcome.errors] == ["d"]
    with pytest.raises(es.BulkIndexingError):
        raise es.BulkIndexingError(outcome.errors)


def test_keyword_request_is_scoped_filtered_highlighted_and_faceted():
    q = JournalQuery(text="productivity stress", user_id="u1", moods=("Happy",), tags=("work",),
                     date_from=dt.date(2025, 10, 1), date_to=dt.date(2025, 10, 31), limit=5)
    body = es.keyword_body(q.text, es.journal_filters(q), size=5, aggs=es.JOURNAL_AGGS, source=es.JOURNAL_SOURCE,
                           date_field="date")
    assert body["query"]["bool"]["must"] == [{"multi_match": {"query": "productivity stress",
                                                              "fields": ["title^3", "content^2", "tags"]}}]
    assert body["query"]["bool"]["filter"] == [
        {"term": {"userId": "u1"}}, {"terms": {"mood": ["happy"]}}, {"term": {"tags": "work"}},
        {"range": {"date": {"gte": "2025-10-01", "lte": "2025-10-31"}}}]
    assert body["aggs"] == {"mood": {"terms": {"field": "mood", "size": 10}}, "tags": {"terms": {"field": "tags", "size": 20}}}
    assert body["highlight"]["fields"]["content"]["number_of_fragments"] == 3 and body["size"] == 5
    empty = es.keyword_body("", es.journal_filters(JournalQuery(text="", user_id="u1")), size=5, aggs=None,
                            source=es.JOURNAL_SOURCE, date_field="date")
    assert empty["query"]["bool"]["must"] == [{"match_all": {}}] and empty["sort"][0] == {"date": "desc"}


def test_semantic_and_hybrid_arms_only_see_eligible_documents():
    q = JournalQuery(text="calm", user_id="u1", mode="semantic")
    body = es.knn_body([0.1, 0.2], es.journal_filters(q, eligible_only=True), k=100, size=20, aggs=es.JOURNAL_AGGS,
                       source=es.JOURNAL_SOURCE)
    knn = body["knn"]
    assert knn["field"] == "embedding" and knn["k"] == 100 and knn["num_candidates"] == 200
    assert knn["filter"]["bool"]["filter"][:3] == [{"term": {"userId": "u1"}}, {"term": {"aiEligible": True}},
                                                   {"exists": {"field": "embedding"}}]


def test_story_requests_carry_the_access_filter():
    filters = es.story_filters(StoryQuery(text="x", user_id="u9", legacy_id="L1"))
    assert filters[0] == {"bool": {"should": [{"term": {"isPublic": True}}, {"term": {"readers": "u9"}}],
                                   "minimum_should_match": 1}}
    assert {"term": {"legacyId": "L1"}} in filters


def test_tag_suggest_is_per_user():
    body = es.tag_suggest_body(" Prod", "u1", size=10)
    completion = body["suggest"]["tag-suggest"]["completion"]
    assert body["suggest"]["tag-suggest"]["prefix"] == "prod"
    assert completion == {"field": "tagSuggest", "size": 10, "skip_duplicates": True, "contexts": {"userId": ["u1"]}}


def test_client_side_fusion_and_facets():
    kw = [{"_id": "a", "_source": {"mood": "happy", "tags": ["x"]}, "highlight": {"content": ["<em>a</em>"]}},
          {"_id": "b", "_source": {"mood": "sad", "tags": ["x", "y"]}}]
    nn = [{"_id": "b", "_source": {"mood": "sad", "tags": ["x", "y"]}}, {"_id": "c", "_source": {"mood": "happy", "tags": []}}]
    fused = es.fuse_hybrid(kw, nn, limit=10)
    assert [raw["_id"] for raw, _ in fused] == ["b", "a", "c"]
    assert fused[1][0]["highlight"] == {"content": ["<em>a</em>"]}
    facets = es.facets_from_sources((raw["_source"] for raw, _ in fused), {"mood": "mood", "tags": "tags"}, {})
    assert facets == {"mood": {"happy": 2, "sad": 1}, "tags": {"x": 2, "y": 1}}
    response = {"aggregations": {"mood": {"buckets": [{"key": "happy", "doc_count": 3}]}}}
    assert es.parse_facets(response) == {"mood": {"happy": 3}}


# --------------------------------------------------------------------------------------------------
# Integration (real server only)
# --------------------------------------------------------------------------------------------------

requires_es = pytest.mark.skipif(not os.environ.get("TESSERA_ELASTICSEARCH_URL"),
                                 reason="TESSERA_ELASTICSEARCH_URL is not set: no Elasticsearch server to test against")


@pytest.fixture
def es_world(databases, monkeypatch):
    url = os.environ.get("TESSERA_ELASTICSEARCH_URL")
    from test_search_helpers import (StubEncoder, activate_model, add_vector, build_journal_world, land_raw,
                                     make_vectors_tables, unit)

    world = build_journal_world(databases.source_url)
    land_raw(databases.source_url, databases.warehouse_url, "mindflow")
    make_vectors_tables(databases.warehouse_url)
    activate_model(databases.warehouse_url, "mindflow.journal_entries", "stub", 8)
    for label in ("cafe", "running", "work", "work2", "dave", "private", "bob"):
        add_vector(databases.warehouse_url, "journal_entries", world.entries[label], unit(8, 1, 0.1))
    encoder = StubEncoder({"river work": unit(8, 1, 0.1)}, 8)
    backend = es.ElasticsearchBackend(url, databases.warehouse_url, encoder_for=lambda m: encoder, initial_backoff=0.5)
    suffix = uuid.uuid4().hex[:8]
    monkeypatch.setattr(es, "JOURNAL_ALIAS", f"journal_entries_test{suffix}")
    monkeypatch.setattr(es_backend, "JOURNAL_ALIAS", es.JOURNAL_ALIAS)  # the alias the backend searches
    index = es.EsIndex(es.JOURNAL_ALIAS, es.JOURNAL, es.journal_index_body, es.journal_document)
    yield backend, index, world, databases
    backend.client.indices.delete(index=f"{index.alias}_v*", ignore_unavailable=True, allow_no_indices=True)
    backend.close()


@pytest.mark.elasticsearch
@requires_es
def test_es_rebuild_search_sync_and_canaries(es_world):
    import psycopg

    backend, index, world, dbs = es_world
    first = backend.rebuild(index)
    assert first.documents == 7
    second = backend.rebuild(index)
    assert second.version == first.version + 1
    assert backend._aliased(index.alias) == [es.versioned_index(index.alias, second.version)]
    alice = world.users["alice"]
    backend.client.indices.refresh(index=index.alias)
    hits = backend.search_journal(JournalQuery(text="cafe", user_id=alice))
    assert hits.ids == [world.entries["cafe"]] and "content" in hits.hits[0].highlights
    assert backend.autocomplete_tags("wo", user_id=alice) == ["work"]
    for mode in ("keyword", "semantic", "hybrid"):
        for label, (token, owner) in world.canaries.items():
            for user_label, user_id in world.users.items():
                result = backend.search_journal(JournalQuery(text="river work", user_id=user_id, mode=mode))
                if not (mode == "keyword" and user_label == owner):
                    assert world.entries[label] not in result.ids
    with psycopg.connect(dbs.source_url) as conn:
        conn.execute("UPDATE mindflow.journal_entries SET deleted_at = now() WHERE id = %s", (world.entries["cafe"],))
    from test_search_helpers import land_raw

    land_raw(dbs.source_url, dbs.warehouse_url, "mindflow")
    report = backend.sync(index)
    assert report.deleted == 1
    backend.client.indices.refresh(index=index.alias)
    assert backend.search_journal(JournalQuery(text="cafe", user_id=alice)).ids == []
