-- Study coach (seed 002, "Data Architecture Plan"): the PostgreSQL sketch made concrete, the MongoDB
-- collections as JSONB tables, knowledge resources for the vector store, and the outbox the seed
-- uses for vector updates.
CREATE SCHEMA IF NOT EXISTS coach;
SET LOCAL search_path TO coach;

CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = NOW();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TABLE users (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email           VARCHAR(255) NOT NULL UNIQUE,
    password_hash   VARCHAR(255) NOT NULL,
    display_name    VARCHAR(100) NOT NULL,
    timezone        VARCHAR(50) NOT NULL DEFAULT 'UTC',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    deleted_at      TIMESTAMPTZ -- deletion requests are soft deletes cascaded by workers
);

CREATE TABLE sessions (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title           VARCHAR(255) NOT NULL,
    focus           VARCHAR(255),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_sessions_user ON sessions(user_id);
CREATE TRIGGER sessions_updated_at BEFORE UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE TABLE plans (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id      UUID REFERENCES sessions(id) ON DELETE SET NULL,
    title           VARCHAR(255) NOT NULL,
    due_date        DATE,
    status          VARCHAR(20) NOT NULL DEFAULT 'active',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT plans_status_valid CHECK (status IN ('draft', 'active', 'completed', 'archived'))
);
CREATE INDEX idx_plans_user ON plans(user_id);

CREATE TABLE tasks (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id         UUID NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
    summary         TEXT NOT NULL,
    status          VARCHAR(20) NOT NULL DEFAULT 'todo',
    due_date        DATE,
    completed_at    TIMESTAMPTZ,
    CONSTRAINT tasks_status_valid CHECK (status IN ('todo', 'in_progress', 'done', 'skipped'))
);
CREATE INDEX idx_tasks_plan ON tasks(plan_id);
-- "GIN index for tasks status/due date filters": btree columns in GIN need btree_gin, which this
-- Postgres does not ship; a composite btree serves the same filters.
CREATE INDEX idx_tasks_status_due ON tasks(status, due_date);

CREATE TABLE study_sessions (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id      UUID REFERENCES sessions(id) ON DELETE SET NULL,
    minutes         INTEGER NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT study_sessions_minutes_valid CHECK (minutes >= 0)
);
CREATE INDEX idx_study_sessions_user_recorded ON study_sessions(user_id, recorded_at);

CREATE TABLE progress_snapshots (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    streak_days     INTEGER NOT NULL DEFAULT 0,
    completed_tasks INTEGER NOT NULL DEFAULT 0,
    study_minutes   INTEGER NOT NULL DEFAULT 0,
    captured_at     TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_progress_user_captured ON progress_snapshots(user_id, captured_at);

CREATE TABLE knowledge_resources (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title           VARCHAR(255) NOT NULL,
    content         TEXT NOT NULL,
    language        VARCHAR(5) NOT NULL DEFAULT 'en',
    tags            TEXT[] NOT NULL DEFAULT '{}',
    source          VARCHAR(50) NOT NULL DEFAULT 'upload',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_knowledge_resources_user ON knowledge_resources(user_id);
CREATE TRIGGER knowledge_resources_updated_at BEFORE UPDATE ON knowledge_resources FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- MongoDB collections
CREATE TABLE dialogue_messages (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id          UUID NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    user_id             UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role                VARCHAR(10) NOT NULL,
    content             TEXT NOT NULL,
    tool_calls          JSONB NOT NULL DEFAULT '[]'::jsonb,
    tokens              INTEGER NOT NULL DEFAULT 0,
    flagged_for_recall  BOOLEAN NOT NULL DEFAULT false, -- "vector db updated if assistant response flagged for recall"
    created_at          TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    deleted_at          TIMESTAMPTZ, -- learner deletion requests (soft delete flag)
    CONSTRAINT dialogue_role_valid CHECK (role IN ('user', 'assistant', 'system', 'tool'))
);
CREATE INDEX idx_dialogue_session_created ON dialogue_messages(session_id, created_at);

CREATE TABLE persona_snapshots (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    traits          JSONB NOT NULL DEFAULT '{}'::jsonb,
    preferences     JSONB NOT NULL DEFAULT '{}'::jsonb,
    keywords        TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_persona_snapshots_user ON persona_snapshots(user_id, created_at);
CREATE INDEX idx_persona_snapshots_keywords ON persona_snapshots USING gin (to_tsvector('simple', keywords));

CREATE TABLE audit_logs (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         UUID, -- no FK: audit logs outlive the account
    action          VARCHAR(50) NOT NULL,
    metadata        JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_coach_audit_created ON audit_logs(created_at); -- TTL 180 days, applied by retention

CREATE TABLE outbox (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    aggregate_type  VARCHAR(50) NOT NULL,
    aggregate_id    UUID NOT NULL,
    event_type      VARCHAR(50) NOT NULL,
    payload         JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    processed_at    TIMESTAMPTZ
);
CREATE INDEX idx_outbox_unprocessed ON outbox(created_at) WHERE processed_at IS NULL;
