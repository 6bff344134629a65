-- Mosaic Life (seed 000): PostgreSQL schema, the access function, plugin tables,
-- and the seed's Neo4j graph modelled as node and edge tables.
CREATE SCHEMA IF NOT EXISTS mosaic;
SET LOCAL search_path TO mosaic;

CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email VARCHAR(255) NOT NULL,
    full_name VARCHAR(255) NOT NULL,
    relationship_to_deceased VARCHAR(100),
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    last_login TIMESTAMP WITH TIME ZONE,
    is_admin BOOLEAN DEFAULT FALSE,
    privacy_preferences JSONB DEFAULT '{}'::jsonb,
    CONSTRAINT unique_email UNIQUE (email)
);
CREATE INDEX idx_users_created_at ON users(created_at);
CREATE INDEX idx_users_last_login ON users(last_login);

CREATE TABLE legacies (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    person_name VARCHAR(255) NOT NULL,
    birth_date DATE,
    death_date DATE,
    description TEXT,
    profile_images TEXT[],
    created_by UUID NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    settings JSONB DEFAULT '{}'::jsonb,
    CONSTRAINT fk_legacies_created_by FOREIGN KEY (created_by) REFERENCES users(id)
);
CREATE INDEX idx_legacies_created_by ON legacies(created_by);
CREATE INDEX idx_legacies_created_at ON legacies(created_at);
CREATE INDEX idx_legacies_person_name ON legacies(person_name);

CREATE TABLE stories (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    legacy_id UUID NOT NULL,
    submitted_by UUID NOT NULL,
    title VARCHAR(500) NOT NULL,
    content TEXT NOT NULL,
    story_type VARCHAR(50) NOT NULL DEFAULT 'written',
    visibility_level VARCHAR(20) NOT NULL DEFAULT 'private',
    tags TEXT[],
    media_attachments TEXT[],
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    approved_by UUID,
    approved_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT fk_stories_legacy_id FOREIGN KEY (legacy_id) REFERENCES legacies(id) ON DELETE CASCADE,
    CONSTRAINT fk_stories_submitted_by FOREIGN KEY (submitted_by) REFERENCES users(id),
    CONSTRAINT fk_stories_approved_by FOREIGN KEY (approved_by) REFERENCES users(id),
    CONSTRAINT valid_visibility_level CHECK (visibility_level IN ('public', 'private', 'group')),
    CONSTRAINT valid_story_type CHECK (story_type IN ('written', 'transcribed', 'imported', 'sms', 'email', 'audio'))
);
CREATE INDEX idx_stories_legacy_id ON stories(legacy_id);
CREATE INDEX idx_stories_submitted_by ON stories(submitted_by);
CREATE INDEX idx_stories_created_at ON stories(created_at);
CREATE INDEX idx_stories_visibility_level ON stories(visibility_level);
CREATE INDEX idx_stories_story_type ON stories(story_type);
CREATE INDEX idx_stories_tags ON stories USING GIN(tags);
CREATE INDEX idx_stories_content_fts ON stories USING GIN(to_tsvector('english', content));
CREATE INDEX idx_stories_title_fts ON stories USING GIN(to_tsvector('english', title));
-- "Performance Optimization Patterns" indexes
CREATE INDEX idx_stories_legacy_visibility_created ON stories(legacy_id, visibility_level, created_at DESC);
CREATE INDEX idx_stories_user_type_created ON stories(submitted_by, story_type, created_at DESC);
CREATE INDEX idx_stories_approved ON stories(approved_at) WHERE approved_by IS NOT NULL;
CREATE INDEX idx_stories_pending_approval ON stories(created_at) WHERE approved_by IS NULL;

CREATE TABLE groups (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    legacy_id UUID NOT NULL,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    created_by UUID NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    members UUID[] NOT NULL DEFAULT '{}',
    CONSTRAINT fk_groups_legacy_id FOREIGN KEY (legacy_id) REFERENCES legacies(id) ON DELETE CASCADE,
    CONSTRAINT fk_groups_created_by FOREIGN KEY (created_by) REFERENCES users(id),
    CONSTRAINT unique_group_name_per_legacy UNIQUE (legacy_id, name)
);
CREATE INDEX idx_groups_legacy_id ON groups(legacy_id);
CREATE INDEX idx_groups_created_by ON groups(created_by);
CREATE INDEX idx_groups_members ON groups USING GIN(members);

CREATE TABLE ai_conversations (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    legacy_id UUID NOT NULL,
    user_id UUID NOT NULL,
    conversation_history JSONB NOT NULL DEFAULT '[]'::jsonb,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    CONSTRAINT fk_conversations_legacy_id FOREIGN KEY (legacy_id) REFERENCES legacies(id) ON DELETE CASCADE,
    CONSTRAINT fk_conversations_user_id FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
);
CREATE INDEX idx_conversations_legacy_id ON ai_conversations(legacy_id);
CREATE INDEX idx_conversations_user_id ON ai_conversations(user_id);
CREATE INDEX idx_conversations_updated_at ON ai_conversations(updated_at);

CREATE TABLE story_plugin_metadata (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    story_id UUID NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    plugin_id VARCHAR(100) NOT NULL,
    metadata_type VARCHAR(50) NOT NULL,
    metadata_value JSONB NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    CONSTRAINT unique_plugin_story_type UNIQUE (story_id, plugin_id, metadata_type)
);
CREATE INDEX idx_story_plugin_metadata_story_id ON story_plugin_metadata(story_id);
CREATE INDEX idx_story_plugin_metadata_plugin_id ON story_plugin_metadata(plugin_id);
CREATE INDEX idx_story_plugin_metadata_type ON story_plugin_metadata(metadata_type);

