-- Every (user, story, reason) that the seed's user_can_access_story (000) grants: submitter, legacy
-- admin (legacies.created_by), public, group member of a group of the story's legacy, and
-- family_only for family of the legacy (mosaic.check_family_relationship: a Person of the legacy
-- carrying the user's account, marked family or on a FAMILY_OF edge). Private grants nothing more.
with stories as (
    select id as story_id, legacy_id, submitted_by, visibility_level
    from {{ ref('stg_mosaic__stories') }}
),

users as (
    select id as user_id from {{ ref('stg_mosaic__users') }}
),

legacies as (
    select id as legacy_id, created_by from {{ ref('stg_mosaic__legacies') }}
),

group_members as (
    select distinct g.legacy_id, m.user_id
    from {{ ref('stg_mosaic__groups') }} as g
    cross join lateral unnest(g.members) as m(user_id)
),

family as (
    select distinct p.legacy_id, p.user_id
    from {{ ref('stg_mosaic__persons') }} as p
    where p.user_id is not null
      and (
        p.relationship_type = 'family'
        or exists (
            select 1 from {{ ref('stg_mosaic__person_relationships') }} as r
            where (r.from_person_id = p.id or r.to_person_id = p.id)
              and r.relationship = 'FAMILY_OF'
        )
      )
)

select s.story_id, s.submitted_by as user_id, 'submitter' as access_reason, 1 as priority
from stories as s
union all
select s.story_id, l.created_by, 'legacy_admin', 2
from stories as s join legacies as l on l.legacy_id = s.legacy_id
union all
select s.story_id, u.user_id, 'public', 3
from stories as s cross join users as u
where s.visibility_level = 'public'
union all
select s.story_id, gm.user_id, 'group', 4
from stories as s join group_members as gm on gm.legacy_id = s.legacy_id
where s.visibility_level = 'group'
union all
select s.story_id, f.user_id, 'family', 5
from stories as s join family as f on f.legacy_id = s.legacy_id
where s.visibility_level = 'family_only'
