-- Audit trail (MongoDB collection): raw_mindflow.audit_logs renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    user_id,
    action::text as action,
    "timestamp" as occurred_at,
    metadata,
    ip_address,
    user_agent,
    request_id,
    data_category::text as data_category,
    retention_policy::text as retention_policy,
    searchable_text,
    {{ quality_issues('mindflow.audit_logs', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mindflow', 'audit_logs') }} as src
