-- Service logs (MongoDB collection): raw_mindflow.application_logs renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    "timestamp" as occurred_at,
    level::text as level,
    service::text as service,
    message,
    context,
    error,
    duration,
    pod::text as pod,
    node::text as node,
    {{ quality_issues('mindflow.application_logs', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mindflow', 'application_logs') }} as src
