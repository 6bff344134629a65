"""The values the search interface takes and returns, shared by both backends."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

MODES = ("keyword", "semantic", "hybrid")
MOODS = ("ecstatic", "happy", "neutral", "sad", "anxious", "angry")


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    title: str
    date: dt.date | None
    mood: str | None = None
    tags: tuple[str, ...] = ()
    highlights: dict[str, list[str]] = field(default_factory=dict)  # field -> fragments with <em>…</em>
    extra: dict[str, Any] = field(default_factory=dict)               # e.g. legacy, story_type


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    took_ms: float
    mode: str
    backend: str

    @property
    def ids(self) -> list[str]:
        return [hit.id for hit in self.hits]


@dataclass(frozen=True)
class JournalQuery:
    text: str
    user_id: str
    mode: str = "keyword"
    moods: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    limit: int = 20


@dataclass(frozen=True)
class StoryQuery:
    text: str
    user_id: str
    mode: str = "keyword"
    tags: tuple[str, ...] = ()
    legacy_id: str | None = None
    story_types: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    limit: int = 20


class SearchError(ValueError):
    """A query the interface refuses (unknown mode, missing user, semantic search without text)."""


def validate(query: JournalQuery | StoryQuery) -> None:
    if not query.user_id:
        raise SearchError("every search names the user it runs for (user_id)")
    try:
        uuid.UUID(str(query.user_id))
    except ValueError as exc:
        raise SearchError(f"user_id must be a user's id (a UUID), not {query.user_id!r}") from exc
    if query.mode not in MODES:
        raise SearchError(f"mode must be one of {', '.join(MODES)}, not {query.mode!r}")
    if query.mode != "keyword" and not query.text.strip():
        raise SearchError(f"{query.mode} search needs query text")
    if query.limit < 1 or query.limit > 1000:
        raise SearchError("limit must be between 1 and 1000")
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise SearchError("date_from is after date_to")


def candidate_count(limit: int) -> int:
    """How many nearest neighbours (and keyword hits) each arm of a semantic/hybrid query considers."""
    return max(100, 5 * limit)


@dataclass
class IndexReport:
    """What one refresh of one index did, in both backends' terms (the asset's materialization metadata)."""
    index: str
    backend: str
    version: int
    rebuilt: bool
    documents: int
    upserted: int
    deleted: int
    model_id: str | None = None
    dropped_versions: list[int] = field(default_factory=list)

    def metadata(self) -> dict[str, Any]:
        return {
            "backend": self.backend, "index": self.index, "index_version": self.version,
            "rebuilt": self.rebuilt, "documents_total": self.documents, "documents_indexed": self.upserted,
            "documents_deleted": self.deleted, "embedding_model": self.model_id or "none",
        }
