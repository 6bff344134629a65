-- Writing streaks: raw_mindflow.user_streaks renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    user_id,
    current_streak,
    longest_streak,
    last_entry_date,
    streak_start_date,
    total_entries,
    total_words,
    updated_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_mindflow', 'user_streaks') }} as src
where {{ not_quarantined('mindflow.user_streaks', "src.id::text") }}
