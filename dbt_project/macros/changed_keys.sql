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
        no longer match raw (PK lookups per stored attachment; one grouped pass over the tag links) #}
    union
    select v.id from {{ this }} v
    where v.attachment_count > 0
      and exists (
        select 1 from jsonb_array_elements(v.attachments) a
        where not exists (select 1 from {{ source('raw_mindflow', 'attachments') }} r
                          where r.id = (a->>'id')::uuid and r.deleted_at is null))
    union
    select v.id from {{ this }} v
    left join (
        select journal_entry_id, count(*) as n from {{ source('raw_mindflow', 'journal_entry_tags') }}
        group by journal_entry_id
    ) r on r.journal_entry_id = v.id
    where jsonb_array_length(v.tags) <> coalesce(r.n, 0)
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

{#- Keys (`col` of the raw copy of a quarantinable table) of rows whose quarantine state changed after
    wm, looked up in the raw table itself (the staging view no longer shows a quarantined row). -#}
{% macro quarantined_raw_column(product_table, source_name, table_name, key, col, wm) -%}
    select r.{{ col }} from {{ source(source_name, table_name) }} r
    where r.{{ key }}::text in ({{ quarantine_changed_keys(product_table, wm) }})
{%- endmacro %}

{#- user ids: the developer row, any of their sessions changed (or quarantined), or sessions were
    hard-deleted (retention): the stored total_sessions no longer matches one grouped count. -#}
{% macro user_activity_summary_changed_keys(wm) -%}
    select user_id from {{ ref('stg_devassist__users') }} where _ingested_at > {{ wm }}
    union select record_key::uuid from ({{ quarantine_changed_keys('devassist.users', wm) }}) q
    union select user_id from {{ ref('stg_devassist__agent_sessions') }} where _ingested_at > {{ wm }}
    union {{ quarantined_raw_column('devassist.agent_sessions', 'raw_devassist', 'agent_sessions', 'agent_session_id', 'user_id', wm) }}
    {%- if is_incremental() %}
    union
    select m.user_id from {{ this }} m
    left join (select user_id, count(*) as n from {{ ref('stg_devassist__agent_sessions') }} group by user_id) a
      on a.user_id = m.user_id
    where m.total_sessions <> coalesce(a.n, 0)
    {%- endif %}
{%- endmacro %}

{#- person ids: the person row, any of their observations changed (or quarantined), or observations
    were hard-deleted: the stored total no longer matches one grouped count. -#}
{% macro observation_pipeline_status_changed_keys(wm) -%}
    select person_id from {{ ref('stg_personakit__persons') }} where _ingested_at > {{ wm }}
    union select record_key::uuid from ({{ quarantine_changed_keys('personakit.persons', wm) }}) q
    union select person_id from {{ ref('stg_personakit__observations') }} where _ingested_at > {{ wm }}
    union {{ quarantined_raw_column('personakit.observations', 'raw_personakit', 'observations', 'observation_id', 'person_id', wm) }}
    {%- if is_incremental() %}
    union
    select m.person_id from {{ this }} m
    left join (select person_id, count(*) as n from {{ ref('stg_personakit__observations') }} group by person_id) o
      on o.person_id = m.person_id
    where m.total_observations <> coalesce(o.n, 0)
    {%- endif %}
{%- endmacro %}

{#- legacy ids: the legacy row, any of its stories changed (or quarantined; a story that moved touches
    its new legacy here and its old one through the count), or stories were hard-deleted. -#}
{% macro legacy_story_summary_changed_keys(wm) -%}
    select id from {{ ref('stg_mosaic__legacies') }} where _ingested_at > {{ wm }}
    union select record_key::uuid from ({{ quarantine_changed_keys('mosaic.legacies', wm) }}) q
    union select legacy_id from {{ ref('stg_mosaic__stories') }} where _ingested_at > {{ wm }}
    union {{ quarantined_raw_column('mosaic.stories', 'raw_mosaic', 'stories', 'id', 'legacy_id', wm) }}
    {%- if is_incremental() %}
    union
    select m.legacy_id from {{ this }} m
    left join (select legacy_id, count(*) as n from {{ ref('stg_mosaic__stories') }} group by legacy_id) s
      on s.legacy_id = m.legacy_id
    where m.story_count <> coalesce(s.n, 0)
    {%- endif %}
{%- endmacro %}

{#- learner ids: a learner's streaks depend on all their days, so the unit of replacement is the
    learner. Touched by the learner row, a study session, a plan, or a task (through its plan), each
    changed or quarantined; hard-deleted sessions/tasks/plans show as per-learner totals that no longer
    match (one grouped pass over the daily activity). -#}
{% macro coach_daily_progress_changed_keys(wm) -%}
    select id from {{ ref('stg_coach__users') }} where _ingested_at > {{ wm }}
    union select record_key::uuid from ({{ quarantine_changed_keys('coach.users', wm) }}) q
    union select user_id from {{ ref('stg_coach__study_sessions') }} where _ingested_at > {{ wm }}
    union {{ quarantined_raw_column('coach.study_sessions', 'raw_coach', 'study_sessions', 'id', 'user_id', wm) }}
    union select user_id from {{ ref('stg_coach__plans') }} where _ingested_at > {{ wm }}
    union {{ quarantined_raw_column('coach.plans', 'raw_coach', 'plans', 'id', 'user_id', wm) }}
    union
    select p.user_id from {{ source('raw_coach', 'plans') }} p
    where p.id in (
        select plan_id from {{ ref('stg_coach__tasks') }} where _ingested_at > {{ wm }}
        union {{ quarantined_raw_column('coach.tasks', 'raw_coach', 'tasks', 'id', 'plan_id', wm) }}
    )
    {%- if is_incremental() %}
    union
    select coalesce(m.user_id, a.user_id) from (
        select user_id, sum(study_minutes) as minutes, sum(completed_tasks) as tasks, count(*) as days
        from {{ this }} group by user_id
    ) m
    full join (
        select user_id, sum(study_minutes) as minutes, sum(completed_tasks) as tasks, count(*) as days
        from {{ ref('int_coach__daily_activity') }} group by user_id
    ) a on a.user_id = m.user_id
    where (m.minutes, m.tasks, m.days) is distinct from (a.minutes, a.tasks, a.days)
    {%- endif %}
{%- endmacro %}

{#- story_access has two axes. Stories: the story row changed, or its legacy, a group or a person of
    its legacy, or a FAMILY_OF edge of such a person (each changed or quarantined); or the story was
    hard-deleted; or a stored admin/group/family grant lost its basis (hard-deleted legacy, group,
    person or edge). Users: the account changed, was quarantined, or was hard-deleted. -#}
{% macro story_access_changed_stories(wm) -%}
    select id from {{ ref('stg_mosaic__stories') }} where _ingested_at > {{ wm }}
    union select record_key::uuid from ({{ quarantine_changed_keys('mosaic.stories', wm) }}) q
    union
    select s.id from {{ ref('stg_mosaic__stories') }} s
    where s.legacy_id in (
        select id from {{ ref('stg_mosaic__legacies') }} where _ingested_at > {{ wm }}
        union select record_key::uuid from ({{ quarantine_changed_keys('mosaic.legacies', wm) }}) q
        union select legacy_id from {{ ref('stg_mosaic__groups') }} where _ingested_at > {{ wm }}
        union {{ quarantined_raw_column('mosaic.groups', 'raw_mosaic', 'groups', 'id', 'legacy_id', wm) }}
        union select legacy_id from {{ ref('stg_mosaic__persons') }} where _ingested_at > {{ wm }}
        union {{ quarantined_raw_column('mosaic.persons', 'raw_mosaic', 'persons', 'id', 'legacy_id', wm) }}
        union
        select p.legacy_id from {{ source('raw_mosaic', 'persons') }} p
        join (
            select from_person_id, to_person_id from {{ ref('stg_mosaic__person_relationships') }}
            where _ingested_at > {{ wm }}
            union
            select r.from_person_id, r.to_person_id from {{ source('raw_mosaic', 'person_relationships') }} r
            where r.id::text in ({{ quarantine_changed_keys('mosaic.person_relationships', wm) }})
        ) e on p.id in (e.from_person_id, e.to_person_id)
    )
    {%- if is_incremental() %}
    union
    select k.story_id from ({{ tessera_distinct_values(this, 'story_id') }}) k
    where not exists (select 1 from {{ ref('stg_mosaic__stories') }} s where s.id = k.story_id)
    union
    select m.story_id from {{ this }} m
    join {{ ref('stg_mosaic__stories') }} s on s.id = m.story_id
    where m.access_reason in ('legacy_admin', 'group', 'family')
      and not (
        (m.access_reason = 'legacy_admin' and exists (
            select 1 from {{ ref('stg_mosaic__legacies') }} l where l.id = s.legacy_id and l.created_by = m.user_id))
        or (m.access_reason = 'group' and exists (
            select 1 from {{ ref('stg_mosaic__groups') }} g where g.legacy_id = s.legacy_id and m.user_id = any(g.members)))
        or (m.access_reason = 'family' and exists (
            select 1 from {{ ref('stg_mosaic__persons') }} p
            where p.legacy_id = s.legacy_id and p.user_id = m.user_id
              and (p.relationship_type = 'family' or exists (
                  select 1 from {{ ref('stg_mosaic__person_relationships') }} r
                  where (r.from_person_id = p.id or r.to_person_id = p.id) and r.relationship = 'FAMILY_OF'))))
      )
    {%- endif %}
{%- endmacro %}

{% macro story_access_changed_users(wm) -%}
    select id from {{ ref('stg_mosaic__users') }} where _ingested_at > {{ wm }}
    union select record_key::uuid from ({{ quarantine_changed_keys('mosaic.users', wm) }}) q
    {%- if is_incremental() %}
    union
    select k.user_id from ({{ tessera_distinct_values(this, 'user_id') }}) k
    where not exists (select 1 from {{ ref('stg_mosaic__users') }} u where u.id = k.user_id)
    {%- endif %}
{%- endmacro %}

{#- The distinct values of an indexed column by a loose index scan (one index descent per value):
    cost follows the number of keys, not the number of rows. -#}
{% macro tessera_distinct_values(relation, col) -%}
    with recursive walk as (
        (select {{ col }} as v from {{ relation }} order by {{ col }} limit 1)
        union all
        select (select {{ col }} from {{ relation }} where {{ col }} > walk.v order by {{ col }} limit 1)
        from walk where walk.v is not null
    )
    select v as {{ col }} from walk where v is not null
{%- endmacro %}
