-- Feedback on personas: raw_personakit.feedback renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
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
    {{ quality_issues('personakit.feedback', "src.feedback_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'feedback') }} as src
