-- Study plans: raw_coach.plans renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    user_id,
    session_id,
    title::text as title,
    due_date,
    status::text as status,
    created_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'plans') }} as src
where {{ not_quarantined('coach.plans', "src.id::text") }}
