-- Person-graph facts per legacy (seed 000, Neo4j schema): the people around the person remembered, by
-- relationship_type; the relationship edges by kind (KNEW, FAMILY_OF, WORKED_WITH, FRIENDS_WITH) among
-- them; mentions of them in the legacy's stories; the most mentioned and the most connected person.
-- An edge belongs to the legacy of its from-person; an edge whose two people belong to different
-- legacies is counted in cross_legacy_edges (a data-quality finding: the graph is per legacy).
-- Strategy: a table rebuilt every run (one row per legacy over small per-legacy sets).
with people as (
    select * from {{ ref('legacy_people') }}
),

edges as (
    select r.*, f.legacy_id, f.legacy_id is distinct from t.legacy_id as cross_legacy
    from {{ ref('stg_mosaic__person_relationships') }} as r
    join {{ ref('stg_mosaic__persons') }} as f on f.id = r.from_person_id
    left join {{ ref('stg_mosaic__persons') }} as t on t.id = r.to_person_id
),

edge_counts as (
    select
        legacy_id,
        count(*) as relationship_edges,
        count(*) filter (where relationship = 'KNEW') as knew_edges,
        count(*) filter (where relationship = 'FAMILY_OF') as family_of_edges,
        count(*) filter (where relationship = 'WORKED_WITH') as worked_with_edges,
        count(*) filter (where relationship = 'FRIENDS_WITH') as friends_with_edges,
        count(*) filter (where cross_legacy) as cross_legacy_edges,
        max(_ingested_at) as _ingested_at
    from edges
    group by legacy_id
),

people_counts as (
    select
        legacy_id,
        count(*) as people_count,
        count(*) filter (where has_account) as people_with_accounts,
        count(*) filter (where mention_count > 0) as mentioned_people,
        sum(mention_count) as mentions,
        max(_ingested_at) as _ingested_at
    from people
    group by legacy_id
),

by_type as (
    select legacy_id, jsonb_object_agg(coalesce(relationship_type, 'unknown'), n order by coalesce(relationship_type, 'unknown')) as people_by_relationship_type
    from (select legacy_id, relationship_type, count(*) as n from people group by legacy_id, relationship_type) as x
    group by legacy_id
),

most_mentioned as (
    select distinct on (legacy_id) legacy_id, person_id, name
    from people where mention_count > 0
    order by legacy_id, mention_count desc, name, person_id
),

most_connected as (
    select distinct on (legacy_id) legacy_id, person_id, name
    from people where relationship_count > 0
    order by legacy_id, relationship_count desc, name, person_id
),

stories_with_mentions as (
    select s.legacy_id, count(distinct m.story_id) as stories_with_mentions
    from {{ ref('stg_mosaic__story_mentions') }} as m
    join {{ ref('stg_mosaic__stories') }} as s on s.id = m.story_id
    group by s.legacy_id
)

select
    l.id as legacy_id,
    l.person_name,
    coalesce(pc.people_count, 0) as people_count,
    coalesce(pc.people_with_accounts, 0) as people_with_accounts,
    coalesce(bt.people_by_relationship_type, '{}'::jsonb) as people_by_relationship_type,
    coalesce(ec.relationship_edges, 0) as relationship_edges,
    coalesce(ec.knew_edges, 0) as knew_edges,
    coalesce(ec.family_of_edges, 0) as family_of_edges,
    coalesce(ec.worked_with_edges, 0) as worked_with_edges,
    coalesce(ec.friends_with_edges, 0) as friends_with_edges,
    coalesce(ec.cross_legacy_edges, 0) as cross_legacy_edges,
    coalesce(pc.mentions, 0)::bigint as mentions,
    coalesce(pc.mentioned_people, 0) as mentioned_people,
    coalesce(sm.stories_with_mentions, 0) as stories_with_mentions,
    mm.person_id as most_mentioned_person_id,
    mm.name as most_mentioned_name,
    mc.person_id as most_connected_person_id,
    mc.name as most_connected_name,
    greatest(l._ingested_at, pc._ingested_at, ec._ingested_at) as _ingested_at
from {{ ref('stg_mosaic__legacies') }} as l
left join people_counts as pc on pc.legacy_id = l.id
left join edge_counts as ec on ec.legacy_id = l.id
left join by_type as bt on bt.legacy_id = l.id
left join most_mentioned as mm on mm.legacy_id = l.id
left join most_connected as mc on mc.legacy_id = l.id
left join stories_with_mentions as sm on sm.legacy_id = l.id
