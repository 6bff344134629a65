-- Activities within sessions: raw_devassist.session_activities renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    activity_id,
    session_id,
    activity_type::text as activity_type,
    details,
    occurred_at,
    {{ quality_issues('devassist.session_activities', "src.activity_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'session_activities') }} as src
