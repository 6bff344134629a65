-- Who is mentioned where, for a reader (seed 000, (:Story)-[:MENTIONS]->(:Person)): one row per (user,
-- story, person) for the stories that user may read (story_access, privacy rule 3). Query it with the
-- user it runs for: `where user_id = ...`.
-- Strategy: a table rebuilt with story_access. Not a view: a view on a mart table is dropped (cascade)
-- whenever dbt rebuilds that table alone, e.g. a full refresh of story_access.
{{ config(materialized='table') }}

select
    a.user_id,
    a.legacy_id,
    a.story_id,
    m.person_id,
    p.name as person_name,
    p.relationship_type,
    a.access_reason
from {{ ref('story_access') }} as a
join {{ ref('stg_mosaic__story_mentions') }} as m on m.story_id = a.story_id
join {{ ref('stg_mosaic__persons') }} as p on p.id = m.person_id
