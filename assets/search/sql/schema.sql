-- The Postgres search backend's bookkeeping (schema `search` in the warehouse).
CREATE SCHEMA IF NOT EXISTS search;
CREATE EXTENSION IF NOT EXISTS vector;

-- One row per built version of an index; `search.current_versions` names the live one (the version the
-- reader view points at, changed in the same transaction as the view).
CREATE TABLE IF NOT EXISTS search.builds (
    index_name  text        NOT NULL,
    version     integer     NOT NULL,
    backend     text        NOT NULL,
    model_id    text,
    dimension   integer,
    documents   bigint,
    built_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (index_name, version)
);
CREATE TABLE IF NOT EXISTS search.current_versions (
    index_name  text PRIMARY KEY,
    version     integer     NOT NULL,
    swapped_at  timestamptz NOT NULL DEFAULT now()
);

-- Elasticsearch backend: the external version and fingerprint last sent per document, so that
-- incremental syncs send only changes and every write carries a strictly higher version.
CREATE TABLE IF NOT EXISTS search.es_ledger (
    alias       text        NOT NULL,
    doc_id      uuid        NOT NULL,
    fingerprint text,
    version     bigint      NOT NULL,
    deleted     boolean     NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (alias, doc_id)
);

-- Tags as one string for the weight-C part of the tsvector (array_to_string is only STABLE).
CREATE OR REPLACE FUNCTION search.tags_text(tags text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN coalesce(array_to_string(tags, ' '), '');
