-- Vector-store outbox: raw_coach.outbox renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    aggregate_type::text as aggregate_type,
    aggregate_id,
    event_type::text as event_type,
    payload,
    created_at,
    processed_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'outbox') }} as src
where {{ not_quarantined('coach.outbox', "src.id::text") }}
