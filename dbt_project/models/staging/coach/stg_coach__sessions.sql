-- Coaching sessions: raw_coach.sessions renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    user_id,
    title::text as title,
    focus::text as focus,
    created_at,
    updated_at,
    {{ quality_issues('coach.sessions', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'sessions') }} as src
