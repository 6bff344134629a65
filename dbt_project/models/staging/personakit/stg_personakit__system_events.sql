-- System events: raw_personakit.system_events renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    event_id,
    event_type::text as event_type,
    "timestamp" as occurred_at,
    payload,
    source,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'system_events') }} as src
where {{ not_quarantined('personakit.system_events', "src.event_id::text") }}
