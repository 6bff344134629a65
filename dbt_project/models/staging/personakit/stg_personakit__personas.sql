-- Generated personas (TTL): raw_personakit.personas renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    persona_instance_id,
    source_mapper_id,
    source_mindscape_id,
    person_id,
    composite_key::text as composite_key,
    persona_core,
    contextual_overlay,
    generation_metadata,
    usage_metadata,
    created_at,
    expires_at,
    ttl_hours,
    {{ quality_issues('personakit.personas', "src.persona_instance_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'personas') }} as src
