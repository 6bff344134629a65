-- Persona mapper configurations: raw_personakit.persona_mappers renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    mapper_id,
    name::text as name,
    purpose,
    version::text as version,
    parent_version::text as parent_version,
    configuration,
    training_metadata,
    status::text as status,
    created_at,
    created_by::text as created_by,
    updated_at,
    updated_by::text as updated_by,
    {{ quality_issues('personakit.persona_mappers', "src.mapper_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'persona_mappers') }} as src
