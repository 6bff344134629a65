-- The seed's user_activity_summary view (003): active users with their agent-session totals.
-- Strategy: incremental, dbt's delete+insert on user_id. One row per developer aggregated over their
-- sessions (every session counts, those breaking a quality rule too: their cost is real; flagged_sessions
-- says how many): a refresh re-aggregates the developers changed_user_activity_summary lists from the
-- change feed (macros/change_feed.sql). Sessions hard-deleted by the product's retention (cleanup_old_data) arrive
-- as tombstones naming their developer.
-- depends_on: {{ ref('changed_user_activity_summary') }}
-- refs inside its incremental branch:
-- depends_on: {{ ref('stg_devassist__users') }}
-- depends_on: {{ ref('stg_devassist__agent_sessions') }}
{{ config(
    materialized='incremental',
    unique_key='user_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ feed_open([{'model': 'changed_user_activity_summary', 'columns': ['user_id']}]) }}",
    post_hook="{{ feed_close() }}",
    indexes=[
        {'columns': ['user_id'], 'unique': true},
        {'columns': ['_ingested_at']},
    ]
) }}

with users as (
    select * from {{ ref('stg_devassist__users') }}
    where is_active = true
    {% if is_incremental() %}
      and user_id in (select user_id from {{ ref('changed_user_activity_summary') }})
    {% endif %}
)

select
    u.user_id,
    u.username,
    u.last_active_at,
    count(a.agent_session_id) as total_sessions,
    sum(a.token_cost) as total_cost,
    avg(a.token_cost) as avg_cost_per_session,
    max(a.created_at) as last_session_at,
    greatest(u._ingested_at, max(a._ingested_at)) as _ingested_at,
    count(a.agent_session_id) filter (where jsonb_array_length(a.quality_issues) > 0) as flagged_sessions
from users as u
left join {{ ref('stg_devassist__agent_sessions') }} as a on a.user_id = u.user_id
group by u.user_id, u.username, u.last_active_at, u._ingested_at
