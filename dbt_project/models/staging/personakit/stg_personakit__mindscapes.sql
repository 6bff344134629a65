-- One per person: raw_personakit.mindscapes renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    mindscape_id,
    person_id,
    version,
    narrative,
    created_at,
    updated_at,
    last_processed_observation_id,
    processing_metadata,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'mindscapes') }} as src
where {{ not_quarantined('personakit.mindscapes', "src.mindscape_id::text") }}
