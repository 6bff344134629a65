{#- Touched keys per incremental mart since watermark wm (see incremental.sql). Each returns rows of
    the mart's unique key. -#}

{% macro journals_view_changed_keys(wm) -%}
    select id from {{ ref('stg_mindflow__journal_entries') }} where _ingested_at > {{ wm }}
    union
    select je.id from {{ ref('stg_mindflow__journal_entries') }} je
    join {{ ref('stg_mindflow__users') }} u on u.id = je.user_id
    where u._ingested_at > {{ wm }}
    union
    select journal_entry_id from {{ ref('stg_mindflow__journal_entry_tags') }} where _ingested_at > {{ wm }}
    union
    select jet.journal_entry_id from {{ ref('stg_mindflow__journal_entry_tags') }} jet
    join {{ ref('stg_mindflow__tags') }} t on t.id = jet.tag_id
    where t._ingested_at > {{ wm }}
    union
    select journal_entry_id from {{ ref('stg_mindflow__attachments') }} where _ingested_at > {{ wm }}
    union
    select record_key::uuid from ({{ quarantine_changed_keys('mindflow.journal_entries', wm) }}) q
    union
    select je.id from {{ ref('stg_mindflow__journal_entries') }} je
    where je.user_id::text in ({{ quarantine_changed_keys('mindflow.users', wm) }})
    {%- if is_incremental() %}
    {#- hard-deleted children leave no raw row behind: entries whose stored attachments or tag count
        no longer match raw (index lookups per stored entry with attachments / tags) #}
    union
    select v.id from {{ this }} v
    where v.attachment_count > 0
      and exists (
        select 1 from jsonb_array_elements(v.attachments) a
        where not exists (select 1 from {{ source('raw_mindflow', 'attachments') }} r
                          where r.id = (a->>'id')::uuid and r.deleted_at is null))
    union
    select v.id from {{ this }} v
    where jsonb_array_length(v.tags) <> (
        select count(*) from {{ source('raw_mindflow', 'journal_entry_tags') }} r where r.journal_entry_id = v.id)
    {%- endif %}
{%- endmacro %}

{#- (user_id, year, month): months of changed entries, every month of users whose row changed, and
    months whose stored entry_count no longer matches (an entry moved to another date). -#}
{% macro mood_calendar_cache_changed_keys(wm) -%}
    with changed_entries as (
        select user_id, entry_date from {{ ref('stg_mindflow__journal_entries') }}
        where _ingested_at > {{ wm }}
           or id::text in ({{ quarantine_changed_keys('mindflow.journal_entries', wm) }})
    ),
    changed_users as (
        select id as user_id from {{ ref('stg_mindflow__users') }} where _ingested_at > {{ wm }}
        union
        select record_key::uuid from ({{ quarantine_changed_keys('mindflow.users', wm) }}) q
    ),
    touched_users as (
        select user_id from changed_entries union select user_id from changed_users
    ),
    live_months as (
        select e.user_id, extract(year from e.entry_date)::int as year,
               extract(month from e.entry_date)::int as month, count(*) as entry_count
        from {{ ref('int_mindflow__live_entries') }} e
        where e.user_id in (select user_id from changed_entries)
        group by 1, 2, 3
    ),
    stored_months as (
        select user_id, year, month, entry_count from {{ this }}
        where user_id in (select user_id from touched_users)
    )
    select user_id, extract(year from entry_date)::int, extract(month from entry_date)::int from changed_entries
    union
    select user_id, year, month from stored_months where user_id in (select user_id from changed_users)
    union
    select coalesce(l.user_id, s.user_id), coalesce(l.year, s.year), coalesce(l.month, s.month)
    from live_months l
    full join (select * from stored_months where user_id in (select user_id from changed_entries)) s
      on s.user_id = l.user_id and s.year = l.year and s.month = l.month
    where l.entry_count is distinct from s.entry_count
    union
    select user_id, extract(year from entry_date)::int, extract(month from entry_date)::int
    from {{ ref('int_mindflow__live_entries') }} where user_id in (select user_id from changed_users)
{%- endmacro %}

{#- user ids: any of the four joined tables changed, or the stored row was computed on an earlier
    day (joined_days_ago moves with CURRENT_DATE). -#}
{% macro user_profile_view_changed_keys(wm) -%}
    select id from {{ ref('stg_mindflow__users') }} where _ingested_at > {{ wm }}
    union select user_id from {{ ref('stg_mindflow__user_streaks') }} where _ingested_at > {{ wm }}
    union select user_id from {{ ref('stg_mindflow__user_settings') }} where _ingested_at > {{ wm }}
    union select user_id from {{ ref('stg_mindflow__user_gdpr_consent') }} where _ingested_at > {{ wm }}
    union select record_key::uuid from ({{ quarantine_changed_keys('mindflow.users', wm) }}) q
    union select id from {{ this }} where computed_at::date < current_date
    {#- after the pre-hook's delete, the rows it removed are found again here: live but not stored #}
    union select u.id from {{ ref('stg_mindflow__users') }} u
    where not u.is_deleted and not exists (select 1 from {{ this }} p where p.id = u.id)
{%- endmacro %}

{% macro active_agent_sessions_changed_keys(wm) -%}
    select agent_session_id from {{ ref('stg_devassist__agent_sessions') }} where _ingested_at > {{ wm }}
    union
    select agent_session_id from {{ ref('stg_devassist__governance_events') }} where _ingested_at > {{ wm }}
    union
    select record_key::uuid from ({{ quarantine_changed_keys('devassist.agent_sessions', wm) }}) q
{%- endmacro %}
