-- Reliable async tasks: raw_personakit.outbox_tasks renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
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
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'outbox_tasks') }} as src
where {{ not_quarantined('personakit.outbox_tasks', "src.task_id::text") }}
