"""Search indices (Postgres full text + pgvector, or Elasticsearch) and the one search interface.

The interface is assets.search.api (search_journal, search_stories, autocomplete_tags).
"""
