-- Per-user tag list for autocomplete: prefix search on a btree text_pattern_ops index (no pg_trgm).
CREATE TABLE {table} (
    user_id     uuid    NOT NULL,
    tag         text    NOT NULL,
    tag_folded  text    NOT NULL,
    doc_count   integer NOT NULL,
    PRIMARY KEY (user_id, tag)
);
CREATE INDEX {prefix_prefix} ON {table} (user_id, tag_folded text_pattern_ops);
