-- Reliable async tasks: raw_personakit.outbox_tasks renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    task_id,
    task_type::text as task_type,
    payload,
    status::text as status,
    attempts,
    last_error,
    run_after,
    completed_at,
    created_at,
    updated_at,
    {{ quality_issues('personakit.outbox_tasks', "src.task_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'outbox_tasks') }} as src
