-- Coaching sessions: raw_coach.sessions renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    user_id,
    title::text as title,
    focus::text as focus,
    created_at,
    updated_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'sessions') }} as src
where {{ not_quarantined('coach.sessions', "src.id::text") }}
