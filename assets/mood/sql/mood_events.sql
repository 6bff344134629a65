-- analytics.mood_events (seed 004, "Hypertable: mood_events"): one row per live journal entry with a mood.
CREATE TABLE IF NOT EXISTS {schema}.mood_events (
    time                    TIMESTAMPTZ NOT NULL,
    user_id                 UUID NOT NULL,
    journal_entry_id        UUID NOT NULL,
    mood                    VARCHAR(20) NOT NULL,
    mood_score              NUMERIC(3,2) NOT NULL,
    tags                    TEXT[],
    word_count              INTEGER,
    CONSTRAINT check_mood CHECK (mood IN ('ecstatic', 'happy', 'neutral', 'sad', 'anxious', 'angry')),
    CONSTRAINT check_mood_score CHECK (mood_score >= -1 AND mood_score <= 1)
) {partitioning}
