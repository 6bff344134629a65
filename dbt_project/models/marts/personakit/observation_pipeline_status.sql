-- PersonaKit observation pipeline per live person: observations per processing status and source
-- type, the oldest pending observation, the latest observation.
-- Strategy: table. One row per person aggregated over all of the person's observations; the
-- statuses move (pending -> approved/processed/rejected) in place, and a rebuild is one grouped scan.
{{ config(
    materialized='table',
    indexes=[{'columns': ['person_id'], 'unique': true}]
) }}

with observations as (
    select * from {{ ref('stg_personakit__observations') }}
)

select
    p.person_id,
    count(o.observation_id) as total_observations,
    count(*) filter (where o.processing_status = 'pending') as pending_count,
    count(*) filter (where o.processing_status = 'approved') as approved_count,
    count(*) filter (where o.processing_status = 'processed') as processed_count,
    count(*) filter (where o.processing_status = 'rejected') as rejected_count,
    count(*) filter (where o.source_type = 'chat_log') as chat_log_count,
    count(*) filter (where o.source_type = 'document') as document_count,
    count(*) filter (where o.source_type = 'interview') as interview_count,
    count(*) filter (where o.source_type = 'assessment') as assessment_count,
    count(*) filter (where o.source_type = 'api_import') as api_import_count,
    min(o.created_at) filter (where o.processing_status = 'pending') as oldest_pending_at,
    max(o.created_at) as last_observation_at
from {{ ref('stg_personakit__persons') }} as p
left join observations as o on o.person_id = p.person_id
where not p.is_deleted
group by p.person_id
