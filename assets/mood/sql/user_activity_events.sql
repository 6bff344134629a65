-- analytics.user_activity_events (seed 004). Event identity lives in metadata->>'event_key'.
CREATE TABLE IF NOT EXISTS {schema}.user_activity_events (
    time                    TIMESTAMPTZ NOT NULL,
    user_id                 UUID NOT NULL,
    event_type              VARCHAR(50) NOT NULL,
    metadata                JSONB,
    CONSTRAINT check_event_type CHECK (event_type IN (
        'login', 'logout', 'entry_created', 'entry_updated', 'entry_deleted',
        'insight_viewed', 'settings_updated', 'profile_updated'
    ))
) {partitioning}
