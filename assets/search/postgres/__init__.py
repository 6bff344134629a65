"""The Postgres search backend: full text, pgvector and RRF in the warehouse's `search` schema.

- layout.py: the schema, the indices' reader views, DDL files and columns (shared by both halves);
- index.py: building and maintaining the index (versioned tables, atomic view swap, sync, tag tables);
- query.py: the searches (keyword, semantic, hybrid; highlights, facets, autocomplete);
- backend.py: `PostgresBackend`, the `SearchBackend` (assets/search/api.py) composed of the two.

The names callers use are importable from here: `from assets.search import postgres as pg`.
"""

from assets.search.model import IndexReport
from assets.search.postgres.backend import PostgresBackend
from assets.search.postgres.index import (
    current_version,
    drop_old_versions,
    index_for,
    index_model,
    rebuild,
    refresh,
    sync,
    versioned,
)
from assets.search.postgres.layout import JOURNAL_INDEX, SCHEMA, STORY_INDEX, PgIndex
from assets.search.postgres.query import (
    journal_conditions,
    ranked_cte,
    search_statement,
    story_conditions,
    vector_literal,
)

__all__ = [
    "IndexReport", "PostgresBackend", "current_version", "drop_old_versions", "index_for", "index_model",
    "rebuild", "refresh", "sync", "versioned", "JOURNAL_INDEX", "SCHEMA", "STORY_INDEX", "PgIndex",
    "journal_conditions", "ranked_cte", "search_statement", "story_conditions", "vector_literal",
]
