-- PersonaKit persona cache (seed 001, 1.4 and 3.3): one row per persona of a live person, with its
-- expiry (TTL, default 24 h when the row carries none), the freshness of its core against the
-- mindscape it came from, and the cache status a MapPersonaResponse would report for it now.
--   cache_status: 'expired'    expires_at has passed (the persona must be regenerated),
--                 'stale_core' not expired, but its core was built from an older mindscape version
--                              than the current one, or the generator flagged the core stale,
--                 'fresh'      otherwise.
-- Strategy: a view. Expiry is relative to the moment of reading (as_of = now()), so a stored table
-- would be wrong an hour after its build; the inputs are small per person and indexed by key.
{{ config(materialized='view') }}

with personas as (
    select p.*
    from {{ ref('stg_personakit__personas') }} as p
    join {{ ref('stg_personakit__persons') }} as pe on pe.person_id = p.person_id and not pe.is_deleted
),

parsed as (
    select
        p.*,
        coalesce(p.ttl_hours, {{ personakit_default_ttl_hours() }}) as effective_ttl_hours,
        p.persona_core ->> 'coreVersion' as core_version,
        case when p.persona_core ->> 'coreVersion' ~ '^[0-9]+$' then (p.persona_core ->> 'coreVersion')::integer end
            as core_mindscape_version,
        p.generation_metadata ->> 'detailLevel' as detail_level,
        (p.generation_metadata -> 'cacheStatus' ->> 'coreWasCached')::boolean as core_was_cached,
        (p.generation_metadata -> 'cacheStatus' ->> 'coreIsStale')::boolean as reported_core_is_stale,
        case when p.generation_metadata -> 'cacheStatus' ->> 'coreCacheAge' ~ '^[0-9]+$'
             then (p.generation_metadata -> 'cacheStatus' ->> 'coreCacheAge')::bigint end as core_cache_age_ms,
        case when p.usage_metadata ->> 'accessCount' ~ '^[0-9]+$' then (p.usage_metadata ->> 'accessCount')::integer end
            as access_count,
        {{ personakit_json_timestamp("p.usage_metadata ->> 'lastAccessedAt'") }} as last_accessed_at
    from personas as p
)

select
    p.persona_instance_id,
    p.person_id,
    p.source_mindscape_id as mindscape_id,
    p.source_mapper_id as mapper_id,
    p.detail_level,
    p.created_at,
    p.ttl_hours,
    p.effective_ttl_hours,
    p.expires_at,
    p.created_at + make_interval(hours => p.effective_ttl_hours) as expected_expires_at,
    p.expires_at = p.created_at + make_interval(hours => p.effective_ttl_hours) as ttl_consistent,
    now() as as_of,
    p.expires_at <= now() as is_expired,
    round((extract(epoch from (p.expires_at - now())) / 3600)::numeric, 3) as hours_to_expiry,
    p.core_version,
    m.version as mindscape_version,
    p.core_was_cached,
    p.reported_core_is_stale,
    p.core_cache_age_ms,
    coalesce(p.core_mindscape_version < m.version, false) or coalesce(p.reported_core_is_stale, false) as core_is_stale,
    p.access_count,
    p.last_accessed_at,
    coalesce(p.last_accessed_at > p.expires_at, false) as accessed_after_expiry,
    case
        when p.expires_at <= now() then 'expired'
        when coalesce(p.core_mindscape_version < m.version, false) or coalesce(p.reported_core_is_stale, false) then 'stale_core'
        else 'fresh'
    end as cache_status,
    greatest(p._ingested_at, m._ingested_at) as _ingested_at
from parsed as p
left join {{ ref('stg_personakit__mindscapes') }} as m on m.mindscape_id = p.source_mindscape_id
