-- Login sessions: raw_devassist.user_sessions renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    session_id,
    user_id,
    session_type::text as session_type,
    session_context,
    started_at,
    ended_at,
    status::text as status,
    version,
    {{ quality_issues('devassist.user_sessions', "src.session_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'user_sessions') }} as src
