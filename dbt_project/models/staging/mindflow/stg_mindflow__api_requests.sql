-- HTTP request logs (MongoDB collection): raw_mindflow.api_requests renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    "timestamp" as occurred_at,
    request_id,
    method::text as method,
    path::text as path,
    query,
    headers,
    body,
    status_code,
    response_time,
    response_size,
    user_id,
    ip_address,
    error,
    {{ quality_issues('mindflow.api_requests', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mindflow', 'api_requests') }} as src
