-- Minutes studied: raw_coach.study_sessions renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    user_id,
    session_id,
    minutes,
    recorded_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'study_sessions') }} as src
where {{ not_quarantined('coach.study_sessions', "src.id::text") }}
