"""The Elasticsearch backend (full stack): the `SearchBackend` of assets/search/api.py, composed of the
index-building module (index.py: `EsIndexer`) and the querying module (query.py: `run_search`).

What it adds of its own is the state a long-lived caller needs: one client (imported only when first
used), the bulk and sizing options, and the query encoder, chosen by the active embedding model."""

from __future__ import annotations

import time
from typing import Any, Callable

import psycopg

from assets.search.documents import JOURNAL, STORY, DocumentKind
from assets.search.elasticsearch.index import JOURNAL_ALIAS, STORY_ALIAS, EsIndex, EsIndexer
from assets.search.elasticsearch.query import JOURNAL_SEARCH, STORY_SEARCH, run_search, run_tag_suggest
from assets.search.encoders import query_encoder
from assets.search.model import IndexReport, JournalQuery, SearchResult, StoryQuery, validate


class ElasticsearchBackend:
    name = "elasticsearch"

    def __init__(self, url: str, warehouse_url: str, *, encoder_for: Callable[[str], Any] | None = None,
                 shards: int = 1, replicas: int = 0, max_retries: int = 5, initial_backoff: float = 1.0,
                 max_backoff: float = 30.0, chunk_size: int = 500):
        self.url, self.warehouse_url = url, warehouse_url
        self._client = None
        self._encoder_for = encoder_for
        self.shards, self.replicas = shards, replicas
        self.bulk_options = {"max_retries": max_retries, "initial_backoff": initial_backoff,
                             "max_backoff": max_backoff, "chunk_size": chunk_size}

    @property
    def client(self):
        if self._client is None:
            from elasticsearch import Elasticsearch

            self._client = Elasticsearch(self.url, request_timeout=60, retry_on_timeout=True, max_retries=3)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # indexing ---------------------------------------------------------------------------------
    @property
    def indexer(self) -> EsIndexer:
        return EsIndexer(self.client, self.warehouse_url, self.shards, self.replicas, self.bulk_options, self.name)

    def refresh(self, which: str, *, full: bool = False) -> IndexReport:
        """Sync the live index; rebuild when asked, when there is none, or when the embedding model changed."""
        return self.indexer.refresh(which, full=full)

    def rebuild(self, index: EsIndex) -> IndexReport:
        return self.indexer.rebuild(index)

    def sync(self, index: EsIndex) -> IndexReport:
        return self.indexer.sync(index)

    def _aliased(self, alias: str) -> list[str]:
        return self.indexer.aliased(alias)

    # queries ----------------------------------------------------------------------------------
    def _query_vector(self, kind: DocumentKind, mode: str, text: str) -> list[float] | None:
        if mode == "keyword":
            return None
        from assets.search.documents import active_model

        with psycopg.connect(self.warehouse_url) as conn:
            model = active_model(conn, kind)
        if model is None:
            raise LookupError("no active embedding model: semantic search is unavailable")
        encoder = (self._encoder_for or query_encoder)(model.model_id)
        return [float(x) for x in encoder.encode([text])[0]]

    def search_journal(self, query: JournalQuery) -> SearchResult:
        validate(query)
        started = time.perf_counter()  # the reported time includes encoding the query
        vector = self._query_vector(JOURNAL, query.mode, query.text)
        return run_search(self.client, JOURNAL_ALIAS, JOURNAL_SEARCH, query, vector, backend=self.name, started=started)

    def search_stories(self, query: StoryQuery) -> SearchResult:
        validate(query)
        started = time.perf_counter()
        vector = self._query_vector(STORY, query.mode, query.text)
        return run_search(self.client, STORY_ALIAS, STORY_SEARCH, query, vector, backend=self.name, started=started)

    def autocomplete_tags(self, prefix: str, *, user_id: str, limit: int = 10) -> list[str]:
        return run_tag_suggest(self.client, JOURNAL_ALIAS, prefix, user_id=user_id, limit=limit)
