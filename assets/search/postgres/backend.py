"""The Postgres search backend (the embedded default): the `SearchBackend` of assets/search/api.py,
composed of the index-building module (index.py: refresh) and the querying module (query.py: searches).

What it adds of its own is the state a long-lived caller needs: one autocommit connection, and the
query encoder, chosen by the embedding model the live index version was built with."""

from __future__ import annotations

import time
from typing import Any, Callable

import psycopg

from assets.search.encoders import query_encoder
from assets.search.model import IndexReport, JournalQuery, SearchResult, StoryQuery, validate
from assets.search.postgres.index import index_for, index_model, refresh
from assets.search.postgres.query import run_journal_search, run_story_search, run_tag_autocomplete, vector_literal
from assets.search.postgres.layout import JOURNAL_INDEX, STORY_INDEX, PgIndex


class PostgresBackend:
    """Search over the `search` schema of the warehouse. `encoder_for(model_id)` turns query text into a
    vector with the model the index was built with (default: the embeddings area's encoder)."""

    name = "postgres"

    def __init__(self, url: str, *, encoder_for: Callable[[str], Any] | None = None):
        self.url = url
        self._conn: psycopg.Connection | None = None
        self._encoder_for = encoder_for

    # connection -------------------------------------------------------------------------------
    def connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True, application_name="tessera-search")
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # indexing ---------------------------------------------------------------------------------
    def refresh(self, which: str, *, full: bool = False) -> IndexReport:
        return refresh(self.url, index_for(which), full=full)

    # queries ----------------------------------------------------------------------------------
    def _query_vector(self, index: PgIndex, mode: str, text: str) -> str | None:
        if mode == "keyword":
            return None
        model_id = index_model(self.connection(), index)
        if model_id is None:
            raise LookupError(f"the {index.name} index has no vectors yet (no active embedding model)")
        encoder = (self._encoder_for or query_encoder)(model_id)
        return vector_literal(encoder.encode([text])[0])

    def search_journal(self, query: JournalQuery) -> SearchResult:
        validate(query)
        started = time.perf_counter()  # the reported time includes encoding the query
        vector = self._query_vector(JOURNAL_INDEX, query.mode, query.text)
        return run_journal_search(self.connection(), query, vector, self.name, started=started)

    def search_stories(self, query: StoryQuery) -> SearchResult:
        validate(query)
        started = time.perf_counter()
        vector = self._query_vector(STORY_INDEX, query.mode, query.text)
        return run_story_search(self.connection(), query, vector, self.name, started=started)

    def autocomplete_tags(self, prefix: str, *, user_id: str, limit: int = 10) -> list[str]:
        """The user's own tags starting with `prefix` (accent- and case-insensitive), most used first."""
        return run_tag_autocomplete(self.connection(), prefix, user_id=user_id, limit=limit)
