-- Mindscape goals: raw_personakit.goals renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    goal_id,
    mindscape_id,
    description,
    timeframe::text as timeframe,
    priority::text as priority,
    volatility::text as volatility,
    derived_from,
    confidence,
    created_at,
    updated_at,
    {{ quality_issues('personakit.goals', "src.goal_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'goals') }} as src
