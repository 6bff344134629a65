-- analytics.journal_insights (seed 004, "Hypertable: journal_insights"). Every seed column and check.
-- One deviation, forced by partitioning: the primary key is (id, generated_at), because a unique
-- index on a hypertable or a range-partitioned table must contain the partitioning column.
CREATE TABLE IF NOT EXISTS {schema}.journal_insights (
    id                      UUID NOT NULL DEFAULT gen_random_uuid(),
    user_id                 UUID NOT NULL,
    insight_type            VARCHAR(20) NOT NULL,
    start_date              DATE NOT NULL,
    end_date                DATE NOT NULL,
    generated_at            TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    summary                 TEXT NOT NULL,
    entries_analyzed        INTEGER NOT NULL,
    total_words             INTEGER NOT NULL,
    average_words           INTEGER NOT NULL,
    most_productive_day     VARCHAR(10),
    longest_streak          INTEGER,
    mood_positive_pct       NUMERIC(5,2),
    mood_neutral_pct        NUMERIC(5,2),
    mood_negative_pct       NUMERIC(5,2),
    dominant_mood           VARCHAR(20),
    themes                  JSONB,
    milestones              JSONB,
    suggestions             JSONB,
    PRIMARY KEY (id, generated_at),
    CONSTRAINT check_insight_type CHECK (insight_type IN ('weekly', 'monthly', 'yearly', 'custom')),
    CONSTRAINT check_date_range CHECK (end_date >= start_date),
    CONSTRAINT check_mood_percentages CHECK (
        mood_positive_pct >= 0 AND mood_positive_pct <= 100 AND
        mood_neutral_pct >= 0 AND mood_neutral_pct <= 100 AND
        mood_negative_pct >= 0 AND mood_negative_pct <= 100
    )
) {partitioning}
