-- Fallback (no TimescaleDB): the two continuous aggregates as tables with the same columns and types
-- as the aggregates' SELECT lists, maintained bucket by bucket (assets.mood.rollups).
CREATE TABLE IF NOT EXISTS {schema}.mood_daily_summary (
    day                 TIMESTAMPTZ NOT NULL,
    user_id             UUID NOT NULL,
    entry_count         BIGINT NOT NULL,
    avg_mood_score      NUMERIC,
    most_common_mood    VARCHAR(20),
    total_words         BIGINT,
    PRIMARY KEY (day, user_id)
);
CREATE INDEX IF NOT EXISTS idx_mood_daily_user ON {schema}.mood_daily_summary (user_id, day DESC);
CREATE TABLE IF NOT EXISTS {schema}.user_weekly_activity (
    week                TIMESTAMPTZ NOT NULL,
    user_id             UUID NOT NULL,
    login_count         BIGINT NOT NULL,
    entries_created     BIGINT NOT NULL,
    entries_updated     BIGINT NOT NULL,
    total_events        BIGINT NOT NULL,
    PRIMARY KEY (week, user_id)
);
CREATE INDEX IF NOT EXISTS idx_weekly_activity_user ON {schema}.user_weekly_activity (user_id, week DESC);
