CREATE INDEX {prefix_tsv} ON {table} USING gin (tsv);
CREATE INDEX {prefix_readers} ON {table} USING gin (readers);
CREATE INDEX {prefix_public} ON {table} (created_at DESC) WHERE is_public;
