-- The stories whose readers the next refresh of story_access re-grants (macros/change_feed.sql): the
-- story changed, was deleted or (un)quarantined; or its legacy, a group or a person of the legacy, or
-- a FAMILY_OF edge of such a person did (old and new legacy, old and new persons). Every story when
-- the mart rebuilds.
with changed_edges as (
    {{ feed_keys('story_access', 'raw_mosaic.person_relationships', ['from_person_id', 'to_person_id']) }}
),

changed_legacies as (
    select k.id as legacy_id from ({{ feed_keys('story_access', 'raw_mosaic.legacies', ['id']) }}) as k
    union
    select k.legacy_id from ({{ feed_keys('story_access', 'raw_mosaic.groups', ['legacy_id']) }}) as k
    union
    select k.legacy_id from ({{ feed_keys('story_access', 'raw_mosaic.persons', ['legacy_id']) }}) as k
    union
    select p.legacy_id from {{ ref('stg_mosaic__persons') }} as p
    where p.id in (select from_person_id from changed_edges union select to_person_id from changed_edges)
)

select k.id as story_id from ({{ feed_keys('story_access', 'raw_mosaic.stories', ['id']) }}) as k
union
select s.id from {{ ref('stg_mosaic__stories') }} as s where s.legacy_id in (select legacy_id from changed_legacies)
union
select s.id from {{ ref('stg_mosaic__stories') }} as s where {{ feed_rebuild('story_access') }}
