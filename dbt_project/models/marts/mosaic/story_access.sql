-- Which user may read which story (DESIGN privacy rule 3): one row per (user_id, story_id) that the
-- seed's user_can_access_story grants, with the first rule that grants it. Every story query of the
-- read side joins this table on the user it runs for. A story breaking a quality rule (quarantined:
-- empty content, an approval without approver...) is granted to its own submitter only, flagged
-- has_quality_issues, so the author sees what needs fixing while no one else reads it.
-- Strategy: incremental on two key axes, dbt's delete+insert on (user_id, story_id). A grant depends on
-- the story, its legacy, the legacy's groups and persons (and FAMILY_OF edges), and the user. A refresh
-- re-grants every story changed_story_access__stories lists (touched through the first four, old and
-- new legacy) and every user changed_story_access__users lists, from the change feed (macros/change_feed.sql), so a
-- new account costs one user's grants, not a rebuild.
-- depends_on: {{ ref('changed_story_access__stories') }}
-- depends_on: {{ ref('changed_story_access__users') }}
-- refs inside its incremental branch:
-- depends_on: {{ ref('stg_mosaic__legacies') }}
-- depends_on: {{ ref('stg_mosaic__groups') }}
-- depends_on: {{ ref('stg_mosaic__persons') }}
-- depends_on: {{ ref('stg_mosaic__person_relationships') }}
{{ config(
    materialized='incremental',
    unique_key=['user_id', 'story_id'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ feed_open([{'model': 'changed_story_access__stories', 'columns': ['story_id']}, {'model': 'changed_story_access__users', 'columns': ['user_id']}]) }}",
    post_hook="{{ feed_close() }}",
    indexes=[
        {'columns': ['user_id', 'story_id'], 'unique': true},
        {'columns': ['story_id']},
        {'columns': ['_ingested_at']},
    ]
) }}

with grants as (
    {% if is_incremental() -%}
    ({{ mosaic_story_grants(story_keys=ref('changed_story_access__stories')) }})
    union all
    ({{ mosaic_story_grants(user_keys=ref('changed_story_access__users')) }})
    {%- else -%}
    select * from {{ ref('int_mosaic__story_grants') }}
    {%- endif %}
)

select distinct on (g.user_id, g.story_id)
    g.user_id,
    g.story_id,
    s.legacy_id,
    g.access_reason,
    greatest(g._ingested_at, u._ingested_at) as _ingested_at,
    jsonb_array_length(s.quality_issues) > 0 as has_quality_issues
from grants as g
join {{ ref('stg_mosaic__stories') }} as s on s.id = g.story_id
join {{ ref('stg_mosaic__users') }} as u on u.id = g.user_id
where jsonb_array_length(s.quality_issues) = 0 or g.access_reason = 'submitter'
order by g.user_id, g.story_id, g.priority
