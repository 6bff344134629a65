-- Per legacy: stories by visibility and by type, distinct contributors, and the latest story.
-- Strategy: incremental, dbt's delete+insert on legacy_id. One row per legacy aggregated over its stories
-- (a handful per legacy): a refresh re-aggregates the legacies changed_legacy_story_summary lists from the
-- change feed (macros/change_feed.sql); a story moved to another legacy touches both (its before and after images).
-- depends_on: {{ ref('changed_legacy_story_summary') }}
-- refs inside its incremental branch:
-- depends_on: {{ ref('stg_mosaic__legacies') }}
{{ config(
    materialized='incremental',
    unique_key='legacy_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ feed_open([{'model': 'changed_legacy_story_summary', 'columns': ['legacy_id']}]) }}",
    post_hook="{{ feed_close() }}",
    indexes=[
        {'columns': ['legacy_id'], 'unique': true},
        {'columns': ['_ingested_at']},
    ]
) }}

with legacies as (
    select * from {{ ref('stg_mosaic__legacies') }}
    {% if is_incremental() %}
    where id in (select legacy_id from {{ ref('changed_legacy_story_summary') }})
    {% endif %}
),

stories as (
    select * from {{ ref('stg_mosaic__stories') }}
    where legacy_id in (select id from legacies)
),

latest as (
    select distinct on (legacy_id) legacy_id, id as last_story_id, title as last_story_title, created_at as last_story_at
    from stories
    order by legacy_id, created_at desc nulls last, id
),

counts as (
    select
        legacy_id,
        count(*) as story_count,
        count(*) filter (where visibility_level = 'public') as public_stories,
        count(*) filter (where visibility_level = 'private') as private_stories,
        count(*) filter (where visibility_level = 'group') as group_stories,
        count(*) filter (where visibility_level = 'family_only') as family_only_stories,
        count(*) filter (where story_type = 'written') as written_stories,
        count(*) filter (where story_type = 'transcribed') as transcribed_stories,
        count(*) filter (where story_type = 'imported') as imported_stories,
        count(*) filter (where story_type = 'sms') as sms_stories,
        count(*) filter (where story_type = 'email') as email_stories,
        count(*) filter (where story_type = 'audio') as audio_stories,
        count(distinct submitted_by) as contributor_count,
        count(*) filter (where jsonb_array_length(quality_issues) > 0) as flagged_stories,
        max(_ingested_at) as _ingested_at
    from stories
    group by legacy_id
)

select
    l.id as legacy_id,
    l.person_name,
    coalesce(c.story_count, 0) as story_count,
    coalesce(c.public_stories, 0) as public_stories,
    coalesce(c.private_stories, 0) as private_stories,
    coalesce(c.group_stories, 0) as group_stories,
    coalesce(c.family_only_stories, 0) as family_only_stories,
    coalesce(c.written_stories, 0) as written_stories,
    coalesce(c.transcribed_stories, 0) as transcribed_stories,
    coalesce(c.imported_stories, 0) as imported_stories,
    coalesce(c.sms_stories, 0) as sms_stories,
    coalesce(c.email_stories, 0) as email_stories,
    coalesce(c.audio_stories, 0) as audio_stories,
    coalesce(c.contributor_count, 0) as contributor_count,
    lt.last_story_id,
    lt.last_story_title,
    lt.last_story_at,
    greatest(l._ingested_at, c._ingested_at) as _ingested_at,
    coalesce(c.flagged_stories, 0) as flagged_stories
from legacies as l
left join counts as c on c.legacy_id = l.id
left join latest as lt on lt.legacy_id = l.id
