-- AI agent lifecycle: raw_devassist.agent_sessions renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    agent_session_id,
    user_id,
    session_id,
    agent_type::text as agent_type,
    agent_config,
    personas_active,
    governance_state,
    status::text as status,
    created_at,
    started_at,
    completed_at,
    error_details,
    token_cost,
    estimated_cost,
    max_cost_limit,
    version,
    {{ quality_issues('devassist.agent_sessions', "src.agent_session_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'agent_sessions') }} as src