CREATE TABLE plugin_permissions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    plugin_id VARCHAR(100) NOT NULL,
    legacy_id UUID NOT NULL REFERENCES legacies(id),
    permissions JSONB NOT NULL,
    granted_by UUID NOT NULL REFERENCES users(id),
    granted_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    revoked_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT unique_plugin_legacy UNIQUE (plugin_id, legacy_id)
);

-- Neo4j nodes and edges as tables. Story, Legacy and User nodes are the relational rows above;
-- (:Story)-[:ABOUT]->(:Legacy) is stories.legacy_id and (:Person)-[:SUBMITTED]->(:Story) is
-- stories.submitted_by. (:Story)-[:RELATED_TO]->(:Story) is derived by Tessera (persona.related_stories).
CREATE TABLE persons (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name VARCHAR(255) NOT NULL,
    relationship_type VARCHAR(50), -- friend, family, coworker, ...
    legacy_id UUID NOT NULL REFERENCES legacies(id) ON DELETE CASCADE,
    user_id UUID REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);
CREATE INDEX idx_persons_legacy ON persons(legacy_id);
CREATE INDEX idx_persons_user ON persons(user_id);

CREATE TABLE person_relationships (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    from_person_id UUID NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    to_person_id UUID NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    relationship VARCHAR(20) NOT NULL,
    properties JSONB NOT NULL DEFAULT '{}'::jsonb, -- since/context, relationship, company/period
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    CONSTRAINT valid_person_relationship CHECK (relationship IN ('KNEW', 'FAMILY_OF', 'WORKED_WITH', 'FRIENDS_WITH')),
    CONSTRAINT unique_person_relationship UNIQUE (from_person_id, to_person_id, relationship)
);
CREATE INDEX idx_person_rel_to ON person_relationships(to_person_id);

CREATE TABLE story_mentions (
    story_id UUID NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    person_id UUID NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    PRIMARY KEY (story_id, person_id)
);
CREATE INDEX idx_story_mentions_person ON story_mentions(person_id);

CREATE TABLE plugins (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name VARCHAR(100) NOT NULL UNIQUE,
    version VARCHAR(20) NOT NULL,
    capabilities TEXT[] NOT NULL DEFAULT '{}',
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

CREATE TABLE plugin_relationships (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    plugin_id UUID NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
    relationship VARCHAR(20) NOT NULL,
    target_type VARCHAR(20) NOT NULL,
    target_id UUID NOT NULL,
    properties JSONB NOT NULL DEFAULT '{}'::jsonb, -- permission_level / feature_type / scope
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    CONSTRAINT valid_plugin_relationship CHECK (
        (relationship = 'PROCESSES' AND target_type = 'story') OR
        (relationship = 'ENHANCES' AND target_type = 'legacy') OR
        (relationship = 'ACCESSES' AND target_type = 'person'))
);
CREATE INDEX idx_plugin_rel_target ON plugin_relationships(target_type, target_id);

-- Story visibility levels with access matrix (the seed's enum; stories.visibility_level stays a
-- checked VARCHAR as the seed's table gives it, and is read into this type by the function).
CREATE TYPE visibility_level AS ENUM ('public', 'private', 'group', 'family_only');

-- The seed leaves the family check to be implemented: a user is family of a legacy when a Person
-- node of that legacy carries the user's account and is marked family, or has a FAMILY_OF edge.
CREATE OR REPLACE FUNCTION check_family_relationship(p_user_id UUID, p_legacy_id UUID)
RETURNS BOOLEAN AS $$
    SELECT EXISTS (
        SELECT 1 FROM mosaic.persons p
        WHERE p.legacy_id = p_legacy_id AND p.user_id = p_user_id
          AND (p.relationship_type = 'family' OR EXISTS (
                SELECT 1 FROM mosaic.person_relationships r
                WHERE (r.from_person_id = p.id OR r.to_person_id = p.id)
                  AND r.relationship = 'FAMILY_OF'))
    );
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION user_can_access_story(
    p_user_id UUID,
    p_story_id UUID
) RETURNS BOOLEAN AS $$
DECLARE
    story_visibility mosaic.visibility_level;
    story_legacy_id UUID;
    story_submitted_by UUID;
BEGIN
    SELECT visibility_level, legacy_id, submitted_by
    INTO story_visibility, story_legacy_id, story_submitted_by
    FROM mosaic.stories
    WHERE id = p_story_id;

    -- Story submitter can always access
    IF story_submitted_by = p_user_id THEN
        RETURN TRUE;
    END IF;

    -- Legacy admin can always access
    IF EXISTS (
        SELECT 1 FROM mosaic.legacies
        WHERE id = story_legacy_id AND created_by = p_user_id
    ) THEN
        RETURN TRUE;
    END IF;

    -- Check visibility level specific rules
    CASE story_visibility
        WHEN 'public' THEN
            RETURN TRUE;
        WHEN 'private' THEN
            RETURN FALSE;
        WHEN 'group' THEN
            RETURN EXISTS (
                SELECT 1 FROM mosaic.groups g
                WHERE g.legacy_id = story_legacy_id
                AND p_user_id = ANY(g.members)
            );
        WHEN 'family_only' THEN
            RETURN mosaic.check_family_relationship(p_user_id, story_legacy_id);
        ELSE
            RETURN FALSE; -- unknown story: no access (the seed's CASE would raise CASE_NOT_FOUND)
    END CASE;

    RETURN FALSE;
END;
$$ LANGUAGE plpgsql STABLE;
