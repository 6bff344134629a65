-- System events: raw_personakit.system_events renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    event_id,
    event_type::text as event_type,
    "timestamp" as occurred_at,
    payload,
    source,
    {{ quality_issues('personakit.system_events', "src.event_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'system_events') }} as src
