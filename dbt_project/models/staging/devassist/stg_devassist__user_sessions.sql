-- Login sessions: raw_devassist.user_sessions renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    session_id,
    user_id,
    session_type::text as session_type,
    session_context,
    started_at,
    ended_at,
    status::text as status,
    version,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'user_sessions') }} as src
where {{ not_quarantined('devassist.user_sessions', "src.session_id::text") }}
