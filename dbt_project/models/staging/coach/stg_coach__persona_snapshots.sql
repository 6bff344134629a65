-- Traits and preferences (MongoDB collection): raw_coach.persona_snapshots renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    user_id,
    traits,
    preferences,
    keywords,
    created_at,
    {{ quality_issues('coach.persona_snapshots', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'persona_snapshots') }} as src
