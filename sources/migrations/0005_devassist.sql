-- AI Development Assistant (seed 003): agent lifecycle, governance, personas, audit.
-- Tables the seed's ER diagram names without SQL (user_sessions, session_activities,
-- agent_interactions, persona_activations, validation_results) are given here from the diagram.
CREATE SCHEMA IF NOT EXISTS devassist;
SET LOCAL search_path TO devassist;

DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'application_user') THEN
        CREATE ROLE application_user NOLOGIN;
    END IF;
END $$;

CREATE TABLE users (
    user_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email VARCHAR(255) NOT NULL UNIQUE,
    username VARCHAR(100) NOT NULL UNIQUE,
    full_name VARCHAR(255),
    preferences_json JSONB DEFAULT '{}',
    auth_provider VARCHAR(50) DEFAULT 'local',
    auth_external_id VARCHAR(255),
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    last_active_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    is_active BOOLEAN DEFAULT true,
    version INTEGER DEFAULT 1,
    CONSTRAINT users_email_format CHECK (email ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$')
);
CREATE INDEX idx_users_email ON users(email);
CREATE INDEX idx_users_username ON users(username);
CREATE INDEX idx_users_active ON users(is_active, last_active_at);
CREATE INDEX idx_users_auth_external ON users(auth_provider, auth_external_id);

CREATE TABLE user_sessions (
    session_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL,
    session_type VARCHAR(50) NOT NULL DEFAULT 'interactive',
    session_context JSONB DEFAULT '{}',
    started_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    ended_at TIMESTAMP WITH TIME ZONE,
    status VARCHAR(20) NOT NULL DEFAULT 'active',
    version INTEGER DEFAULT 1,
    CONSTRAINT user_sessions_status_valid CHECK (status IN ('active', 'ended', 'expired'))
);
CREATE INDEX idx_user_sessions_user ON user_sessions(user_id, started_at);

CREATE TABLE session_activities (
    activity_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id UUID NOT NULL REFERENCES user_sessions(session_id) ON DELETE CASCADE,
    activity_type VARCHAR(50) NOT NULL,
    details JSONB DEFAULT '{}',
    occurred_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);
CREATE INDEX idx_session_activities_session ON session_activities(session_id, occurred_at);

CREATE TABLE agent_sessions (
    agent_session_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(user_id),
    session_id UUID REFERENCES user_sessions(session_id),
    agent_type VARCHAR(100) NOT NULL,
    agent_config JSONB DEFAULT '{}',
    personas_active JSONB DEFAULT '[]',
    governance_state JSONB DEFAULT '{}',
    status VARCHAR(50) DEFAULT 'initializing',
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    started_at TIMESTAMP WITH TIME ZONE,
    completed_at TIMESTAMP WITH TIME ZONE,
    error_details JSONB,
    token_cost DECIMAL(10,4) DEFAULT 0.0000,
    estimated_cost DECIMAL(10,4),
    max_cost_limit DECIMAL(10,4),
    version INTEGER DEFAULT 1,
    CONSTRAINT agent_sessions_status_valid CHECK (
        status IN ('initializing', 'pending_approval', 'approved', 'running',
                  'completed', 'failed', 'cancelled', 'blocked')
    ),
    CONSTRAINT agent_sessions_cost_valid CHECK (token_cost >= 0 AND estimated_cost >= 0)
);
CREATE INDEX idx_agent_sessions_user ON agent_sessions(user_id);
CREATE INDEX idx_agent_sessions_status ON agent_sessions(status);
CREATE INDEX idx_agent_sessions_created ON agent_sessions(created_at);
CREATE INDEX idx_agent_sessions_type ON agent_sessions(agent_type);
CREATE INDEX idx_agent_sessions_cost ON agent_sessions(token_cost);
CREATE INDEX idx_agent_sessions_active ON agent_sessions(created_at, status)
    WHERE status IN ('running', 'pending_approval', 'approved');

CREATE TABLE governance_events (
    event_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_session_id UUID NOT NULL REFERENCES agent_sessions(agent_session_id),
    event_type VARCHAR(100) NOT NULL,
    framework_type VARCHAR(50) NOT NULL,
    approved BOOLEAN NOT NULL,
    validation_context JSONB DEFAULT '{}',
    decision_details JSONB DEFAULT '{}',
    decision_reason TEXT,
    fallback_triggered BOOLEAN DEFAULT false,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    created_by VARCHAR(255),
    correlation_id UUID,
    CONSTRAINT governance_events_framework_valid CHECK (
        framework_type IN ('sarah_three_questions', 'alex_3am_test', 'consensus', 'emergency')
    ),
    CONSTRAINT governance_events_type_valid CHECK (
        event_type IN ('pre_agent_spawn', 'post_agent_spawn', 'pre_persona_activation',
                      'post_persona_activation', 'cost_validation', 'consensus_check',
                      'emergency_stop', 'circuit_breaker')
    )
);
CREATE INDEX idx_governance_events_session ON governance_events(agent_session_id);
CREATE INDEX idx_governance_events_type ON governance_events(event_type);
CREATE INDEX idx_governance_events_framework ON governance_events(framework_type);
CREATE INDEX idx_governance_events_approved ON governance_events(approved);
CREATE INDEX idx_governance_events_created ON governance_events(created_at);
CREATE INDEX idx_governance_events_correlation ON governance_events(correlation_id);
CREATE INDEX idx_governance_events_rejected ON governance_events(created_at, decision_reason)
    WHERE approved = false;

CREATE TABLE validation_results (
    result_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id UUID NOT NULL REFERENCES governance_events(event_id) ON DELETE CASCADE,
    validator VARCHAR(100) NOT NULL,
    passed BOOLEAN NOT NULL,
    score NUMERIC(5,4),
    details JSONB DEFAULT '{}',
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);
CREATE INDEX idx_validation_results_event ON validation_results(event_id);

CREATE TABLE agent_interactions (
    interaction_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_session_id UUID NOT NULL REFERENCES agent_sessions(agent_session_id) ON DELETE CASCADE,
    role VARCHAR(20) NOT NULL,
    content TEXT NOT NULL,
    tokens INTEGER NOT NULL DEFAULT 0,
    cost DECIMAL(10,4) NOT NULL DEFAULT 0,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    CONSTRAINT agent_interactions_role_valid CHECK (role IN ('user', 'agent', 'system', 'tool'))
);
CREATE INDEX idx_agent_interactions_session ON agent_interactions(agent_session_id, created_at);

CREATE TABLE personas (
    persona_id VARCHAR(100) PRIMARY KEY,
    persona_name VARCHAR(255) NOT NULL,
    persona_version VARCHAR(20) NOT NULL,
    specialization VARCHAR(255) NOT NULL,
    capabilities JSONB DEFAULT '{}',
    activation_rules JSONB DEFAULT '{}',
    crisis_scenarios JSONB DEFAULT '{}',
    behavioral_patterns JSONB DEFAULT '{}',
    is_active BOOLEAN DEFAULT true,
    is_core BOOLEAN DEFAULT false,
    priority_level INTEGER DEFAULT 5,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    CONSTRAINT personas_priority_valid CHECK (priority_level BETWEEN 1 AND 10),
    UNIQUE(persona_name, persona_version)
);
CREATE INDEX idx_personas_active ON personas(is_active);
CREATE INDEX idx_personas_core ON personas(is_core);
CREATE INDEX idx_personas_priority ON personas(priority_level);
CREATE INDEX idx_personas_specialization ON personas(specialization);

CREATE TABLE persona_activations (
    activation_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_session_id UUID NOT NULL REFERENCES agent_sessions(agent_session_id) ON DELETE CASCADE,
    persona_id VARCHAR(100) NOT NULL REFERENCES personas(persona_id),
    activation_trigger VARCHAR(100) NOT NULL,
    activation_context JSONB DEFAULT '{}',
    activated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    deactivated_at TIMESTAMP WITH TIME ZONE,
    results JSONB DEFAULT '{}'
);
CREATE INDEX idx_persona_activations_session ON persona_activations(agent_session_id);

-- Referential integrity (seed: "Foreign key constraints with cascading rules")
ALTER TABLE user_sessions
    ADD CONSTRAINT fk_user_sessions_user
    FOREIGN KEY (user_id) REFERENCES users(user_id) ON DELETE CASCADE;
ALTER TABLE agent_sessions
    ADD CONSTRAINT fk_agent_sessions_user
    FOREIGN KEY (user_id) REFERENCES users(user_id) ON DELETE CASCADE;
ALTER TABLE governance_events
    ADD CONSTRAINT fk_governance_events_session
    FOREIGN KEY (agent_session_id) REFERENCES agent_sessions(agent_session_id) ON DELETE CASCADE;

-- Business rule: governance approval before agent activation
CREATE OR REPLACE FUNCTION check_governance_approval()
RETURNS TRIGGER AS $$
BEGIN
    IF NEW.status = 'running' AND OLD.status != 'running' THEN
        IF NOT EXISTS (
            SELECT 1 FROM devassist.governance_events
            WHERE agent_session_id = NEW.agent_session_id
            AND approved = true
            AND event_type IN ('pre_agent_spawn', 'consensus_check')
        ) THEN
            RAISE EXCEPTION 'Agent cannot start without governance approval';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trigger_check_governance_approval
    BEFORE UPDATE ON agent_sessions
    FOR EACH ROW EXECUTE FUNCTION check_governance_approval();

-- Immutable audit log for compliance
CREATE TABLE audit_log (
    audit_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    table_name VARCHAR(100) NOT NULL,
    record_id UUID NOT NULL,
    operation VARCHAR(10) NOT NULL,
    old_values JSONB,
    new_values JSONB,
    changed_by VARCHAR(255),
    changed_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    correlation_id UUID,
    CONSTRAINT audit_log_operation_valid CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE'))
);
CREATE INDEX idx_audit_log_record ON audit_log(table_name, record_id);
CREATE INDEX idx_audit_log_changed_at ON audit_log(changed_at);

-- The seed's trigger body reads NEW.user_id, NEW.agent_session_id and NEW.event_id on every table,
-- which PL/pgSQL rejects for tables lacking one of them, and NEW is NULL on DELETE. Same intent,
-- made to run: the record id is read from the row as JSON, and an empty correlation id is NULL.
CREATE OR REPLACE FUNCTION audit_trigger_function()
RETURNS TRIGGER AS $$
DECLARE
    row_json JSONB := to_jsonb(COALESCE(NEW, OLD));
BEGIN
    INSERT INTO devassist.audit_log (table_name, record_id, operation, old_values, new_values, changed_by, correlation_id)
    VALUES (
        TG_TABLE_NAME,
        COALESCE(row_json->>'user_id', row_json->>'agent_session_id', row_json->>'event_id')::UUID,
        TG_OP,
        CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) ELSE NULL END,
        CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) ELSE NULL END,
        current_setting('app.current_user', true),
        NULLIF(current_setting('app.correlation_id', true), '')::UUID
    );
    RETURN COALESCE(NEW, OLD);
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_users AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION audit_trigger_function();
CREATE TRIGGER audit_agent_sessions AFTER INSERT OR UPDATE OR DELETE ON agent_sessions
    FOR EACH ROW EXECUTE FUNCTION audit_trigger_function();
