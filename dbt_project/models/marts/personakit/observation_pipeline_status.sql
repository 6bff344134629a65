-- PersonaKit observation pipeline per live person: observations per processing status and source
-- type, the oldest pending observation, the latest observation.
-- Strategy: incremental, dbt's delete+insert on person_id. Statuses move (pending -> approved/processed/
-- rejected) one observation at a time: a refresh re-aggregates the persons
-- changed_observation_pipeline_status lists from the change feed (macros/change_feed.sql) (a soft-deleted person is
-- taken out and not re-inserted).
-- depends_on: {{ ref('changed_observation_pipeline_status') }}
-- refs inside its incremental branch:
-- depends_on: {{ ref('stg_personakit__persons') }}
-- depends_on: {{ ref('stg_personakit__observations') }}
{{ config(
    materialized='incremental',
    unique_key='person_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ feed_open([{'model': 'changed_observation_pipeline_status', 'columns': ['person_id']}]) }}",
    post_hook="{{ feed_close() }}",
    indexes=[
        {'columns': ['person_id'], 'unique': true},
        {'columns': ['_ingested_at']},
    ]
) }}

with persons as (
    select * from {{ ref('stg_personakit__persons') }}
    where not is_deleted
    {% if is_incremental() %}
      and person_id in (select person_id from {{ ref('changed_observation_pipeline_status') }})
    {% endif %}
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
    max(o.created_at) as last_observation_at,
    greatest(p._ingested_at, max(o._ingested_at)) as _ingested_at,
    count(*) filter (where jsonb_array_length(o.quality_issues) > 0) as flagged_count
from persons as p
left join {{ ref('stg_personakit__observations') }} as o on o.person_id = p.person_id
group by p.person_id, p._ingested_at
