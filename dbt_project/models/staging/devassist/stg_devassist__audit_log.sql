-- Immutable audit log: raw_devassist.audit_log renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    audit_id,
    table_name::text as table_name,
    record_id,
    operation::text as operation,
    old_values,
    new_values,
    changed_by::text as changed_by,
    changed_at,
    correlation_id,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'audit_log') }} as src
where {{ not_quarantined('devassist.audit_log', "src.audit_id::text") }}
