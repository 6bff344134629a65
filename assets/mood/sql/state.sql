-- Internal bookkeeping of the mood/insights areas (no personal data: ids, days, hashes).
CREATE TABLE IF NOT EXISTS {schema}._analytics_meta (
    key     TEXT PRIMARY KEY,
    value   JSONB NOT NULL
);
-- Per live entry: a fingerprint of everything insights read (content only for AI-eligible entries).
CREATE TABLE IF NOT EXISTS {schema}._entry_state (
    entry_id    UUID PRIMARY KEY,
    user_id     UUID NOT NULL,
    day         DATE NOT NULL,
    fingerprint TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_entry_state_user ON {schema}._entry_state (user_id);
-- Rollup buckets whose inputs changed since their last refresh.
CREATE TABLE IF NOT EXISTS {schema}._rollup_dirty (
    rollup      TEXT NOT NULL,
    bucket      TIMESTAMPTZ NOT NULL,
    user_id     UUID NOT NULL,
    removed_user BOOLEAN NOT NULL DEFAULT false,
    marked_at   TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (rollup, bucket, user_id)
);
-- Insight periods whose inputs changed (read by the stale-insights sensor).
CREATE TABLE IF NOT EXISTS {schema}._insight_dirty (
    insight_type  TEXT NOT NULL,
    period_start  DATE NOT NULL,
    user_id       UUID NOT NULL,
    marked_at     TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (insight_type, period_start, user_id)
);
