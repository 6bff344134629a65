-- Governance decisions: raw_devassist.governance_events renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    event_id,
    agent_session_id,
    event_type::text as event_type,
    framework_type::text as framework_type,
    approved,
    validation_context,
    decision_details,
    decision_reason,
    fallback_triggered,
    created_at,
    created_by::text as created_by,
    correlation_id,
    {{ quality_issues('devassist.governance_events', "src.event_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'governance_events') }} as src
