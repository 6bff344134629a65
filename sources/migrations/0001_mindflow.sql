-- MindFlow write database (seed 004, "PostgreSQL - Write Database", schema mindflow_write -> mindflow),
-- plus the seed's MongoDB logging collections modelled as tables with JSONB.
CREATE SCHEMA IF NOT EXISTS mindflow;
SET LOCAL search_path TO mindflow;

CREATE TABLE users (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email               VARCHAR(255) NOT NULL UNIQUE,
    password_hash       VARCHAR(255) NOT NULL, -- bcrypt hash
    display_name        VARCHAR(100) NOT NULL,
    photo_url           VARCHAR(500),
    timezone            VARCHAR(50) DEFAULT 'UTC',
    language            VARCHAR(5) DEFAULT 'en',
    theme               VARCHAR(10) DEFAULT 'system',
    created_at          TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    last_login_at       TIMESTAMPTZ,
    deleted_at          TIMESTAMPTZ, -- Soft delete
    is_active           BOOLEAN NOT NULL DEFAULT true,
    email_verified      BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT check_theme CHECK (theme IN ('light', 'dark', 'system')),
    CONSTRAINT check_language CHECK (language IN ('en', 'pt')),
    CONSTRAINT check_email_format CHECK (email ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Z|a-z]{2,}$')
);
CREATE INDEX idx_users_email ON users(email) WHERE deleted_at IS NULL;
CREATE INDEX idx_users_created_at ON users(created_at);
CREATE INDEX idx_users_deleted_at ON users(deleted_at) WHERE deleted_at IS NOT NULL;

CREATE OR REPLACE FUNCTION update_updated_at_column()
RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = NOW();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER users_updated_at BEFORE UPDATE ON users
FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
COMMENT ON TABLE users IS 'Core user account information';
COMMENT ON COLUMN users.deleted_at IS 'Soft delete timestamp for GDPR compliance';

CREATE TABLE user_gdpr_consent (
    id                              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                         UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    terms_accepted_at               TIMESTAMPTZ NOT NULL,
    terms_version                   VARCHAR(20) NOT NULL,
    privacy_policy_accepted_at      TIMESTAMPTZ NOT NULL,
    privacy_policy_version          VARCHAR(20) NOT NULL,
    data_processing_consent         BOOLEAN NOT NULL DEFAULT false,
    marketing_consent               BOOLEAN NOT NULL DEFAULT false,
    consent_ip_address              INET,
    consent_user_agent              TEXT,
    created_at                      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at                      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT uq_user_consent UNIQUE (user_id)
);
CREATE INDEX idx_gdpr_user_id ON user_gdpr_consent(user_id);
CREATE INDEX idx_gdpr_marketing_consent ON user_gdpr_consent(marketing_consent) WHERE marketing_consent = true;
CREATE TRIGGER gdpr_consent_updated_at BEFORE UPDATE ON user_gdpr_consent
FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
COMMENT ON TABLE user_gdpr_consent IS 'GDPR consent tracking for legal compliance';

CREATE TABLE user_settings (
    id                              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                         UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    auto_save                       BOOLEAN DEFAULT true,
    private_mode                    BOOLEAN DEFAULT false, -- Excludes all entries from AI
    email_weekly_insights           BOOLEAN DEFAULT true,
    email_monthly_insights          BOOLEAN DEFAULT true,
    email_reminder_to_write         BOOLEAN DEFAULT false,
    created_at                      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at                      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT uq_user_settings UNIQUE (user_id)
);
CREATE INDEX idx_settings_user_id ON user_settings(user_id);
CREATE TRIGGER settings_updated_at BEFORE UPDATE ON user_settings
FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
COMMENT ON TABLE user_settings IS 'User preferences and notification settings';

