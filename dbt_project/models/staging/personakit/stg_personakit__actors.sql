-- Persona consumers: raw_personakit.actors renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
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
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'actors') }} as src
where {{ not_quarantined('personakit.actors', "src.actor_id::text") }}
