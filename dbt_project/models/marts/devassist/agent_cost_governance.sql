-- Agent sessions under governance per agent type (seed 003 agent_sessions + governance_events): how
-- many were blocked, rejected or run without approval, and what they cost against their estimate and
-- limit. Every session counts, those breaking a quality rule too (a session running without approval
-- is exactly what this mart must show: running_without_approval, with its cost in total_token_cost).
-- Strategy: table. One row per agent type, rebuilt in one grouped pass over sessions and events.
with decisions as (
    select
        g.agent_session_id,
        count(*) filter (where not g.approved) as rejections,
        count(*) filter (where {{ grants_spawn_approval('g') }}) as spawn_approvals
    from {{ ref('stg_devassist__governance_events') }} as g
    group by g.agent_session_id
),

sessions as (
    select
        a.*,
        coalesce(d.rejections, 0) as rejections,
        (a.status = 'running' and coalesce(d.spawn_approvals, 0) = 0) as running_without_approval
    from {{ ref('stg_devassist__agent_sessions') }} as a
    left join decisions as d on d.agent_session_id = a.agent_session_id
)

select
    agent_type,
    count(*) as sessions,
    count(*) filter (where status = 'blocked') as blocked_sessions,
    count(*) filter (where status = 'failed') as failed_sessions,
    count(*) filter (where status = 'completed') as completed_sessions,
    count(*) filter (where rejections > 0) as sessions_with_rejections,
    count(*) filter (where running_without_approval) as running_without_approval,
    coalesce(sum(token_cost), 0) as total_token_cost,
    coalesce(sum(estimated_cost), 0) as total_estimated_cost,
    round(sum(token_cost) filter (where estimated_cost > 0) / nullif(sum(estimated_cost) filter (where estimated_cost > 0), 0), 4)
        as cost_to_estimate_ratio,
    count(*) filter (where token_cost > estimated_cost) as over_estimate_sessions,
    count(*) filter (where token_cost > max_cost_limit) as over_limit_sessions,
    round(avg(token_cost / max_cost_limit) filter (where max_cost_limit > 0) * 100, 2) as avg_limit_used_pct,
    count(*) filter (where jsonb_array_length(quality_issues) > 0) as flagged_sessions
from sessions
group by agent_type
