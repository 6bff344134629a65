-- Service logs (MongoDB collection): raw_mindflow.application_logs renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
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
    _ingested_at,
    _source_lsn
from {{ source('raw_mindflow', 'application_logs') }} as src
where {{ not_quarantined('mindflow.application_logs', "src.id::text") }}
