-- Actor API keys (hashed): raw_personakit.actor_api_keys renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    key_id,
    actor_id,
    key_hash::text as key_hash,
    name::text as name,
    created_at,
    last_used_at,
    expires_at,
    status::text as status,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'actor_api_keys') }} as src
where {{ not_quarantined('personakit.actor_api_keys', "src.key_id::text") }}
