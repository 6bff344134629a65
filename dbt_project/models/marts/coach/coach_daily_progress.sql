-- The study coach's progress (seed 002 progress_snapshots: streak days, completed tasks, study
-- minutes) derived per learner and day from tasks and study sessions rather than trusting the
-- app-written snapshots. streak_days: consecutive active days ending on that day.
-- Strategy: incremental, dbt's delete+insert on (user_id, day); the unit of replacement is the learner
-- (a streak depends on every earlier day of the learner): a refresh recomputes all days of the learners
-- that changed_coach_daily_progress lists from the change feed (macros/change_feed.sql), one learner's year being a few
-- hundred small rows. Deleted learners, sessions, plans and tasks arrive as tombstones naming the
-- learner or the plan.
-- depends_on: {{ ref('changed_coach_daily_progress') }}
-- refs inside its incremental branch:
-- depends_on: {{ ref('stg_coach__users') }}
-- depends_on: {{ ref('stg_coach__study_sessions') }}
-- depends_on: {{ ref('stg_coach__plans') }}
-- depends_on: {{ ref('stg_coach__tasks') }}
{{ config(
    materialized='incremental',
    unique_key=['user_id', 'day'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ feed_open([{'model': 'changed_coach_daily_progress', 'columns': ['user_id']}]) }}",
    post_hook="{{ feed_close() }}",
    indexes=[
        {'columns': ['user_id', 'day'], 'unique': true},
        {'columns': ['day']},
        {'columns': ['_ingested_at']},
    ]
) }}

with activity as (
    select
        user_id,
        day,
        study_minutes,
        completed_tasks,
        _ingested_at,
        day - (row_number() over (partition by user_id order by day))::int as island
    {% if is_incremental() %}
    -- each touched learner as a lateral parameter: the equality reaches both branches of the view's
    -- grouped union (raw study sessions by user_id, plans by user_id then tasks by plan_id), where a
    -- semi-join on the view's output would aggregate every learner's days first
    from (select distinct user_id as touched_user_id from {{ ref('changed_coach_daily_progress') }}) as k
    cross join lateral (
        select * from {{ ref('int_coach__daily_activity') }} as a where a.user_id = k.touched_user_id
        offset 0  -- keeps the subquery parameterized (not pulled up into a join)
    ) as a
    {% else %}
    from {{ ref('int_coach__daily_activity') }}
    {% endif %}
)

select
    user_id,
    day,
    (row_number() over (partition by user_id, island order by day))::int as streak_days,
    completed_tasks,
    study_minutes,
    _ingested_at
from activity
