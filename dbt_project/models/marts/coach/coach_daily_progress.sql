-- The study coach's progress (seed 002 progress_snapshots: streak days, completed tasks, study
-- minutes) derived per learner and day from tasks and study sessions rather than trusting the
-- app-written snapshots. streak_days: consecutive active days ending on that day.
-- Strategy: table. A streak depends on every earlier day of the learner, sessions and tasks are
-- hard-deleted with their plan, and the mart has one small row per active learner-day: one grouped
-- pass (gaps-and-islands window) rebuilds it.
{{ config(
    materialized='table',
    indexes=[
        {'columns': ['user_id', 'day'], 'unique': true},
        {'columns': ['day']},
    ]
) }}

with activity as (
    select
        user_id,
        day,
        study_minutes,
        completed_tasks,
        day - (row_number() over (partition by user_id order by day))::int as island
    from {{ ref('int_coach__daily_activity') }}
)

select
    user_id,
    day,
    (row_number() over (partition by user_id, island order by day))::int as streak_days,
    completed_tasks,
    study_minutes
from activity
