-- PersonaKit (seed 001) in its "Option B: relational + JSONB" translation. Field names follow the
-- seed's TypeScript interfaces in snake_case; nested objects the seed keeps whole become JSONB.
-- The trait matrix, the knowledge store's hot layer and the graph metadata are derived by Tessera
-- (warehouse schema persona); observations carry the entities and relations they were parsed into.
CREATE SCHEMA IF NOT EXISTS personakit;
SET LOCAL search_path TO personakit;

CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = NOW();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TABLE persons (
    person_id       UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    display_name    VARCHAR(255) NOT NULL,
    email           VARCHAR(255) UNIQUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    deleted_at      TIMESTAMPTZ
);
CREATE TRIGGER persons_updated_at BEFORE UPDATE ON persons FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- 1.1 Observation
CREATE TABLE observations (
    observation_id      UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id           UUID NOT NULL REFERENCES persons(person_id) ON DELETE CASCADE,
    source_type         VARCHAR(20) NOT NULL,
    source_metadata     JSONB NOT NULL DEFAULT '{}'::jsonb, -- {source, timestamp, location, participants, documentType, assessmentType}
    content_raw         TEXT NOT NULL,
    content_structured  JSONB,                              -- e.g. assessment results {mbti:{type,scores}}, entities, relations
    media_attachments   JSONB NOT NULL DEFAULT '[]'::jsonb, -- MediaAttachment[]
    processing_status   VARCHAR(10) NOT NULL DEFAULT 'pending',
    approved_by         VARCHAR(255),
    approved_at         TIMESTAMPTZ,
    rejection_reason    TEXT,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    version             INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT observations_source_type_valid CHECK (source_type IN ('chat_log', 'document', 'interview', 'assessment', 'api_import')),
    CONSTRAINT observations_status_valid CHECK (processing_status IN ('pending', 'approved', 'processed', 'rejected'))
);
CREATE INDEX idx_observations_person_status ON observations(person_id, processing_status);
CREATE INDEX idx_observations_created ON observations(created_at);

-- 6.2 "Observations cannot be modified after creation (immutable)": content and provenance are frozen;
-- only the review workflow (status, approval metadata) may move, which bumps version and updated_at.
CREATE OR REPLACE FUNCTION observations_guard_immutable() RETURNS TRIGGER AS $$
BEGIN
    IF NEW.person_id IS DISTINCT FROM OLD.person_id
       OR NEW.source_type IS DISTINCT FROM OLD.source_type
       OR NEW.source_metadata IS DISTINCT FROM OLD.source_metadata
       OR NEW.content_raw IS DISTINCT FROM OLD.content_raw
       OR NEW.content_structured IS DISTINCT FROM OLD.content_structured
       OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'Observations are immutable after creation (observation %)', OLD.observation_id;
    END IF;
    NEW.updated_at = NOW();
    NEW.version = OLD.version + 1;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER observations_immutable BEFORE UPDATE ON observations
    FOR EACH ROW EXECUTE FUNCTION observations_guard_immutable();

-- 1.2 Mindscape (one per person)
CREATE TABLE mindscapes (
    mindscape_id                    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id                       UUID NOT NULL REFERENCES persons(person_id) ON DELETE CASCADE,
    version                         INTEGER NOT NULL DEFAULT 1,
    narrative                       JSONB NOT NULL DEFAULT '{}'::jsonb, -- {summary, keyThemes, lastUpdated}
    created_at                      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at                      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    last_processed_observation_id   UUID,
    processing_metadata             JSONB NOT NULL DEFAULT '{}'::jsonb -- {totalObservationsProcessed, lastProcessingDuration, nextScheduledProcessing}
);
CREATE UNIQUE INDEX idx_mindscapes_person ON mindscapes(person_id);
CREATE INDEX idx_mindscapes_updated ON mindscapes(updated_at);
CREATE TRIGGER mindscapes_updated_at BEFORE UPDATE ON mindscapes FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE TABLE goals (
    goal_id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    mindscape_id    UUID NOT NULL REFERENCES mindscapes(mindscape_id) ON DELETE CASCADE,
    description     TEXT NOT NULL,
    timeframe       VARCHAR(12) NOT NULL,
    priority        VARCHAR(6) NOT NULL,
    volatility      VARCHAR(4) NOT NULL,
    derived_from    UUID[] NOT NULL DEFAULT '{}',
    confidence      NUMERIC(4,3) NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT goals_timeframe_valid CHECK (timeframe IN ('short_term', 'medium_term', 'long_term')),
    CONSTRAINT goals_priority_valid CHECK (priority IN ('low', 'medium', 'high')),
    CONSTRAINT goals_volatility_valid CHECK (volatility IN ('low', 'high'))
);
CREATE INDEX idx_goals_mindscape ON goals(mindscape_id);

