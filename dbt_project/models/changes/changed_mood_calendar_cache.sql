-- The (user, year, month) calendars the next refresh of mood_calendar_cache rebuilds
-- (macros/change_feed.sql): the old and new month of every changed, deleted or (un)quarantined entry,
-- and every month with an entry of a changed user (a soft-deleted user's months go). Every month when
-- the mart rebuilds.
with changed_users as (
    {{ feed_keys('mood_calendar_cache', 'raw_mindflow.users', ['id']) }}
),

days as (
    {{ feed_keys('mood_calendar_cache', 'raw_mindflow.journal_entries', ['user_id', 'date::date']) }}
    union all
    select e.user_id, e.entry_date from {{ ref('stg_mindflow__journal_entries') }} as e
    where e.user_id in (select id from changed_users)
    union all
    select e.user_id, e.entry_date from {{ ref('stg_mindflow__journal_entries') }} as e
    where {{ feed_rebuild('mood_calendar_cache') }}
)

select distinct user_id, extract(year from date)::int as year, extract(month from date)::int as month
from days
where user_id is not null and date is not null
