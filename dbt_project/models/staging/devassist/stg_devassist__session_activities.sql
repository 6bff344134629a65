-- Activities within sessions: raw_devassist.session_activities renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    activity_id,
    session_id,
    activity_type::text as activity_type,
    details,
    occurred_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'session_activities') }} as src
where {{ not_quarantined('devassist.session_activities', "src.activity_id::text") }}
