CREATE INDEX {prefix_tsv} ON {table} USING gin (tsv);
CREATE INDEX {prefix_user_date} ON {table} (user_id, date DESC);
CREATE INDEX {prefix_user_mood} ON {table} (user_id, mood);
