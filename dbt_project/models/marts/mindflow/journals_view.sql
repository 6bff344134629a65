-- The seed's journals_view (004): live entries of live users with tags and attachments as JSON.
-- Strategy: incremental, dbt's delete+insert on id. It is the largest read view (one wide row per entry)
-- and each app write touches a handful of entries, so a refresh rewrites only the entries
-- changed_journals_view lists from the change feed (macros/change_feed.sql): changed or deleted entries, tag links,
-- tags, attachments and users, and quarantine changes; entries soft-deleted, of a deleted user, or
-- hard-deleted are taken out and not re-inserted. An entry breaking a quality rule stays, flagged
-- (has_quality_issues, quality_issues).
-- Its blocking relationships test (user_id -> user_profile_view.id) needs user_profile_view built first:
-- declared here so the profile view is an ancestor, and `--indirect-selection buildable` runs the
-- test whenever journals_view is built alone (a daemon refresh), instead of skipping it.
-- depends_on: {{ ref('user_profile_view') }}
-- depends_on: {{ ref('changed_journals_view') }}
-- refs inside its incremental branch:
-- depends_on: {{ ref('stg_mindflow__journal_entries') }}
-- depends_on: {{ ref('stg_mindflow__users') }}
-- depends_on: {{ ref('stg_mindflow__journal_entry_tags') }}
-- depends_on: {{ ref('stg_mindflow__tags') }}
-- depends_on: {{ ref('stg_mindflow__attachments') }}
{{ config(
    materialized='incremental',
    unique_key='id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ feed_open([{'model': 'changed_journals_view', 'columns': ['id']}]) }}",
    post_hook="{{ feed_close() }}",
    indexes=[
        {'columns': ['id'], 'unique': true},
        {'columns': ['user_id']},
        {'columns': ['date']},
        {'columns': ['user_id', 'date']},
        {'columns': ['mood']},
        {'columns': ['created_at']},
        {'columns': ['tags'], 'type': 'gin'},
    ]
) }}

with entries as (
    select * from {{ ref('int_mindflow__live_entries') }}
    {% if is_incremental() %}
    where id in (select id from {{ ref('changed_journals_view') }})
    {% endif %}
){% if not is_incremental() %},

entry_tags as (
    select
        jet.journal_entry_id,
        jsonb_agg(t.name order by t.name) as tags,
        max(greatest(jet._ingested_at, t._ingested_at)) as _ingested_at
    from {{ ref('stg_mindflow__journal_entry_tags') }} as jet
    join {{ ref('stg_mindflow__tags') }} as t on t.id = jet.tag_id
    where jet.journal_entry_id in (select id from entries)
    group by jet.journal_entry_id
),

entry_attachments as (
    select
        a.journal_entry_id,
        {{ journals_view_attachments_json('a') }} as attachments,
        count(*) as attachment_count,
        max(a._ingested_at) as _ingested_at
    from {{ ref('stg_mindflow__attachments') }} as a
    where not a.is_deleted
      and a.journal_entry_id in (select id from entries)
    group by a.journal_entry_id
)
{% endif %}

select
    e.id,
    e.user_id,
    e.user_name,
    e.user_photo,
    e.entry_date as date,
    e.title,
    e.content,
    e.mood,
    e.location,
    e.weather,
    e.word_count,
    e.reading_time,
    e.is_private,
    e.created_at,
    e.updated_at,
    coalesce(et.tags, '[]'::jsonb) as tags,
    coalesce(ea.attachments, '[]'::jsonb) as attachments,
    coalesce(ea.attachment_count, 0)::bigint as attachment_count,
    greatest(e._ingested_at, et._ingested_at, ea._ingested_at) as _ingested_at,
    jsonb_array_length(e.quality_issues) > 0 as has_quality_issues,
    e.quality_issues
from entries as e
{% if is_incremental() %}
-- per touched entry, as lateral lookups by the raw journal_entry_id indexes (grouped joins on
-- `journal_entry_id in (entries)` let the planner hash whole tag-link and attachment tables);
-- an aggregate over no rows gives null tags and attachments, as the left joins below do
left join lateral (
    select
        jsonb_agg(t.name order by t.name) as tags,
        max(greatest(jet._ingested_at, t._ingested_at)) as _ingested_at
    from {{ ref('stg_mindflow__journal_entry_tags') }} as jet
    cross join lateral (
        select t.name, t._ingested_at from {{ ref('stg_mindflow__tags') }} as t
        where t.id = jet.tag_id
        offset 0  -- the link's tag looked up per link (a join hashes the whole tag table once per entry)
    ) as t
    where jet.journal_entry_id = e.id
) as et on true
left join lateral (
    select
        {{ journals_view_attachments_json('a') }} as attachments,
        count(*) as attachment_count,
        max(a._ingested_at) as _ingested_at
    from {{ ref('stg_mindflow__attachments') }} as a
    where not a.is_deleted
      and a.journal_entry_id = e.id
) as ea on true
{% else %}
left join entry_tags as et on et.journal_entry_id = e.id
left join entry_attachments as ea on ea.journal_entry_id = e.id
{% endif %}