CREATE TRIGGER audit_governance_events AFTER INSERT OR UPDATE OR DELETE ON governance_events
    FOR EACH ROW EXECUTE FUNCTION audit_trigger_function();

-- Seed partition-maintenance helper (kept as given; governance_events itself is not partitioned here)
CREATE OR REPLACE FUNCTION create_monthly_partition(table_name text, start_date date)
RETURNS void AS $$
DECLARE
    partition_name text;
    end_date date;
BEGIN
    partition_name := table_name || '_' || to_char(start_date, 'YYYY_MM');
    end_date := start_date + interval '1 month';
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                   partition_name, table_name, start_date, end_date);
END;
$$ LANGUAGE plpgsql;

-- Schema versioning table (the product's own; Tessera's migrations are tracked in public.tessera_migrations)
CREATE TABLE schema_migrations (
    version INTEGER PRIMARY KEY,
    description VARCHAR(500) NOT NULL,
    applied_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    rollback_sql TEXT,
    checksum VARCHAR(64)
);

CREATE VIEW active_agent_sessions AS
SELECT a.agent_session_id, a.user_id, a.agent_type, a.status, a.token_cost, a.created_at,
    (SELECT COUNT(*) FROM devassist.governance_events g
     WHERE g.agent_session_id = a.agent_session_id AND g.approved = true) AS approvals,
    (SELECT COUNT(*) FROM devassist.governance_events g
     WHERE g.agent_session_id = a.agent_session_id AND g.approved = false) AS rejections
