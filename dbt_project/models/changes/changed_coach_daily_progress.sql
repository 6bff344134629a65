-- The learners the next refresh of coach_daily_progress rebuilds, all their days (a streak depends on
-- every day before it; macros/change_feed.sql): the learner row, a study session or a plan (old and
-- new owner), or a task through its plan, changed, was deleted or (un)quarantined.
with changed_plans as (
    {{ feed_keys('coach_daily_progress', 'raw_coach.tasks', ['plan_id']) }}
)

select k.id as user_id from ({{ feed_keys('coach_daily_progress', 'raw_coach.users', ['id']) }}) as k
union
select k.user_id from ({{ feed_keys('coach_daily_progress', 'raw_coach.study_sessions', ['user_id']) }}) as k
union
select k.user_id from ({{ feed_keys('coach_daily_progress', 'raw_coach.plans', ['user_id']) }}) as k
union
select p.user_id from {{ ref('stg_coach__plans') }} as p where p.id in (select plan_id from changed_plans)
union
select u.id from {{ ref('stg_coach__users') }} as u where {{ feed_rebuild('coach_daily_progress') }}