CREATE TABLE journal_entries (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    date                DATE NOT NULL,
    title               VARCHAR(200) NOT NULL,
    content             TEXT NOT NULL, -- Markdown format
    mood                VARCHAR(20),
    location            VARCHAR(200),
    weather             VARCHAR(100),
    word_count          INTEGER NOT NULL DEFAULT 0,
    reading_time        INTEGER NOT NULL DEFAULT 0, -- seconds
    is_private          BOOLEAN NOT NULL DEFAULT false, -- Excludes from AI insights
    version             INTEGER NOT NULL DEFAULT 1, -- Optimistic locking
    created_at          TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    deleted_at          TIMESTAMPTZ,
    CONSTRAINT uq_user_date UNIQUE (user_id, date),
    CONSTRAINT check_mood CHECK (mood IN ('ecstatic', 'happy', 'neutral', 'sad', 'anxious', 'angry')),
    CONSTRAINT check_content_length CHECK (char_length(content) <= 10000),
    CONSTRAINT check_word_count CHECK (word_count >= 0),
    CONSTRAINT check_reading_time CHECK (reading_time >= 0)
);
CREATE INDEX idx_entries_user_id ON journal_entries(user_id) WHERE deleted_at IS NULL;
CREATE INDEX idx_entries_date ON journal_entries(date DESC) WHERE deleted_at IS NULL;
CREATE INDEX idx_entries_created_at ON journal_entries(created_at DESC);
CREATE INDEX idx_entries_mood ON journal_entries(mood) WHERE mood IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX idx_entries_is_private ON journal_entries(is_private) WHERE is_private = false;
CREATE INDEX idx_entries_user_date ON journal_entries(user_id, date DESC) WHERE deleted_at IS NULL;
CREATE INDEX idx_entries_active ON journal_entries(user_id, date DESC) WHERE deleted_at IS NULL;
CREATE TRIGGER entries_updated_at BEFORE UPDATE ON journal_entries
FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
COMMENT ON TABLE journal_entries IS 'Core journal entries with mood and metadata';
COMMENT ON COLUMN journal_entries.date IS 'Date of journal entry (not created_at) - unique per user';
COMMENT ON COLUMN journal_entries.version IS 'Version number for optimistic concurrency control';

CREATE TABLE tags (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name                VARCHAR(50) NOT NULL UNIQUE,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT check_tag_name CHECK (char_length(name) > 0 AND name = lower(trim(name)))
);
CREATE INDEX idx_tags_name ON tags(name);
COMMENT ON TABLE tags IS 'Normalized tag definitions';

CREATE TABLE journal_entry_tags (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    journal_entry_id    UUID NOT NULL REFERENCES journal_entries(id) ON DELETE CASCADE,
    tag_id              UUID NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT uq_entry_tag UNIQUE (journal_entry_id, tag_id)
);
CREATE INDEX idx_entry_tags_entry ON journal_entry_tags(journal_entry_id);
CREATE INDEX idx_entry_tags_tag ON journal_entry_tags(tag_id);

CREATE TABLE attachments (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    journal_entry_id    UUID NOT NULL REFERENCES journal_entries(id) ON DELETE CASCADE,
    file_name           VARCHAR(255) NOT NULL,
    file_size           BIGINT NOT NULL,
    mime_type           VARCHAR(100) NOT NULL,
    s3_key              VARCHAR(500) NOT NULL,
    s3_url              VARCHAR(1000) NOT NULL,
    thumbnail_s3_key    VARCHAR(500),
    thumbnail_url       VARCHAR(1000),
    uploaded_at         TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    deleted_at          TIMESTAMPTZ,
    CONSTRAINT check_file_size CHECK (file_size > 0 AND file_size <= 52428800),
    CONSTRAINT check_mime_type CHECK (mime_type IN ('image/jpeg', 'image/png', 'image/gif', 'image/webp', 'application/pdf'))
);
CREATE INDEX idx_attachments_entry ON attachments(journal_entry_id) WHERE deleted_at IS NULL;
CREATE INDEX idx_attachments_uploaded_at ON attachments(uploaded_at DESC);

