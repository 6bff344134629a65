-- Vector-store outbox: raw_coach.outbox renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    aggregate_type::text as aggregate_type,
    aggregate_id,
    event_type::text as event_type,
    payload,
    created_at,
    processed_at,
    {{ quality_issues('coach.outbox', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'outbox') }} as src
