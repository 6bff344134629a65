-- One version of the journal search documents. tsvector weights: title A, content B, tags C, each
-- folded and analysed with the built-in `english` configuration (lowercase, English stop words,
-- Snowball English stemmer): the closest Postgres gets to journal_analyzer.
CREATE TABLE {table} (
    id              uuid PRIMARY KEY,
    user_id         uuid        NOT NULL,
    date            date        NOT NULL,
    title           text        NOT NULL,
    content         text        NOT NULL,
    mood            text,
    tags            text[]      NOT NULL,
    location        text,
    word_count      integer,
    is_private      boolean     NOT NULL,
    private_mode    boolean     NOT NULL,
    ai_eligible     boolean     NOT NULL,
    created_at      timestamptz,
    updated_at      timestamptz,
    entry_version   integer,
    source_version  bigint      NOT NULL,
    embedding       {embedding_type},
    model_id        text,
    vector_hash     text,
    fingerprint     text        NOT NULL,
    indexed_at      timestamptz NOT NULL DEFAULT now(),
    tsv             tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, search.fold(title)), 'A') ||
        setweight(to_tsvector('english'::regconfig, search.fold(content)), 'B') ||
        setweight(to_tsvector('english'::regconfig, search.fold(search.tags_text(tags))), 'C')) STORED,
    CHECK (ai_eligible OR embedding IS NULL)
);
