-- Raw observations: raw_personakit.observations renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    observation_id,
    person_id,
    source_type::text as source_type,
    source_metadata,
    content_raw,
    content_structured,
    media_attachments,
    processing_status::text as processing_status,
    approved_by::text as approved_by,
    approved_at,
    rejection_reason,
    created_at,
    updated_at,
    version,
    {{ quality_issues('personakit.observations', "src.observation_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'observations') }} as src
