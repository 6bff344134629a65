"""The one search interface. Notebooks, the CLI and the products' dashboards call these functions; the
backend is chosen by TESSERA_ELASTICSEARCH_URL (set: Elasticsearch, unset: the Postgres backend in the
warehouse), read at call time through Settings.

    from assets.search.api import search_journal, search_stories, autocomplete_tags
    result = search_journal("cafe morning", user_id=uid, mode="hybrid", moods=["happy"])
    for hit in result.hits: print(hit.score, hit.title, hit.highlights)
    result.facets["mood"], result.facets["tags"]

Every call names the user it runs for: journal search returns only that user's entries (their own
private entries included for keyword search, never for semantic or hybrid); story search returns only
stories the user may access under Mosaic's user_can_access_story.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Protocol

from assets.search.model import Hit, JournalQuery, SearchError, SearchResult, StoryQuery  # noqa: F401 (re-export)
from core.embedded import warehouse_database_url
from core.settings import Settings


class SearchBackend(Protocol):
    name: str

    def search_journal(self, query: JournalQuery) -> SearchResult: ...

    def search_stories(self, query: StoryQuery) -> SearchResult: ...

    def autocomplete_tags(self, prefix: str, *, user_id: str, limit: int = 10) -> list[str]: ...

    def refresh(self, which: str, *, full: bool = False): ...

    def close(self) -> None: ...


def get_backend(settings: Settings | None = None, **options) -> SearchBackend:
    """The backend the environment selects (Elasticsearch when TESSERA_ELASTICSEARCH_URL is set)."""
    settings = settings or Settings.from_env()
    warehouse_url = warehouse_database_url(settings)
    if settings.elasticsearch_url:
        from assets.search.elasticsearch import ElasticsearchBackend

        return ElasticsearchBackend(settings.elasticsearch_url, warehouse_url, **options)
    from assets.search.postgres import PostgresBackend

    return PostgresBackend(warehouse_url, **options)


def _date(value: dt.date | str | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _tuple(values: Iterable[str] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        return (values,)
    return tuple(values)


def search_journal(query: str, *, user_id: str, mode: str = "keyword", moods: Iterable[str] | None = None,
                   tags: Iterable[str] | None = None, date_from: dt.date | str | None = None,
                   date_to: dt.date | str | None = None, limit: int = 20,
                   backend: SearchBackend | None = None) -> SearchResult:
    """Search one user's journal entries. mode: 'keyword' | 'semantic' | 'hybrid'."""
    request = JournalQuery(text=query or "", user_id=str(user_id or ""), mode=mode, moods=_tuple(moods),
                           tags=_tuple(tags), date_from=_date(date_from), date_to=_date(date_to), limit=limit)
    return _with_backend(backend, lambda b: b.search_journal(request))


def search_stories(query: str, *, user_id: str, mode: str = "keyword", tags: Iterable[str] | None = None,
                   legacy_id: str | None = None, story_types: Iterable[str] | None = None,
                   date_from: dt.date | str | None = None, date_to: dt.date | str | None = None,
                   limit: int = 20, backend: SearchBackend | None = None) -> SearchResult:
    """Search the Mosaic stories `user_id` may access."""
    request = StoryQuery(text=query or "", user_id=str(user_id or ""), mode=mode, tags=_tuple(tags),
                         legacy_id=legacy_id, story_types=_tuple(story_types), date_from=_date(date_from),
                         date_to=_date(date_to), limit=limit)
    return _with_backend(backend, lambda b: b.search_stories(request))


def autocomplete_tags(prefix: str, *, user_id: str, limit: int = 10, backend: SearchBackend | None = None) -> list[str]:
    """The user's own journal tags starting with `prefix`, most used first."""
    if not user_id:
        raise SearchError("every search names the user it runs for (user_id)")
    return _with_backend(backend, lambda b: b.autocomplete_tags(prefix, user_id=str(user_id), limit=limit))


def _with_backend(backend: SearchBackend | None, call):
    if backend is not None:
        return call(backend)
    owned = get_backend()
    try:
        return call(owned)
    finally:
        owned.close()
