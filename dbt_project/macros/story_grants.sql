{#- The grant rules of the seed's user_can_access_story (000), shared by int_mosaic__story_grants
    (all grants, unit-tested) and story_access (incremental: only the grants of touched stories or
    touched users). story_keys / user_keys: a relation with a story_id / user_id column restricting
    the stories / users considered, or none for all. Every row carries the latest _ingested_at of the
    rows that grant it (the story, and the legacy, user, group or person behind the rule). -#}
{% macro mosaic_story_grants(story_keys=none, user_keys=none) -%}
with stories as (
    select id as story_id, legacy_id, submitted_by, visibility_level, _ingested_at
    from {{ ref('stg_mosaic__stories') }}
    {%- if story_keys is not none %}
    where id in (select story_id from {{ story_keys }})
    {%- endif %}
),

users as (
    select id as user_id, _ingested_at from {{ ref('stg_mosaic__users') }}
    {%- if user_keys is not none %}
    where id in (select user_id from {{ user_keys }})
    {%- endif %}
),

legacies as (
    select id as legacy_id, created_by, _ingested_at from {{ ref('stg_mosaic__legacies') }}
    where id in (select legacy_id from stories)
),

group_members as (
    select g.legacy_id, m.user_id, max(g._ingested_at) as _ingested_at
    from {{ ref('stg_mosaic__groups') }} as g
    cross join lateral unnest(g.members) as m(user_id)
    where g.legacy_id in (select legacy_id from stories)
    group by g.legacy_id, m.user_id
),

family as (
    select p.legacy_id, p.user_id, max(p._ingested_at) as _ingested_at
    from {{ ref('stg_mosaic__persons') }} as p
    where p.user_id is not null
      and p.legacy_id in (select legacy_id from stories)
      and (
        p.relationship_type = 'family'
        or exists (
            select 1 from {{ ref('stg_mosaic__person_relationships') }} as r
            where (r.from_person_id = p.id or r.to_person_id = p.id)
              and r.relationship = 'FAMILY_OF'
        )
      )
    group by p.legacy_id, p.user_id
),

grants as (
    select s.story_id, s.submitted_by as user_id, 'submitter' as access_reason, 1 as priority, s._ingested_at
    from stories as s
    union all
    select s.story_id, l.created_by, 'legacy_admin', 2, greatest(s._ingested_at, l._ingested_at)
    from stories as s join legacies as l on l.legacy_id = s.legacy_id
    union all
    select s.story_id, u.user_id, 'public', 3, greatest(s._ingested_at, u._ingested_at)
    from stories as s cross join users as u
    where s.visibility_level = 'public'
    union all
    select s.story_id, gm.user_id, 'group', 4, greatest(s._ingested_at, gm._ingested_at)
    from stories as s join group_members as gm on gm.legacy_id = s.legacy_id
    where s.visibility_level = 'group'
    union all
    select s.story_id, f.user_id, 'family', 5, greatest(s._ingested_at, f._ingested_at)
    from stories as s join family as f on f.legacy_id = s.legacy_id
    where s.visibility_level = 'family_only'
)

select story_id, user_id, access_reason, priority, _ingested_at from grants
{%- if user_keys is not none %}
where user_id in (select user_id from {{ user_keys }})
{%- endif %}
{%- endmacro %}
