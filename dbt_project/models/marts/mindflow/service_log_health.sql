-- Service health per service (seed 004 MongoDB application_logs: level, service, duration, error):
-- log lines per level, the error rate (ERROR and FATAL lines over all lines, 4 decimals), duration
-- percentiles in ms over lines that carry one (percentile_cont, 2 decimals), the most frequent error
-- code and the latest error, over the log the warehouse holds (the seed keeps 30 days).
-- Strategy: table, rebuilt per refresh: one row per service, one grouped pass.
with logs as (
    select
        l.service,
        l.level,
        l.duration,
        l.occurred_at,
        l.error ->> 'code' as error_code
    from {{ ref('stg_mindflow__application_logs') }} as l
),

top_error as (
    select distinct on (service) service, error_code, count(*) over (partition by service, error_code) as n
    from logs
    where error_code is not null
    order by service, count(*) over (partition by service, error_code) desc, error_code
)

select
    l.service,
    count(*) as log_lines,
    count(*) filter (where l.level = 'DEBUG') as debug_lines,
    count(*) filter (where l.level = 'INFO') as info_lines,
    count(*) filter (where l.level = 'WARN') as warn_lines,
    count(*) filter (where l.level = 'ERROR') as error_lines,
    count(*) filter (where l.level = 'FATAL') as fatal_lines,
    round(count(*) filter (where l.level in ('ERROR', 'FATAL'))::numeric / count(*), 4) as error_rate,
    round((percentile_cont(0.5) within group (order by l.duration))::numeric, 2) as duration_p50_ms,
    round((percentile_cont(0.95) within group (order by l.duration))::numeric, 2) as duration_p95_ms,
    max(te.error_code) as top_error_code,
    max(l.occurred_at) filter (where l.level in ('ERROR', 'FATAL')) as last_error_at,
    min(l.occurred_at) as first_line_at,
    max(l.occurred_at) as last_line_at
from logs as l
left join top_error as te on te.service = l.service
group by l.service
