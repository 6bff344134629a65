-- Agent turns: raw_devassist.agent_interactions renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    interaction_id,
    agent_session_id,
    role::text as role,
    content,
    tokens,
    cost,
    created_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'agent_interactions') }} as src
where {{ not_quarantined('devassist.agent_interactions', "src.interaction_id::text") }}
