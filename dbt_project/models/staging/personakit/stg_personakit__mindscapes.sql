-- One per person: raw_personakit.mindscapes renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    mindscape_id,
    person_id,
    version,
    narrative,
    created_at,
    updated_at,
    last_processed_observation_id,
    processing_metadata,
    {{ quality_issues('personakit.mindscapes', "src.mindscape_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'mindscapes') }} as src
