-- Mindscape beliefs: raw_personakit.beliefs renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
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
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'beliefs') }} as src
where {{ not_quarantined('personakit.beliefs', "src.belief_id::text") }}
