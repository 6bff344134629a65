"""What the Postgres search index is made of, shared by the code that builds it (index.py) and the code
that queries it (query.py): the `search` schema, and per index its reader view, DDL files and columns.

Layout in schema `search`:
- `journal_documents_v<N>`, `journal_tags_v<N>`, `story_documents_v<N>`: one table per built version;
- views `journal_documents`, `journal_tags`, `story_documents`: what readers query; a rebuild repoints them.
"""

from __future__ import annotations

from dataclasses import dataclass

from assets.search.documents import JOURNAL, STORY, DocumentKind

SCHEMA = "search"
_LOCK_BASE = 7240900  # pg_advisory_lock keys: one per index name

_JOURNAL_COLUMNS = (
    "id", "user_id", "date", "title", "content", "mood", "tags", "location", "word_count", "is_private",
    "private_mode", "ai_eligible", "created_at", "updated_at", "entry_version", "source_version",
    "embedding", "model_id", "vector_hash", "fingerprint",
)
_STORY_COLUMNS = (
    "id", "legacy_id", "legacy_name", "submitted_by", "legacy_admin", "visibility", "is_public", "readers",
    "title", "content", "story_type", "tags", "created_at", "updated_at", "approved", "source_version",
    "embedding", "model_id", "vector_hash", "fingerprint",
)


@dataclass(frozen=True)
class PgIndex:
    name: str                      # the reader view, e.g. journal_documents
    kind: DocumentKind
    table_file: str
    indexes_file: str
    index_names: tuple[str, ...]   # placeholders in indexes_file, suffixes of the index names
    columns: tuple[str, ...]
    tags_view: str | None = None   # per-user tag table for autocomplete

    @property
    def lock_key(self) -> int:
        return _LOCK_BASE + (1 if self.kind is JOURNAL else 2)


JOURNAL_INDEX = PgIndex("journal_documents", JOURNAL, "journal_table.sql", "journal_indexes.sql",
                        ("tsv", "user_date", "user_mood"), _JOURNAL_COLUMNS, tags_view="journal_tags")
STORY_INDEX = PgIndex("story_documents", STORY, "story_table.sql", "story_indexes.sql",
                      ("tsv", "readers", "public"), _STORY_COLUMNS)

