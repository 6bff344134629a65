-- The seed's mood_calendar_cache (004): one row per user, year and month in which the user has live
-- entries, with the day-by-day calendar [{date, mood, hasEntry}] for every day of the month.
-- Private entries count (DESIGN rule 2: they may appear in the user's own calendar); so do entries
-- breaking a quality rule, counted in flagged_entry_count.
-- Strategy: incremental, dbt's delete+insert on (user_id, year, month). An app write touches one month
-- of one user; a refresh rebuilds the months changed_mood_calendar_cache lists from the change feed
-- (macros/change_feed.sql): the old and new month of a changed, deleted or re-dated entry, and every month of a
-- changed user; months left without live entries are taken out and not re-inserted.
-- depends_on: {{ ref('changed_mood_calendar_cache') }}
-- refs inside its incremental branch:
-- depends_on: {{ ref('stg_mindflow__journal_entries') }}
-- depends_on: {{ ref('stg_mindflow__users') }}
{{ config(
    materialized='incremental',
    unique_key=['user_id', 'year', 'month'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ feed_open([{'model': 'changed_mood_calendar_cache', 'columns': ['user_id', 'year', 'month']}]) }}",
    post_hook="{{ feed_close() }}",
    indexes=[
        {'columns': ['id'], 'unique': true},
        {'columns': ['user_id', 'year', 'month'], 'unique': true},
        {'columns': ['user_id']},
    ]
) }}

with entries as (
    select
        e.user_id,
        e.entry_date,
        e.mood,
        jsonb_array_length(e.quality_issues) > 0 as has_quality_issues,
        extract(year from e.entry_date)::int as year,
        extract(month from e.entry_date)::int as month,
        e._ingested_at
    {% if is_incremental() %}
    -- each touched month as a date range of its user, as lateral parameters: one index range scan on
    -- raw (user_id, date) per month (a plain join lets the planner hash every entry of the touched
    -- users, i.e. nearly the whole table when ~12% of the user-months are touched)
    -- (months of users deleted meanwhile have no live entries: they are not looked up)
    from (
        select distinct k.user_id, make_date(k.year, k.month, 1) as first_day
        from {{ ref('changed_mood_calendar_cache') }} as k
        join {{ ref('stg_mindflow__users') }} as u on u.id = k.user_id and not u.is_deleted
    ) as k
    cross join lateral (
        select * from {{ ref('int_mindflow__live_entries') }} as le
        where le.user_id = k.user_id
          and le.entry_date >= k.first_day
          and le.entry_date < (k.first_day + interval '1 month')::date
        offset 0  -- keeps the subquery parameterized (not pulled up into a join)
    ) as e
    {% else %}
    from {{ ref('int_mindflow__live_entries') }} as e
    {% endif %}
),

months as (
    select user_id, year, month, count(*) as entry_count,
           count(*) filter (where has_quality_issues) as flagged_entry_count,
           max(_ingested_at) as _ingested_at
    from entries
    group by user_id, year, month
),

days as (
    select
        m.user_id,
        m.year,
        m.month,
        d.day::date as day
    from months as m
    cross join lateral generate_series(
        make_date(m.year, m.month, 1),
        (make_date(m.year, m.month, 1) + interval '1 month - 1 day')::date,
        interval '1 day'
    ) as d(day)  -- a named column: a bare `d` (the set-returning function's alias) is a column sqlglot cannot resolve
),

calendars as (
    -- one grouped pass (a correlated subquery per month rescanned every entry: quadratic at scale)
    select
        d.user_id,
        d.year,
        d.month,
        jsonb_agg(jsonb_build_object(
            'date', to_char(d.day, 'YYYY-MM-DD'),
            'mood', e.mood,
            'hasEntry', e.entry_date is not null
        ) order by d.day, e.mood) as calendar_data  -- mood: a fixed order for two entries on one day
    from days as d
    left join entries as e on e.user_id = d.user_id and e.entry_date = d.day
    group by d.user_id, d.year, d.month
)

select
    md5(m.user_id::text || '|' || m.year || '|' || m.month)::uuid as id,
    m.user_id,
    m.year,
    m.month,
    c.calendar_data,
    m.entry_count::int as entry_count,
    now() as computed_at,
    m._ingested_at,
    m.flagged_entry_count::int as flagged_entry_count
from months as m
join calendars as c on c.user_id = m.user_id and c.year = m.year and c.month = m.month
