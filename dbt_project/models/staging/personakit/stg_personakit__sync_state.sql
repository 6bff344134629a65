-- Device sync state: raw_personakit.sync_state renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    device_id::text as device_id,
    person_id,
    last_sync,
    pending_items,
    cached_data,
    configuration,
    updated_at,
    {{ quality_issues('personakit.sync_state', "src.device_id::text || '|' || src.person_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'sync_state') }} as src
