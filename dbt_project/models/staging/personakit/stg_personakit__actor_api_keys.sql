-- Actor API keys (hashed): raw_personakit.actor_api_keys renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    key_id,
    actor_id,
    key_hash::text as key_hash,
    name::text as name,
    created_at,
    last_used_at,
    expires_at,
    status::text as status,
    {{ quality_issues('personakit.actor_api_keys', "src.key_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'actor_api_keys') }} as src