CREATE TABLE user_streaks (
    id                      UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                 UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    current_streak          INTEGER NOT NULL DEFAULT 0,
    longest_streak          INTEGER NOT NULL DEFAULT 0,
    last_entry_date         DATE,
    streak_start_date       DATE,
    total_entries           INTEGER NOT NULL DEFAULT 0,
    total_words             INTEGER NOT NULL DEFAULT 0,
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT uq_user_streak UNIQUE (user_id),
    CONSTRAINT check_streaks CHECK (current_streak >= 0 AND longest_streak >= current_streak)
);
CREATE INDEX idx_streaks_user ON user_streaks(user_id);
CREATE INDEX idx_streaks_current ON user_streaks(current_streak DESC);
CREATE TRIGGER streaks_updated_at BEFORE UPDATE ON user_streaks
FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- MongoDB "mindflow_logs" collections as tables. The seed's TTL indexes become retention rules
-- applied by Tessera's retention assets (audit 7 years, application logs 30 days, API requests 90 days).
CREATE TABLE audit_logs (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             UUID, -- no FK: audit logs outlive the account (GDPR: kept 7 years)
    action              VARCHAR(40) NOT NULL,
    "timestamp"         TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    metadata            JSONB NOT NULL DEFAULT '{}'::jsonb, -- {entryId, changes:{before,after}, reason}
    ip_address          INET,
    user_agent          TEXT,
    request_id          UUID NOT NULL DEFAULT gen_random_uuid(),
    data_category       VARCHAR(20) NOT NULL DEFAULT 'user_data',
    retention_policy    VARCHAR(20) NOT NULL DEFAULT '7_years',
    searchable_text     TEXT,
    CONSTRAINT check_audit_action CHECK (action IN ('LOGIN', 'LOGOUT', 'ENTRY_CREATE', 'ENTRY_UPDATE',
        'ENTRY_DELETE', 'DATA_EXPORT', 'ACCOUNT_DELETE', 'SETTINGS_UPDATE', 'GDPR_CONSENT_UPDATE',
        'PROFILE_UPDATE', 'INSIGHT_VIEW')),
    CONSTRAINT check_audit_category CHECK (data_category IN ('user_data', 'system_event', 'security_event'))
);
CREATE INDEX idx_audit_user_time ON audit_logs(user_id, "timestamp" DESC);
CREATE INDEX idx_audit_action_time ON audit_logs(action, "timestamp" DESC);
CREATE INDEX idx_audit_time ON audit_logs("timestamp" DESC);
CREATE INDEX idx_audit_ip ON audit_logs(ip_address);
CREATE UNIQUE INDEX idx_audit_request_id ON audit_logs(request_id);
CREATE INDEX idx_audit_searchable_text ON audit_logs USING gin (to_tsvector('simple', coalesce(searchable_text, '')));
COMMENT ON TABLE audit_logs IS 'MongoDB collection audit_logs: complete audit trail of user actions (kept 7 years)';

CREATE TABLE application_logs (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    "timestamp"         TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    level               VARCHAR(5) NOT NULL,
    service             VARCHAR(40) NOT NULL,
    message             TEXT NOT NULL,
    context             JSONB NOT NULL DEFAULT '{}'::jsonb, -- {userId, requestId, function, line}
    error               JSONB,                              -- {name, message, stack, code}
    duration            INTEGER,                            -- ms
    pod                 VARCHAR(100),
    node                VARCHAR(100),
    CONSTRAINT check_log_level CHECK (level IN ('DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL')),
    CONSTRAINT check_log_service CHECK (service IN ('auth-service', 'command-service', 'query-service', 'ai-processing-service'))
);
CREATE INDEX idx_applog_time ON application_logs("timestamp" DESC);
CREATE INDEX idx_applog_level_time ON application_logs(level, "timestamp" DESC);
CREATE INDEX idx_applog_service_time ON application_logs(service, "timestamp" DESC);
CREATE INDEX idx_applog_request ON application_logs((context->>'requestId'));
CREATE INDEX idx_applog_user_time ON application_logs((context->>'userId'), "timestamp" DESC);
COMMENT ON TABLE application_logs IS 'MongoDB collection application_logs (kept 30 days)';

CREATE TABLE api_requests (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    "timestamp"         TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    request_id          UUID NOT NULL,
    method              VARCHAR(10) NOT NULL,
    path                VARCHAR(500) NOT NULL,
    query               JSONB NOT NULL DEFAULT '{}'::jsonb,
    headers             JSONB NOT NULL DEFAULT '{}'::jsonb,
    body                JSONB, -- sanitized (no passwords)
    status_code         INTEGER NOT NULL,
    response_time       INTEGER, -- ms
    response_size       INTEGER, -- bytes
    user_id             UUID,
    ip_address          INET,
    error               JSONB
);
CREATE INDEX idx_api_time ON api_requests("timestamp" DESC);
CREATE INDEX idx_api_user_time ON api_requests(user_id, "timestamp" DESC);
CREATE UNIQUE INDEX idx_api_request_id ON api_requests(request_id);
CREATE INDEX idx_api_status_time ON api_requests(status_code, "timestamp" DESC);
CREATE INDEX idx_api_path ON api_requests(path, method, "timestamp" DESC);
COMMENT ON TABLE api_requests IS 'MongoDB collection api_requests (kept 90 days)';
