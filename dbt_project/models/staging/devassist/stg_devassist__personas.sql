-- Agent persona definitions: raw_devassist.personas renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    persona_id::text as persona_id,
    persona_name::text as persona_name,
    persona_version::text as persona_version,
    specialization::text as specialization,
    capabilities,
    activation_rules,
    crisis_scenarios,
    behavioral_patterns,
    is_active,
    is_core,
    priority_level,
    created_at,
    updated_at,
    {{ quality_issues('devassist.personas', "src.persona_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'personas') }} as src
