-- Per live learner and UTC day: minutes studied and tasks completed (status done). Only days with
-- activity (minutes > 0 or a completed task) appear. _ingested_at: the latest raw row behind the day.
-- Written as one grouped UNION ALL (not a full join) so that a filter on user_id, as
-- coach_daily_progress applies on a refresh, reaches the raw tables.
with activity as (
    select
        ss.user_id,
        (ss.recorded_at at time zone 'UTC')::date as day,
        ss.minutes as study_minutes,
        0 as completed_tasks,
        ss._ingested_at
    from {{ ref('stg_coach__study_sessions') }} as ss
    union all
    select
        p.user_id,
        (t.completed_at at time zone 'UTC')::date,
        0,
        1,
        greatest(t._ingested_at, p._ingested_at)
    from {{ ref('stg_coach__tasks') }} as t
    join {{ ref('stg_coach__plans') }} as p on p.id = t.plan_id
    where t.status = 'done' and t.completed_at is not null
),

days as (
    select
        user_id,
        day,
        sum(study_minutes)::int as study_minutes,
        sum(completed_tasks)::int as completed_tasks,
        max(_ingested_at) as _ingested_at
    from activity
    group by user_id, day
)

select
    d.user_id,
    d.day,
    d.study_minutes,
    d.completed_tasks,
    greatest(d._ingested_at, u._ingested_at) as _ingested_at
from days as d
join {{ ref('stg_coach__users') }} as u on u.id = d.user_id
where not u.is_deleted
  and (d.study_minutes > 0 or d.completed_tasks > 0)
