-- Device sync queue: raw_personakit.sync_queue renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    queue_id,
    device_id::text as device_id,
    operation_type::text as operation_type,
    payload,
    sync_metadata,
    status::text as status,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'sync_queue') }} as src
where {{ not_quarantined('personakit.sync_queue', "src.queue_id::text") }}
