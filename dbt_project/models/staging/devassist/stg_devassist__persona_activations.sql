-- Persona activations: raw_devassist.persona_activations renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    activation_id,
    agent_session_id,
    persona_id::text as persona_id,
    activation_trigger::text as activation_trigger,
    activation_context,
    activated_at,
    deactivated_at,
    results,
    {{ quality_issues('devassist.persona_activations', "src.activation_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'persona_activations') }} as src
