-- Mindscape goals: raw_personakit.goals renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
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
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'goals') }} as src
where {{ not_quarantined('personakit.goals', "src.goal_id::text") }}
