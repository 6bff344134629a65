-- Immutable audit log: raw_devassist.audit_log renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
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
    {{ quality_issues('devassist.audit_log', "src.audit_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'audit_log') }} as src
