-- Device sync queue: raw_personakit.sync_queue renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    queue_id,
    device_id::text as device_id,
    operation_type::text as operation_type,
    payload,
    sync_metadata,
    status::text as status,
    {{ quality_issues('personakit.sync_queue', "src.queue_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'sync_queue') }} as src
