-- PersonaKit section 6.2 rules on persona TTL and sync version consistency, as findings: one row per
-- violation, with the rule, the entity, its person and what is wrong. Empty when the source keeps them.
--   persona_ttl_mismatch         expires_at is not created_at + ttl_hours (default 24 h when missing)
--   persona_ttl_not_positive     ttl_hours <= 0
--   persona_accessed_after_expiry usageMetadata.lastAccessedAt after expires_at (served expired)
--   persona_core_version_ahead   personaCore.coreVersion newer than the mindscape's version
--   sync_core_version_ahead      a device caches a persona core of a mindscape version newer than the
--                                mindscape's (SyncState.cachedData.personaCores[].mindscapeVersion)
--   sync_core_stale_unflagged    a cached core of an older mindscape version with isStale false
--   sync_core_unknown_persona    a cached core names no persona of that person
--   sync_mindscape_version_ahead cachedData.mindscapeVersion newer than the mindscape's version
-- The dbt tests on this model (severity warn) turn each rule into a Dagster asset check that shows the
-- finding count without blocking the read views.
-- Strategy: a view over the staging views (small, and always the current truth).
{{ config(materialized='view') }}

with cache as (
    select * from {{ ref('persona_cache_status') }}
),

live_state as (
    select s.*, m.mindscape_id, m.version as mindscape_version
    from {{ ref('stg_personakit__sync_state') }} as s
    join {{ ref('stg_personakit__persons') }} as pe on pe.person_id = s.person_id and not pe.is_deleted
    left join {{ ref('stg_personakit__mindscapes') }} as m on m.person_id = s.person_id
),

cached_cores as (
    select
        s.device_id, s.person_id, s.mindscape_version,
        c ->> 'personaInstanceId' as persona_instance_id,
        {{ personakit_json_int("c ->> 'mindscapeVersion'") }} as cached_version,
        (c ->> 'isStale')::boolean as is_stale
    from live_state as s
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(s.cached_data -> 'personaCores') = 'array' then s.cached_data -> 'personaCores' else '[]'::jsonb end
    ) as c
),

findings as (
    select 'persona_ttl_mismatch'::text as rule, 'persona'::text as entity_type, persona_instance_id::text as entity_key,
           person_id, format('expires_at %s, created_at + %s h is %s', expires_at, effective_ttl_hours, expected_expires_at) as detail
    from cache where not ttl_consistent
    union all
    select 'persona_ttl_not_positive', 'persona', persona_instance_id::text, person_id, format('ttl_hours %s', ttl_hours)
    from cache where effective_ttl_hours <= 0
    union all
    select 'persona_accessed_after_expiry', 'persona', persona_instance_id::text, person_id,
           format('last accessed %s, expired %s', last_accessed_at, expires_at)
    from cache where accessed_after_expiry
    union all
    select 'persona_core_version_ahead', 'persona', persona_instance_id::text, person_id,
           format('core version %s, mindscape version %s', core_version, mindscape_version)
    from cache
    where core_version ~ '^[0-9]+$' and core_version::integer > mindscape_version
    union all
    select 'sync_core_version_ahead', 'sync_state', device_id || '|' || person_id::text, person_id,
           format('persona %s cached at mindscape version %s, mindscape is at %s', persona_instance_id, cached_version, mindscape_version)
    from cached_cores where cached_version > mindscape_version
    union all
    select 'sync_core_stale_unflagged', 'sync_state', device_id || '|' || person_id::text, person_id,
           format('persona %s cached at mindscape version %s < %s but isStale is false', persona_instance_id, cached_version, mindscape_version)
    from cached_cores where cached_version < mindscape_version and is_stale is false
    union all
    select 'sync_core_unknown_persona', 'sync_state', cc.device_id || '|' || cc.person_id::text, cc.person_id,
           format('cached persona %s is no persona of this person', cc.persona_instance_id)
    from cached_cores as cc
    where not exists (
        select 1 from {{ ref('stg_personakit__personas') }} as p
        where p.persona_instance_id::text = cc.persona_instance_id and p.person_id = cc.person_id
    )
    union all
    select 'sync_mindscape_version_ahead', 'sync_state', device_id || '|' || person_id::text, person_id,
           format('cached mindscape version %s, mindscape is at %s', cached_data ->> 'mindscapeVersion', mindscape_version)
    from live_state
    where {{ personakit_json_int("cached_data ->> 'mindscapeVersion'") }} > mindscape_version
)

select rule, entity_type, entity_key, person_id, detail from findings