FROM devassist.agent_sessions a
WHERE a.status IN ('running', 'pending_approval', 'approved');

CREATE VIEW user_activity_summary AS
SELECT u.user_id, u.username, u.last_active_at,
    COUNT(a.agent_session_id) AS total_sessions,
    SUM(a.token_cost) AS total_cost,
    AVG(a.token_cost) AS avg_cost_per_session,
    MAX(a.created_at) AS last_session_at
FROM devassist.users u
LEFT JOIN devassist.agent_sessions a ON u.user_id = a.user_id
WHERE u.is_active = true
GROUP BY u.user_id, u.username, u.last_active_at;

CREATE OR REPLACE FUNCTION db_health_check()
RETURNS TABLE (metric VARCHAR(50), value NUMERIC, status VARCHAR(20), threshold NUMERIC) AS $$
BEGIN
    RETURN QUERY
    WITH health_metrics AS (
        SELECT 'active_connections'::VARCHAR(50) AS metric, COUNT(*)::NUMERIC AS value, 100::NUMERIC AS threshold
        FROM pg_stat_activity WHERE state = 'active'
        UNION ALL
        SELECT 'db_size_mb', (pg_database_size(current_database()) / 1024 / 1024)::NUMERIC, 10240
        UNION ALL
        SELECT 'cache_hit_ratio',
               CASE WHEN blks_read + blks_hit = 0 THEN 100
                    ELSE (blks_hit * 100.0 / (blks_hit + blks_read)) END,
               90
        FROM pg_stat_database WHERE datname = current_database()
    )
    SELECT h.metric, h.value,
        (CASE WHEN h.value <= h.threshold THEN 'OK' ELSE 'WARNING' END)::VARCHAR(20),
        h.threshold
    FROM health_metrics h;
END;
$$ LANGUAGE plpgsql;

-- Row level security (seed). Table owners bypass it; the products' application role does not.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE governance_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY user_isolation_policy ON users
    FOR ALL TO application_user
    USING (user_id = current_setting('app.current_user_id')::UUID);
CREATE POLICY agent_session_user_policy ON agent_sessions
    FOR ALL TO application_user
    USING (user_id = current_setting('app.current_user_id')::UUID);
CREATE POLICY governance_events_policy ON governance_events
    FOR SELECT TO application_user
    USING (EXISTS (
        SELECT 1 FROM devassist.agent_sessions
        WHERE agent_session_id = governance_events.agent_session_id
        AND user_id = current_setting('app.current_user_id')::UUID
    ));
-- Not carried over: pgcrypto's encrypt_sensitive/decrypt_sensitive (this Postgres ships no contrib
-- extensions) and the pg_cron schedule of cleanup_old_data (retention is a Tessera asset instead).
