-- Writing streaks: raw_mindflow.user_streaks renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
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
    {{ quality_issues('mindflow.user_streaks', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mindflow', 'user_streaks') }} as src
