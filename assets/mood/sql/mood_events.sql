-- analytics.mood_events (seed 004, "Hypertable: mood_events"): one row per live journal entry with a mood
-- (its label, or for an AI-eligible entry without one the mood its text names: mood_source = 'inferred').
CREATE TABLE IF NOT EXISTS {schema}.mood_events (
    time                    TIMESTAMPTZ NOT NULL,
    user_id                 UUID NOT NULL,
    journal_entry_id        UUID NOT NULL,
    mood                    VARCHAR(20) NOT NULL,
    mood_score              NUMERIC(3,2) NOT NULL,
    tags                    TEXT[],
    word_count              INTEGER,
    mood_source             VARCHAR(10) NOT NULL DEFAULT 'label',  -- 'label' (the user's) | 'inferred' (from text)
    text_conflict           BOOLEAN NOT NULL DEFAULT false,       -- text valence clearly opposes the label
    text_valence            NUMERIC(3,2),                         -- scoring.text_valence, NULL when the text may not be read
    CONSTRAINT check_mood CHECK (mood IN ('ecstatic', 'happy', 'neutral', 'sad', 'anxious', 'angry')),
    CONSTRAINT check_mood_score CHECK (mood_score >= -1 AND mood_score <= 1),
    CONSTRAINT check_mood_source CHECK (mood_source IN ('label', 'inferred'))
) {partitioning};
-- Tables created before mood_source / text_conflict / text_valence existed.
ALTER TABLE {schema}.mood_events ADD COLUMN IF NOT EXISTS mood_source VARCHAR(10) NOT NULL DEFAULT 'label';
ALTER TABLE {schema}.mood_events ADD COLUMN IF NOT EXISTS text_conflict BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE {schema}.mood_events ADD COLUMN IF NOT EXISTS text_valence NUMERIC(3,2)
