-- Audit logs (MongoDB collection, TTL 180 days): raw_coach.audit_logs renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    user_id,
    action::text as action,
    metadata,
    created_at,
    {{ quality_issues('coach.audit_logs', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'audit_logs') }} as src
