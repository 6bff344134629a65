-- Plan tasks: raw_coach.tasks renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    plan_id,
    summary,
    status::text as status,
    due_date,
    completed_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'tasks') }} as src
where {{ not_quarantined('coach.tasks', "src.id::text") }}
