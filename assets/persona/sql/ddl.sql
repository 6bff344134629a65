-- The persona schema: every table the persona assets write. Idempotent; run at the start of each asset.
CREATE SCHEMA IF NOT EXISTS persona;

-- What each incremental asset last computed per entity (person, legacy, story): the fingerprint of
-- its inputs, so the next run recomputes only entities whose inputs changed.
CREATE TABLE IF NOT EXISTS persona.refresh_state (
    area          TEXT NOT NULL,        -- 'traits', 'knowledge', 'graph', 'related_stories', 'story_metadata'
    entity_key    TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    as_of         TIMESTAMPTZ NOT NULL, -- the run's reference time for decay and TTL
    redecay       BOOLEAN NOT NULL DEFAULT false, -- has time-dependent output (high-volatility traits)
    refreshed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (area, entity_key)
);

-- PersonaKit TraitEntry, one row per (person, trait). Confidence is deliberately not CHECK-constrained:
-- the blocking asset check guards it, so a scoring bug fails the check instead of hiding as a write error.
CREATE TABLE IF NOT EXISTS persona.trait_matrix (
    person_id     UUID NOT NULL,
    trait_name    TEXT NOT NULL,
    value         JSONB NOT NULL,
    data_type     TEXT NOT NULL CHECK (data_type IN ('numeric', 'categorical', 'complex')),
    volatility    TEXT NOT NULL CHECK (volatility IN ('low', 'high')),
    derived_from  UUID[] NOT NULL,
    confidence    DOUBLE PRECISION NOT NULL,
    metadata      JSONB NOT NULL DEFAULT '{}'::jsonb,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (person_id, trait_name)
);
CREATE INDEX IF NOT EXISTS idx_trait_matrix_derived_from ON persona.trait_matrix USING GIN (derived_from);

-- PersonaKit KnowledgeEntry (hot layer). expires_at = updated evidence time + ttl; NULL ttl never expires.
CREATE TABLE IF NOT EXISTS persona.knowledge_entries (
    entry_id      UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    mindscape_id  UUID NOT NULL,
    person_id     UUID NOT NULL,
    key           TEXT NOT NULL,
    value         JSONB NOT NULL,
    data_type     TEXT NOT NULL CHECK (data_type IN ('string', 'number', 'boolean', 'date', 'json')),
    category      TEXT NOT NULL,
    volatility    TEXT NOT NULL CHECK (volatility IN ('low', 'high')),
    derived_from  UUID[] NOT NULL,
    confidence    DOUBLE PRECISION NOT NULL,
    ttl           INTEGER,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    version       INTEGER NOT NULL DEFAULT 1,
    expires_at    TIMESTAMPTZ,
    UNIQUE (mindscape_id, key)
);
CREATE INDEX IF NOT EXISTS idx_knowledge_mindscape_key ON persona.knowledge_entries (mindscape_id, key);
CREATE INDEX IF NOT EXISTS idx_knowledge_category ON persona.knowledge_entries (mindscape_id, category);
CREATE INDEX IF NOT EXISTS idx_knowledge_expires ON persona.knowledge_entries (expires_at) WHERE expires_at IS NOT NULL;

-- PersonaKit GraphMetadata (cold layer), one row per person (with their mindscape when they have one).
CREATE TABLE IF NOT EXISTS persona.graph_metadata (
    person_id          UUID PRIMARY KEY,
    mindscape_id       UUID,
    total_nodes        INTEGER NOT NULL,
    total_edges        INTEGER NOT NULL,
    graph_density      DOUBLE PRECISION NOT NULL,
    central_nodes      TEXT[] NOT NULL,
    communities        JSONB NOT NULL,
    analysis_version   TEXT NOT NULL,
    last_analysis_run  TIMESTAMPTZ NOT NULL,
    derived_from       UUID[] NOT NULL
);

-- Study coach: one progress snapshot per learner per day (daily partitions).
CREATE TABLE IF NOT EXISTS persona.progress_snapshots (
    user_id          UUID NOT NULL,
    snapshot_date    DATE NOT NULL,
    streak_days      INTEGER NOT NULL,
    completed_tasks  INTEGER NOT NULL,
    study_minutes    INTEGER NOT NULL,
    captured_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, snapshot_date)
);
CREATE INDEX IF NOT EXISTS idx_progress_snapshots_date ON persona.progress_snapshots (snapshot_date);

-- Study coach: the current persona snapshot per learner, refreshed nightly.
CREATE TABLE IF NOT EXISTS persona.persona_snapshots (
    user_id       UUID PRIMARY KEY,
    traits        JSONB NOT NULL,
    preferences   JSONB NOT NULL,
    keywords      TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Mosaic (:Story)-[:RELATED_TO {similarity_score}]->(:Story), within one legacy.
CREATE TABLE IF NOT EXISTS persona.related_stories (
    story_id          UUID NOT NULL,
    related_story_id  UUID NOT NULL,
    legacy_id         UUID NOT NULL,
    similarity_score  DOUBLE PRECISION NOT NULL,
    rank              INTEGER NOT NULL,
    model_id          TEXT NOT NULL,
    computed_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (story_id, related_story_id),
    CHECK (story_id <> related_story_id)
);
CREATE INDEX IF NOT EXISTS idx_related_stories_legacy ON persona.related_stories (legacy_id);

-- Mosaic story_plugin_metadata, same shape, written by plugin 'tessera'.
CREATE TABLE IF NOT EXISTS persona.story_plugin_metadata (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    story_id        UUID NOT NULL,
    plugin_id       VARCHAR(100) NOT NULL,
    metadata_type   VARCHAR(50) NOT NULL,
    metadata_value  JSONB NOT NULL,
    created_at      TIMESTAMPTZ DEFAULT now(),
    updated_at      TIMESTAMPTZ DEFAULT now(),
    CONSTRAINT persona_unique_plugin_story_type UNIQUE (story_id, plugin_id, metadata_type)
);
CREATE INDEX IF NOT EXISTS idx_persona_story_plugin_metadata_story ON persona.story_plugin_metadata (story_id);
CREATE INDEX IF NOT EXISTS idx_persona_story_plugin_metadata_type ON persona.story_plugin_metadata (metadata_type);
