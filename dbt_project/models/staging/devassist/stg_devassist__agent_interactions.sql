-- Agent turns: raw_devassist.agent_interactions renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    interaction_id,
    agent_session_id,
    role::text as role,
    content,
    tokens,
    cost,
    created_at,
    {{ quality_issues('devassist.agent_interactions', "src.interaction_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'agent_interactions') }} as src
