-- App-written progress snapshots: raw_coach.progress_snapshots renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    user_id,
    streak_days,
    completed_tasks,
    study_minutes,
    captured_at,
    {{ quality_issues('coach.progress_snapshots', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'progress_snapshots') }} as src
