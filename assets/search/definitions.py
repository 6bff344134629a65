"""Definitions of the search area: the two search indices as assets, and the `search` resource.

["search", "journal_entries"] and ["search", "mosaic_stories"] are the journal and story indices in the
backend the environment selects (Postgres tables in schema `search`, or Elasticsearch aliases). Each
run syncs incrementally (changed documents upserted, ineligible ones deleted); `full_rebuild` builds a
new version and swaps it in atomically.
"""


from typing import Optional

import dagster as dg

from assets.search.documents import JOURNAL, STORY
from assets.resources import WarehouseDatabase
from core.settings import Settings

# Which index each asset is (refresh_index's `which`).
INDEX_KEYS = {"journal": dg.AssetKey(["search", "journal_entries"]), "story": dg.AssetKey(["search", "mosaic_stories"])}
INDEX_READS = {"journal": JOURNAL.reads, "story": STORY.reads}
# The dbt models each index is built from (dbt views: asset keys [schema, name]), and its vectors.
JOURNAL_DEPS = [*(dg.AssetKey(list(rel)) for rel in JOURNAL.reads), dg.AssetKey(["vectors", "journal_entries"])]
STORY_DEPS = [*(dg.AssetKey(list(rel)) for rel in STORY.reads), dg.AssetKey(["vectors", "mosaic_stories"])]
# The models are views (virtual assets): the indices follow the raw tables behind them.
AUTOMATION = dg.AutomationCondition.eager().resolve_through_virtual()


class SearchResource(dg.ConfigurableResource):
    """The search backend: Elasticsearch when an URL is configured (default TESSERA_ELASTICSEARCH_URL at
    run time), otherwise the Postgres backend in the warehouse."""

    elasticsearch_url: Optional[str] = None
    shards: int = 1
    replicas: int = 0

    def backend(self, warehouse_url: str):
        return search_backend(warehouse_url, self.elasticsearch_url, shards=self.shards, replicas=self.replicas)


def search_backend(warehouse_url: str, elasticsearch_url: Optional[str] = None, *, shards: int = 1, replicas: int = 0):
    """The backend the environment selects: Elasticsearch when an URL is given (default
    TESSERA_ELASTICSEARCH_URL, read now), otherwise the Postgres backend in the warehouse."""
    url = elasticsearch_url or Settings.from_env().elasticsearch_url
    if url:
        from assets.search.elasticsearch import ElasticsearchBackend

        return ElasticsearchBackend(url, warehouse_url, shards=shards, replicas=replicas)
    from assets.search.postgres import PostgresBackend

    return PostgresBackend(warehouse_url)


def refresh_index(backend, which: str, *, full: bool = False) -> dict:
    """Refresh one index ('journal' | 'story') and close the backend; the index's materialization
    metadata (the asset and the live lane both report this)."""
    try:
        return backend.refresh(which, full=full).metadata()
    finally:
        backend.close()


class SearchIndexConfig(dg.Config):
    full_rebuild: bool = False


def _materialize(which: str, config: SearchIndexConfig, search: SearchResource, warehouse: WarehouseDatabase):
    return dg.MaterializeResult(metadata=refresh_index(search.backend(warehouse.get_url()), which, full=config.full_rebuild))


# Eager: the documents follow their inputs within the read-view cadence (orchestration/automation.py).
@dg.asset(key=["search", "journal_entries"], group_name="search", deps=JOURNAL_DEPS,
          automation_condition=AUTOMATION,
          retry_policy=dg.RetryPolicy(max_retries=2, delay=10),
          description="Journal entries search index (MindFlow `journal_entries` mapping): full text with "
                      "highlights, facets, tag autocomplete, semantic and hybrid ranking. Private entries and "
                      "private-mode users' entries are keyword-only; soft-deleted rows and users are absent.")
def journal_entries(config: SearchIndexConfig, search: SearchResource, warehouse: WarehouseDatabase):
    return _materialize("journal", config, search, warehouse)


@dg.asset(key=["search", "mosaic_stories"], group_name="search", deps=STORY_DEPS,
          automation_condition=AUTOMATION,
          retry_policy=dg.RetryPolicy(max_retries=2, delay=10),
          description="Mosaic stories search index with per-story access fields mirroring "
                      "mosaic.user_can_access_story, so every query is scoped by construction.")
def mosaic_stories(config: SearchIndexConfig, search: SearchResource, warehouse: WarehouseDatabase):
    return _materialize("story", config, search, warehouse)


defs = dg.Definitions(assets=[journal_entries, mosaic_stories], resources={"search": SearchResource()})
