CREATE INDEX IF NOT EXISTS idx_mood_events_user_time ON {schema}.mood_events (user_id, time DESC);
CREATE INDEX IF NOT EXISTS idx_mood_events_mood ON {schema}.mood_events (mood, time DESC);
CREATE INDEX IF NOT EXISTS idx_mood_events_entry ON {schema}.mood_events (journal_entry_id);
CREATE INDEX IF NOT EXISTS idx_activity_user_time ON {schema}.user_activity_events (user_id, time DESC);
CREATE INDEX IF NOT EXISTS idx_activity_type ON {schema}.user_activity_events (event_type, time DESC);
CREATE INDEX IF NOT EXISTS idx_activity_event_key ON {schema}.user_activity_events ((metadata->>'event_key'));
CREATE INDEX IF NOT EXISTS idx_activity_entry ON {schema}.user_activity_events ((metadata->>'entry_id'));