CREATE TABLE beliefs (
    belief_id       UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    mindscape_id    UUID NOT NULL REFERENCES mindscapes(mindscape_id) ON DELETE CASCADE,
    statement       TEXT NOT NULL,
    category        VARCHAR(50) NOT NULL,
    strength        NUMERIC(4,3) NOT NULL,
    volatility      VARCHAR(4) NOT NULL,
    derived_from    UUID[] NOT NULL DEFAULT '{}',
    confidence      NUMERIC(4,3) NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT beliefs_volatility_valid CHECK (volatility IN ('low', 'high'))
);
CREATE INDEX idx_beliefs_mindscape ON beliefs(mindscape_id);

-- 1.3 Persona Mapper
CREATE TABLE persona_mappers (
    mapper_id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name                VARCHAR(255) NOT NULL,
    purpose             TEXT NOT NULL,
    version             VARCHAR(20) NOT NULL,
    parent_version      VARCHAR(20),
    configuration       JSONB NOT NULL DEFAULT '{}'::jsonb, -- {requiredTraits, optionalTraits, knowledgeDomains, contextWindow, retrievalPipeline, outputTemplate}
    training_metadata   JSONB NOT NULL DEFAULT '{}'::jsonb,
    status              VARCHAR(10) NOT NULL DEFAULT 'draft',
    created_at          TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    created_by          VARCHAR(255) NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_by          VARCHAR(255) NOT NULL,
    CONSTRAINT mappers_status_valid CHECK (status IN ('draft', 'active', 'deprecated'))
);
-- 6.2 "Mappers cannot be deleted, only deprecated"
CREATE OR REPLACE FUNCTION persona_mappers_forbid_delete() RETURNS TRIGGER AS $$
BEGIN
    RAISE EXCEPTION 'Persona mappers cannot be deleted, only deprecated (mapper %)', OLD.mapper_id;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER persona_mappers_no_delete BEFORE DELETE ON persona_mappers
    FOR EACH ROW EXECUTE FUNCTION persona_mappers_forbid_delete();

-- 1.5 Actor
CREATE TABLE actors (
    actor_id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    actor_type              VARCHAR(10) NOT NULL,
    name                    VARCHAR(255) NOT NULL,
    description             TEXT NOT NULL DEFAULT '',
    capabilities            JSONB NOT NULL DEFAULT '{}'::jsonb,
    usage_metadata          JSONB NOT NULL DEFAULT '{}'::jsonb,
    authentication_method   VARCHAR(20) NOT NULL,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    status                  VARCHAR(10) NOT NULL DEFAULT 'active',
    CONSTRAINT actors_type_valid CHECK (actor_type IN ('ai_agent', 'human', 'system')),
    CONSTRAINT actors_auth_valid CHECK (authentication_method IN ('api_key', 'oauth', 'service_account')),
    CONSTRAINT actors_status_valid CHECK (status IN ('active', 'suspended', 'archived'))
);

CREATE TABLE actor_api_keys (
    key_id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    actor_id        UUID NOT NULL REFERENCES actors(actor_id) ON DELETE CASCADE,
    key_hash        VARCHAR(255) NOT NULL,
    name            VARCHAR(255) NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    last_used_at    TIMESTAMPTZ,
    expires_at      TIMESTAMPTZ,
    status          VARCHAR(10) NOT NULL DEFAULT 'active',
    CONSTRAINT api_keys_status_valid CHECK (status IN ('active', 'revoked'))
);

-- 1.4 Persona (temporary, TTL default 24 hours)
CREATE TABLE personas (
    persona_instance_id     UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    source_mapper_id        UUID NOT NULL REFERENCES persona_mappers(mapper_id),
    source_mindscape_id     UUID NOT NULL REFERENCES mindscapes(mindscape_id) ON DELETE CASCADE,
    person_id               UUID NOT NULL REFERENCES persons(person_id) ON DELETE CASCADE,
    composite_key           VARCHAR(200),
    persona_core            JSONB NOT NULL DEFAULT '{}'::jsonb,
    contextual_overlay      JSONB NOT NULL DEFAULT '{}'::jsonb,
    generation_metadata     JSONB NOT NULL DEFAULT '{}'::jsonb,
    usage_metadata          JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    expires_at              TIMESTAMPTZ NOT NULL,
    ttl_hours               INTEGER NOT NULL DEFAULT 24
);
CREATE INDEX idx_personas_mapper_mindscape ON personas(source_mapper_id, source_mindscape_id);
CREATE INDEX idx_personas_expiry ON personas(expires_at);
CREATE INDEX idx_personas_usage ON personas(((usage_metadata->>'lastAccessedAt')));

