-- The people the next refresh of observation_pipeline_status rebuilds (macros/change_feed.sql): the
-- person row, or one of their observations, changed, was deleted or (un)quarantined.
{{ feed_keys('observation_pipeline_status', 'raw_personakit.persons', ['person_id']) }}
union
select k.person_id from ({{ feed_keys('observation_pipeline_status', 'raw_personakit.observations', ['person_id']) }}) as k
union
select p.person_id from {{ ref('stg_personakit__persons') }} as p where {{ feed_rebuild('observation_pipeline_status') }}
