-- Traits and preferences (MongoDB collection): raw_coach.persona_snapshots renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    user_id,
    traits,
    preferences,
    keywords,
    created_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'persona_snapshots') }} as src
where {{ not_quarantined('coach.persona_snapshots', "src.id::text") }}
