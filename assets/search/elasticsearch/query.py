"""Querying the Elasticsearch indices: BM25 keyword search, approximate kNN with pre-filtering, and hybrid
search fused on the client (Elasticsearch's RRF retriever needs a paid licence; assets/search/rrf.py),
with highlights, facets and the per-user tag completion.

Every request carries the caller's scope in its filter: journal documents by userId, stories by the
indexed access fields (isPublic or readers). Request building is pure (tested without a server);
`run_search` sends one search with a client it is given. Building the indices is index.py.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from assets.search.model import Hit, JournalQuery, SearchResult, StoryQuery, candidate_count
from assets.search.rrf import RRF_K, reciprocal_rank_fusion

TAG_FACET_SIZE = 20


HIGHLIGHT = {"pre_tags": ["<em>"], "post_tags": ["</em>"],
             "fields": {"title": {"number_of_fragments": 0}, "content": {"fragment_size": 150, "number_of_fragments": 3}}}
_TEXT_FIELDS = ["title^3", "content^2", "tags"]


def journal_filters(query: JournalQuery, *, eligible_only: bool = False) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = [{"term": {"userId": str(query.user_id)}}]
    if eligible_only:
        filters += [{"term": {"aiEligible": True}}, {"exists": {"field": "embedding"}}]
    if query.moods:
        filters.append({"terms": {"mood": [m.lower() for m in query.moods]}})
    for tag in query.tags:
        filters.append({"term": {"tags": tag.strip().lower()}})
    if query.date_from or query.date_to:
        bounds = {}
        if query.date_from:
            bounds["gte"] = query.date_from.isoformat()
        if query.date_to:
            bounds["lte"] = query.date_to.isoformat()
        filters.append({"range": {"date": bounds}})
    return filters


def story_filters(query: StoryQuery, *, eligible_only: bool = False) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = [{"bool": {"should": [{"term": {"isPublic": True}},
                                                          {"term": {"readers": str(query.user_id)}}],
                                               "minimum_should_match": 1}}]
    if eligible_only:
        filters.append({"exists": {"field": "embedding"}})
    for tag in query.tags:
        filters.append({"term": {"tags": tag}})
    if query.legacy_id:
        filters.append({"term": {"legacyId": str(query.legacy_id)}})
    if query.story_types:
        filters.append({"terms": {"storyType": list(query.story_types)}})
    if query.date_from or query.date_to:
        bounds = {}
        if query.date_from:
            bounds["gte"] = query.date_from.isoformat()
        if query.date_to:
            bounds["lt"] = (query.date_to + dt.timedelta(days=1)).isoformat()
        filters.append({"range": {"createdAt": bounds}})
    return filters


JOURNAL_AGGS = {"mood": {"terms": {"field": "mood", "size": 10}}, "tags": {"terms": {"field": "tags", "size": TAG_FACET_SIZE}}}
STORY_AGGS = {"tags": {"terms": {"field": "tags", "size": TAG_FACET_SIZE}}, "story_type": {"terms": {"field": "storyType"}},
              "legacy": {"terms": {"field": "legacyName.keyword", "size": TAG_FACET_SIZE}}}
JOURNAL_SOURCE = ["id", "title", "date", "mood", "tags"]
STORY_SOURCE = ["id", "title", "createdAt", "tags", "legacyId", "legacyName", "storyType", "visibility"]


def keyword_body(text: str, filters: list[dict[str, Any]], *, size: int, aggs: dict | None, source: list[str],
                 date_field: str) -> dict[str, Any]:
    """BM25 over title^3, content^2, tags, scoped and filtered in `filter` (no effect on scores)."""
    must = {"multi_match": {"query": text, "fields": _TEXT_FIELDS}} if text.strip() else {"match_all": {}}
    body: dict[str, Any] = {"query": {"bool": {"must": [must], "filter": filters}}, "size": size,
                            "_source": source, "track_total_hits": True}
    if text.strip():
        body["highlight"] = HIGHLIGHT
        body["sort"] = ["_score", {date_field: "desc"}, {"id": "asc"}]
    else:
        body["sort"] = [{date_field: "desc"}, {"id": "asc"}]
    if aggs:
        body["aggs"] = aggs
    return body


def knn_body(vector: Sequence[float], filters: list[dict[str, Any]], *, k: int, size: int, aggs: dict | None,
             source: list[str], text: str = "") -> dict[str, Any]:
    """Approximate kNN with the scope and filters inside the kNN filter (pre-filtering, so k results
    come from the user's own eligible documents). Aggregations cover the k nearest."""
    body: dict[str, Any] = {
        "knn": {"field": "embedding", "query_vector": [float(x) for x in vector], "k": k,
                "num_candidates": max(2 * k, 100), "filter": {"bool": {"filter": filters}}},
        "size": size, "_source": source,
    }
    if text.strip():
        body["highlight"] = dict(HIGHLIGHT, highlight_query={"multi_match": {"query": text, "fields": _TEXT_FIELDS}})
    if aggs:
        body["aggs"] = aggs
    return body


def tag_suggest_body(prefix: str, user_id: str, *, size: int = 10) -> dict[str, Any]:
    """The seed's tag completion, limited to the user's own documents by the userId context."""
    return {"_source": False, "suggest": {"tag-suggest": {"prefix": prefix.strip().lower(), "completion": {
        "field": "tagSuggest", "size": size, "skip_duplicates": True, "contexts": {"userId": [str(user_id)]}}}}}


def parse_facets(response: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {name: {str(b["key"]): int(b["doc_count"]) for b in agg.get("buckets", [])}
            for name, agg in (response.get("aggregations") or {}).items()}


def facets_from_sources(sources: Iterable[dict[str, Any]], fields: dict[str, str], sizes: dict[str, int | None]) -> dict[str, dict[str, int]]:
    """Facet counts computed on the client (hybrid: over the fused candidates)."""
    counts: dict[str, dict[str, int]] = {name: {} for name in fields}
    for source in sources:
        for name, field_name in fields.items():
            values = source.get(field_name)
            for value in values if isinstance(values, list) else [values]:
                if value is not None:
                    counts[name][str(value)] = counts[name].get(str(value), 0) + 1
    out = {}
    for name, values in counts.items():
        ordered = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
        out[name] = dict(ordered[: sizes.get(name)] if sizes.get(name) else ordered)
    return out


def _journal_hit(raw: dict[str, Any], score: float) -> Hit:
    src = raw.get("_source", {})
    return Hit(id=str(raw["_id"]), score=float(score), title=src.get("title", ""),
               date=dt.date.fromisoformat(src["date"]) if src.get("date") else None, mood=src.get("mood"),
               tags=tuple(src.get("tags") or ()), highlights=dict(raw.get("highlight") or {}))


def _story_hit(raw: dict[str, Any], score: float) -> Hit:
    src = raw.get("_source", {})
    created = src.get("createdAt")
    return Hit(id=str(raw["_id"]), score=float(score), title=src.get("title", ""),
               date=dt.datetime.fromisoformat(created).date() if created else None, tags=tuple(src.get("tags") or ()),
               highlights=dict(raw.get("highlight") or {}),
               extra={"legacy_id": src.get("legacyId"), "legacy": src.get("legacyName"),
                      "story_type": src.get("storyType"), "visibility": src.get("visibility")})


def fuse_hybrid(keyword_hits: list[dict[str, Any]], knn_hits: list[dict[str, Any]], *, limit: int,
                k: int = RRF_K) -> list[tuple[dict[str, Any], float]]:
    """Client-side RRF of the two arms; highlights come from the keyword arm."""
    by_id: dict[str, dict[str, Any]] = {}
    for raw in knn_hits + keyword_hits:  # keyword last so its highlight wins
        merged = dict(by_id.get(str(raw["_id"]), {}), **raw)
        by_id[str(raw["_id"])] = merged
    fused = reciprocal_rank_fusion([[str(h["_id"]) for h in keyword_hits], [str(h["_id"]) for h in knn_hits]], k=k,
                                   limit=limit)
    return [(by_id[doc_id], score) for doc_id, score in fused]



@dataclass(frozen=True)
class SearchSpec:
    """How one kind of document is searched: its filters, aggregations, returned fields and hit shape."""

    filters: Callable[..., list[dict[str, Any]]]
    aggs: dict[str, Any]
    source: list[str]
    date_field: str
    to_hit: Callable[[dict[str, Any], float], Hit]
    facet_fields: dict[str, str]  # facet name -> document field, for client-side facets (hybrid)


JOURNAL_SEARCH = SearchSpec(journal_filters, JOURNAL_AGGS, JOURNAL_SOURCE, "date", _journal_hit,
                            {"mood": "mood", "tags": "tags"})
STORY_SEARCH = SearchSpec(story_filters, STORY_AGGS, STORY_SOURCE, "createdAt", _story_hit,
                          {"tags": "tags", "story_type": "storyType", "legacy": "legacyName"})


def run_search(client, alias: str, spec: SearchSpec, query: JournalQuery | StoryQuery, vector: list[float] | None, *,
               backend: str = "elasticsearch", started: float | None = None) -> SearchResult:
    """One validated search on `alias`; `vector` (the encoded query text) is needed unless the mode is keyword."""
    started = time.perf_counter() if started is None else started
    k = candidate_count(query.limit)
    if query.mode == "keyword":
        response = client.search(index=alias, body=keyword_body(
            query.text, spec.filters(query), size=query.limit, aggs=spec.aggs, source=spec.source,
            date_field=spec.date_field))
        hits = [spec.to_hit(h, h.get("_score") or 0.0) for h in response["hits"]["hits"]]
        facets = parse_facets(response)
    elif vector is None:
        raise ValueError(f"a {query.mode} search needs the query's vector")
    elif query.mode == "semantic":
        response = client.search(index=alias, body=knn_body(
            vector, spec.filters(query, eligible_only=True), k=k, size=query.limit, aggs=spec.aggs,
            source=spec.source, text=query.text))
        hits = [spec.to_hit(h, h.get("_score") or 0.0) for h in response["hits"]["hits"]]
        facets = parse_facets(response)
    else:
        kw = client.search(index=alias, body=keyword_body(
            query.text, spec.filters(query, eligible_only=True), size=k, aggs=None, source=spec.source,
            date_field=spec.date_field))["hits"]["hits"]
        nn = client.search(index=alias, body=knn_body(
            vector, spec.filters(query, eligible_only=True), k=k, size=k, aggs=None,
            source=spec.source))["hits"]["hits"]
        fused_all = fuse_hybrid(kw, nn, limit=2 * k)
        hits = [spec.to_hit(raw, score) for raw, score in fused_all[: query.limit]]
        facets = facets_from_sources((raw.get("_source", {}) for raw, _ in fused_all), spec.facet_fields,
                                     {name: TAG_FACET_SIZE for name in spec.facet_fields})
    return SearchResult(hits, facets, (time.perf_counter() - started) * 1000, query.mode, backend)


def run_tag_suggest(client, alias: str, prefix: str, *, user_id: str, limit: int = 10) -> list[str]:
    """The user's own tags completing `prefix` (the userId context keeps other users' tags out)."""
    if not user_id:
        raise ValueError("autocomplete names the user it runs for (user_id)")
    response = client.search(index=alias, body=tag_suggest_body(prefix, user_id, size=limit))
    options = response["suggest"]["tag-suggest"][0]["options"]
    return [o["text"] for o in options]
