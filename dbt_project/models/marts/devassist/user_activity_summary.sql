-- The seed's user_activity_summary view (003): active users with their agent-session totals.
-- Strategy: table. One row per developer, aggregated over all of a user's sessions; sessions are
-- hard-deleted by the product's retention (cleanup_old_data), which leaves no changed raw row to
-- find the user by, so a rebuild (one grouped scan of agent_sessions) is the correct and cheap way.
{{ config(
    materialized='table',
    indexes=[{'columns': ['user_id'], 'unique': true}]
) }}

select
    u.user_id,
    u.username,
    u.last_active_at,
    count(a.agent_session_id) as total_sessions,
    sum(a.token_cost) as total_cost,
    avg(a.token_cost) as avg_cost_per_session,
    max(a.created_at) as last_session_at
from {{ ref('stg_devassist__users') }} as u
left join {{ ref('stg_devassist__agent_sessions') }} as a on a.user_id = u.user_id
where u.is_active = true
group by u.user_id, u.username, u.last_active_at
