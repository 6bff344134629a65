"""The Elasticsearch search backend: versioned indices behind aliases, BM25, kNN and client-side RRF.

- index.py: mappings, documents, bulk actions, the external-version ledger, rebuild and sync (`EsIndexer`);
- query.py: request building (filters, keyword, kNN, suggest), facets, hybrid fusion, `run_search`;
- backend.py: `ElasticsearchBackend`, the `SearchBackend` (assets/search/api.py) composed of the two.

The client library is imported only inside functions. The names callers and tests use are importable
from here: `from assets.search import elasticsearch as es`.
"""

from assets.search.documents import JOURNAL, STORY
from assets.search.elasticsearch.backend import ElasticsearchBackend
from assets.search.elasticsearch.index import (
    JOURNAL_ALIAS,
    JOURNAL_ES,
    STORY_ALIAS,
    STORY_ES,
    BulkIndexingError,
    BulkOutcome,
    EsIndex,
    EsIndexer,
    LedgerEntry,
    SyncPlan,
    alias_swap_body,
    classify_bulk_item,
    delete_action,
    index_action,
    index_for,
    index_version,
    journal_document,
    journal_index_body,
    plan_sync,
    story_document,
    story_index_body,
    versioned_index,
)
from assets.search.elasticsearch.query import (
    JOURNAL_AGGS,
    JOURNAL_SEARCH,
    JOURNAL_SOURCE,
    STORY_AGGS,
    STORY_SEARCH,
    STORY_SOURCE,
    SearchSpec,
    facets_from_sources,
    fuse_hybrid,
    journal_filters,
    keyword_body,
    knn_body,
    parse_facets,
    run_search,
    story_filters,
    tag_suggest_body,
)

__all__ = [
    "JOURNAL", "STORY", "ElasticsearchBackend", "JOURNAL_ALIAS", "JOURNAL_ES", "STORY_ALIAS", "STORY_ES",
    "BulkIndexingError", "BulkOutcome", "EsIndex", "EsIndexer", "LedgerEntry", "SyncPlan", "alias_swap_body",
    "classify_bulk_item", "delete_action", "index_action", "index_for", "index_version", "journal_document",
    "journal_index_body", "plan_sync", "story_document", "story_index_body", "versioned_index", "JOURNAL_AGGS",
    "JOURNAL_SEARCH", "JOURNAL_SOURCE", "STORY_AGGS", "STORY_SEARCH", "STORY_SOURCE", "SearchSpec",
    "facets_from_sources", "fuse_hybrid", "journal_filters", "keyword_body", "knn_body", "parse_facets",
    "run_search", "story_filters", "tag_suggest_body",
]
