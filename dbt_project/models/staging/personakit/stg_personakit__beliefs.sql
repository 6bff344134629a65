-- Mindscape beliefs: raw_personakit.beliefs renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    belief_id,
    mindscape_id,
    statement,
    category::text as category,
    strength,
    volatility::text as volatility,
    derived_from,
    confidence,
    created_at,
    updated_at,
    {{ quality_issues('personakit.beliefs', "src.belief_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'beliefs') }} as src
