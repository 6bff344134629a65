-- Feedback on personas: raw_personakit.feedback renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    feedback_id,
    persona_instance_id,
    actor_id,
    task_context,
    ratings,
    specific_feedback,
    impact,
    submitted_at,
    submitted_by::text as submitted_by,
    processing_status::text as processing_status,
    processed_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'feedback') }} as src
where {{ not_quarantined('personakit.feedback', "src.feedback_id::text") }}
