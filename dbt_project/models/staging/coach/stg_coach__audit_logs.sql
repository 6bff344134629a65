-- Audit logs (MongoDB collection, TTL 180 days): raw_coach.audit_logs renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    user_id,
    action::text as action,
    metadata,
    created_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'audit_logs') }} as src
where {{ not_quarantined('coach.audit_logs', "src.id::text") }}
