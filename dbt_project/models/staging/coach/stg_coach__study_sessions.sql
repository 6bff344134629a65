-- Minutes studied: raw_coach.study_sessions renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    user_id,
    session_id,
    minutes,
    recorded_at,
    {{ quality_issues('coach.study_sessions', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'study_sessions') }} as src
