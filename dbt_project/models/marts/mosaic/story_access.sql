-- Which user may read which story (DESIGN privacy rule 3): one row per (user_id, story_id) that the
-- seed's user_can_access_story grants, with the first rule that grants it. Every story query of the
-- read side joins this table on the user it runs for.
-- Strategy: table. A grant depends on the story, its legacy, every group of the legacy, the
-- persons and FAMILY_OF edges, and (for public stories) on every user: a new user or a new group
-- member changes rows of many stories at once, so key-wise replacement buys little; a rebuild is
-- one join over small tables.
{{ config(
    materialized='table',
    indexes=[
        {'columns': ['user_id', 'story_id'], 'unique': true},
        {'columns': ['story_id']},
    ]
) }}

select distinct on (g.user_id, g.story_id)
    g.user_id,
    g.story_id,
    s.legacy_id,
    g.access_reason
from {{ ref('int_mosaic__story_grants') }} as g
join {{ ref('stg_mosaic__stories') }} as s on s.id = g.story_id
join {{ ref('stg_mosaic__users') }} as u on u.id = g.user_id
order by g.user_id, g.story_id, g.priority
