-- App-written progress snapshots: raw_coach.progress_snapshots renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    user_id,
    streak_days,
    completed_tasks,
    study_minutes,
    captured_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'progress_snapshots') }} as src
where {{ not_quarantined('coach.progress_snapshots', "src.id::text") }}
