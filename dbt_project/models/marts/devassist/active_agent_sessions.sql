-- The seed's active_agent_sessions view (003): sessions running, pending approval or approved, with
-- their governance approvals and rejections. A session running without an approved pre_agent_spawn or
-- consensus_check event (what the seed's check_governance_approval trigger forbids, and a loose app lets
-- through) stays, flagged running_without_approval, with its quarantine rules in quality_issues.
-- Strategy: incremental, dbt's delete+insert on agent_session_id. Sessions move through statuses and
-- collect governance events one at a time; a refresh rewrites the sessions changed_active_agent_sessions
-- lists from the change feed (macros/change_feed.sql) (a changed or deleted session or event), which also drops sessions
-- that left the active statuses.
-- depends_on: {{ ref('changed_active_agent_sessions') }}
-- refs inside its incremental branch:
-- depends_on: {{ ref('stg_devassist__agent_sessions') }}
-- depends_on: {{ ref('stg_devassist__governance_events') }}
{{ config(
    materialized='incremental',
    unique_key='agent_session_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ feed_open([{'model': 'changed_active_agent_sessions', 'columns': ['agent_session_id']}]) }}",
    post_hook="{{ feed_close() }}",
    indexes=[
        {'columns': ['agent_session_id'], 'unique': true},
        {'columns': ['user_id']},
        {'columns': ['created_at', 'status']},
        {'columns': ['_ingested_at']},
    ]
) }}

with sessions as (
    select * from {{ ref('stg_devassist__agent_sessions') }}
    where status in ('running', 'pending_approval', 'approved')
    {% if is_incremental() %}
      and agent_session_id in (select agent_session_id from {{ ref('changed_active_agent_sessions') }})
    {% endif %}
),

decisions as (
    select
        g.agent_session_id,
        count(*) filter (where g.approved) as approvals,
        count(*) filter (where not g.approved) as rejections,
        count(*) filter (where {{ grants_spawn_approval('g') }}) as spawn_approvals,
        max(g._ingested_at) as _ingested_at
    from {{ ref('stg_devassist__governance_events') }} as g
    where g.agent_session_id in (select agent_session_id from sessions)
    group by g.agent_session_id
)

select
    a.agent_session_id,
    a.user_id,
    a.agent_type,
    a.status,
    a.token_cost,
    a.created_at,
    coalesce(d.approvals, 0) as approvals,
    coalesce(d.rejections, 0) as rejections,
    greatest(a._ingested_at, d._ingested_at) as _ingested_at,
    (a.status = 'running' and coalesce(d.spawn_approvals, 0) = 0) as running_without_approval,
    a.quality_issues
from sessions as a
left join decisions as d on d.agent_session_id = a.agent_session_id
