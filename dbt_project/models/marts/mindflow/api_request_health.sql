-- API health per endpoint (seed 004 MongoDB api_requests: "HTTP request logs for debugging and
-- analytics", indexed by path + method and by statusCode): requests, latency percentiles and error
-- rates per method and path over the request log the warehouse holds (the seed keeps 90 days; the
-- retention asset ages the raw copy out likewise). Latencies are responseTime in ms, percentiles by
-- linear interpolation (percentile_cont), 2 decimals; rates are shares of the path's requests, 4 decimals.
-- Strategy: table, rebuilt per refresh: a handful of rows per endpoint, one grouped pass.
select
    r.method,
    r.path,
    count(*) as requests,
    count(*) filter (where r.status_code >= 400 and r.status_code < 500) as client_errors,
    count(*) filter (where r.status_code >= 500) as server_errors,
    round(count(*) filter (where r.status_code >= 400)::numeric / count(*), 4) as error_rate,
    round(count(*) filter (where r.status_code >= 500)::numeric / count(*), 4) as server_error_rate,
    round((percentile_cont(0.5) within group (order by r.response_time))::numeric, 2) as latency_p50_ms,
    round((percentile_cont(0.95) within group (order by r.response_time))::numeric, 2) as latency_p95_ms,
    max(r.response_time) as latency_max_ms,
    round(avg(r.response_size), 2) as avg_response_bytes,
    count(distinct r.user_id) as users,
    min(r.occurred_at) as first_request_at,
    max(r.occurred_at) as last_request_at
from {{ ref('stg_mindflow__api_requests') }} as r
group by r.method, r.path
