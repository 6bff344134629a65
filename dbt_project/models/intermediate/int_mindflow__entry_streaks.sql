-- Each user's writing streak recomputed from their live journal entries (seed 004 user_streaks, as the
-- app keeps it and the quality rule streak_consistent checks it): runs of consecutive entry dates; the
-- longest run, the current run (the one ending at the last entry date) with its start, and the count
-- of entries. user_profile_view shows these beside the app's own figures, so a stale or inconsistent
-- user_streaks row is visible instead of reading 0. Every live entry counts (private ones too: the
-- figures are the user's own); users are not filtered here (user_profile_view joins live users).
with days as (
    select
        user_id,
        entry_date,
        _ingested_at,
        entry_date - (row_number() over (partition by user_id order by entry_date))::int as run_key
    from {{ ref('stg_mindflow__journal_entries') }}
    where not is_deleted
),

runs as (
    select user_id, run_key, min(entry_date) as run_start, max(entry_date) as run_end, count(*) as run_length,
           max(_ingested_at) as _ingested_at
    from days
    group by user_id, run_key
)

select distinct on (user_id)
    user_id,
    sum(run_length) over (partition by user_id)::int as total_entries,
    max(run_length) over (partition by user_id)::int as longest_streak,
    run_length::int as current_streak,
    run_start as streak_start_date,
    run_end as last_entry_date,
    max(_ingested_at) over (partition by user_id) as _ingested_at
from runs
order by user_id, run_end desc
