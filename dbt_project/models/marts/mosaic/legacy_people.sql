-- The person graph per person node (seed 000, Neo4j (:Person) with KNEW, FAMILY_OF, WORKED_WITH,
-- FRIENDS_WITH and (:Story)-[:MENTIONS]->(:Person)): who each person is to the legacy, their
-- relationships with the legacy's other people (both directions), and how often stories mention them.
-- Story ids are not listed here (stories are read through a user's access, reader_story_mentions);
-- the mention counts are over all of the legacy's stories.
-- Strategy: a table rebuilt every run (a few people per legacy).
with persons as (
    select * from {{ ref('stg_mosaic__persons') }}
),

edges as (
    select r.from_person_id as person_id, 'out'::text as direction, r.relationship, r.to_person_id as other_id, r.properties
    from {{ ref('stg_mosaic__person_relationships') }} as r
    union all
    select r.to_person_id, 'in', r.relationship, r.from_person_id, r.properties
    from {{ ref('stg_mosaic__person_relationships') }} as r
),

relationships as (
    select
        e.person_id,
        count(*) as relationship_count,
        jsonb_agg(jsonb_build_object('kind', e.relationship, 'direction', e.direction, 'otherPersonId', e.other_id,
                                     'otherName', o.name, 'properties', e.properties)
                  order by e.relationship, o.name, e.other_id, e.direction) as relationships
    from edges as e
    left join persons as o on o.id = e.other_id
    group by e.person_id
),

mentions as (
    select m.person_id, count(*) as mention_count, min(s.created_at) as first_mentioned_at, max(s.created_at) as last_mentioned_at
    from {{ ref('stg_mosaic__story_mentions') }} as m
    join {{ ref('stg_mosaic__stories') }} as s on s.id = m.story_id
    group by m.person_id
)

select
    p.id as person_id,
    p.legacy_id,
    p.name,
    p.relationship_type,
    p.user_id,
    p.user_id is not null as has_account,
    coalesce(r.relationship_count, 0) as relationship_count,
    coalesce(r.relationships, '[]'::jsonb) as relationships,
    coalesce(m.mention_count, 0) as mention_count,
    m.first_mentioned_at,
    m.last_mentioned_at,
    p._ingested_at
from persons as p
left join relationships as r on r.person_id = p.id
left join mentions as m on m.person_id = p.id
