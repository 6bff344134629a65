-- One version of the Mosaic story search documents, with the access fields (is_public, readers).
CREATE TABLE {table} (
    id              uuid PRIMARY KEY,
    legacy_id       uuid        NOT NULL,
    legacy_name     text,
    submitted_by    uuid        NOT NULL,
    legacy_admin    uuid,
    visibility      text        NOT NULL,
    is_public       boolean     NOT NULL,
    readers         uuid[]      NOT NULL,
    title           text        NOT NULL,
    content         text        NOT NULL,
    story_type      text,
    tags            text[]      NOT NULL,
    created_at      timestamptz,
    updated_at      timestamptz,
    approved        boolean     NOT NULL,
    source_version  bigint      NOT NULL,
    embedding       {embedding_type},
    model_id        text,
    vector_hash     text,
    fingerprint     text        NOT NULL,
    indexed_at      timestamptz NOT NULL DEFAULT now(),
    tsv             tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, search.fold(title)), 'A') ||
        setweight(to_tsvector('english'::regconfig, search.fold(content)), 'B') ||
        setweight(to_tsvector('english'::regconfig, search.fold(search.tags_text(tags))), 'C')) STORED
);
