-- Per live learner and UTC day: minutes studied and tasks completed (status done). Only days with
-- activity (minutes > 0 or a completed task) appear.
with minutes as (
    select ss.user_id, (ss.recorded_at at time zone 'UTC')::date as day, sum(ss.minutes) as study_minutes
    from {{ ref('stg_coach__study_sessions') }} as ss
    group by 1, 2
),

completions as (
    select p.user_id, (t.completed_at at time zone 'UTC')::date as day, count(*) as completed_tasks
    from {{ ref('stg_coach__tasks') }} as t
    join {{ ref('stg_coach__plans') }} as p on p.id = t.plan_id
    where t.status = 'done' and t.completed_at is not null
    group by 1, 2
)

select
    coalesce(m.user_id, c.user_id) as user_id,
    coalesce(m.day, c.day) as day,
    coalesce(m.study_minutes, 0)::int as study_minutes,
    coalesce(c.completed_tasks, 0)::int as completed_tasks
from minutes as m
full join completions as c on c.user_id = m.user_id and c.day = m.day
join {{ ref('stg_coach__users') }} as u on u.id = coalesce(m.user_id, c.user_id)
where not u.is_deleted
  and (coalesce(m.study_minutes, 0) > 0 or coalesce(c.completed_tasks, 0) > 0)
