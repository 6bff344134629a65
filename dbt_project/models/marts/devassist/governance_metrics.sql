-- Governance decisions per framework and event type (seed 003 governance_events): how often each
-- framework approves or rejects at each checkpoint, and how often its fallback fired. Every event
-- counts (an audit record is never left out); rates are shares of the group's events, 4 decimals.
-- Strategy: table. One small row per (framework_type, event_type) pair (at most 4 x 8), rebuilt from
-- the events in one grouped pass; nothing to gain from incremental upkeep.
select
    g.framework_type,
    g.event_type,
    count(*) as events,
    count(distinct g.agent_session_id) as sessions,
    count(*) filter (where g.approved) as approvals,
    count(*) filter (where not g.approved) as rejections,
    round(count(*) filter (where g.approved)::numeric / count(*), 4) as approval_rate,
    count(*) filter (where g.fallback_triggered) as fallbacks,
    round(count(*) filter (where g.fallback_triggered)::numeric / count(*), 4) as fallback_rate,
    min(g.created_at) as first_event_at,
    max(g.created_at) as last_event_at
from {{ ref('stg_devassist__governance_events') }} as g
group by g.framework_type, g.event_type
