-- Plan tasks: raw_coach.tasks renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    plan_id,
    summary,
    status::text as status,
    due_date,
    completed_at,
    {{ quality_issues('coach.tasks', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'tasks') }} as src
