-- Study plans: raw_coach.plans renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    user_id,
    session_id,
    title::text as title,
    due_date,
    status::text as status,
    created_at,
    {{ quality_issues('coach.plans', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'plans') }} as src
