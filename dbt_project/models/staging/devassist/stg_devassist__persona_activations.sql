-- Persona activations: raw_devassist.persona_activations renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    activation_id,
    agent_session_id,
    persona_id::text as persona_id,
    activation_trigger::text as activation_trigger,
    activation_context,
    activated_at,
    deactivated_at,
    results,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'persona_activations') }} as src
where {{ not_quarantined('devassist.persona_activations', "src.activation_id::text") }}