-- 1.6 Feedback
CREATE TABLE feedback (
    feedback_id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    persona_instance_id     UUID NOT NULL REFERENCES personas(persona_instance_id) ON DELETE CASCADE,
    actor_id                UUID NOT NULL REFERENCES actors(actor_id),
    task_context            JSONB NOT NULL DEFAULT '{}'::jsonb,
    ratings                 JSONB NOT NULL DEFAULT '{}'::jsonb,
    specific_feedback       JSONB NOT NULL DEFAULT '{}'::jsonb,
    impact                  JSONB NOT NULL DEFAULT '{}'::jsonb,
    submitted_at            TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    submitted_by            VARCHAR(255) NOT NULL,
    processing_status       VARCHAR(12) NOT NULL DEFAULT 'pending',
    processed_at            TIMESTAMPTZ,
    CONSTRAINT feedback_status_valid CHECK (processing_status IN ('pending', 'processed', 'incorporated'))
);
CREATE INDEX idx_feedback_persona ON feedback(persona_instance_id);
CREATE INDEX idx_feedback_status ON feedback(processing_status, submitted_at);

-- 1.7 Outbox tasks
CREATE TABLE outbox_tasks (
    task_id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    task_type       VARCHAR(50) NOT NULL,
    payload         JSONB NOT NULL DEFAULT '{}'::jsonb,
    status          VARCHAR(12) NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    run_after       TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    completed_at    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT outbox_status_valid CHECK (status IN ('pending', 'in_progress', 'done', 'failed'))
);
CREATE INDEX idx_outbox_status ON outbox_tasks(status, run_after);
CREATE TRIGGER outbox_updated_at BEFORE UPDATE ON outbox_tasks FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- 3.1 / 3.2 Sync queue and state
CREATE TABLE sync_queue (
    queue_id        UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    device_id       VARCHAR(100) NOT NULL,
    operation_type  VARCHAR(12) NOT NULL,
    payload         JSONB NOT NULL DEFAULT '{}'::jsonb,
    sync_metadata   JSONB NOT NULL DEFAULT '{}'::jsonb, -- {createdAt, attemptCount, lastAttemptAt, lastError, priority}
    status          VARCHAR(12) NOT NULL DEFAULT 'pending',
    CONSTRAINT sync_queue_op_valid CHECK (operation_type IN ('observation', 'feedback')),
    CONSTRAINT sync_queue_status_valid CHECK (status IN ('pending', 'in_progress', 'completed', 'failed'))
);
CREATE INDEX idx_sync_queue_device_status ON sync_queue(device_id, status);
CREATE INDEX idx_sync_queue_priority_created ON sync_queue((sync_metadata->>'priority'), (sync_metadata->>'createdAt'));

CREATE TABLE sync_state (
    device_id       VARCHAR(100) NOT NULL,
    person_id       UUID NOT NULL REFERENCES persons(person_id) ON DELETE CASCADE,
    last_sync       JSONB NOT NULL DEFAULT '{}'::jsonb,
    pending_items   JSONB NOT NULL DEFAULT '{}'::jsonb,
    cached_data     JSONB NOT NULL DEFAULT '{}'::jsonb,
    configuration   JSONB NOT NULL DEFAULT '{}'::jsonb,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (device_id, person_id)
);
CREATE TRIGGER sync_state_updated_at BEFORE UPDATE ON sync_state FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- 4.1 System events
CREATE TABLE system_events (
    event_id        UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    event_type      VARCHAR(50) NOT NULL,
    "timestamp"     TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    payload         JSONB NOT NULL DEFAULT '{}'::jsonb,
    source          JSONB NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT system_events_type_valid CHECK (event_type IN ('mindscape.updated', 'mindscape.processing.started',
        'mindscape.processing.completed', 'persona.generated', 'persona.accessed', 'persona.expired',
        'mapper.created', 'mapper.updated', 'mapper.training.completed', 'feedback.received', 'feedback.processed'))
);
CREATE INDEX idx_system_events_time ON system_events("timestamp");
