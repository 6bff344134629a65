-- Persona consumers: raw_personakit.actors renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    actor_id,
    actor_type::text as actor_type,
    name::text as name,
    description,
    capabilities,
    usage_metadata,
    authentication_method::text as authentication_method,
    created_at,
    updated_at,
    status::text as status,
    {{ quality_issues('personakit.actors', "src.actor_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'actors') }} as src
