{#- Touched keys per incremental mart since watermark wm (see incremental.sql). Each returns rows of
    the mart's unique key, from three kinds of change, each read by index:
      - raw rows written after wm (`_ingested_at > wm`, through the staging views);
      - quarantine entries or releases after wm (quarantine_changed_ids / quarantined_raw_column);
      - the consumed raw change log (tessera_logged(table): OLD rows of hard deletes and moves).
    A parent reaches its children through the raw lookup indexes (macros/raw_indexes.sql) or, for rows
    that only need to leave, through the mart's own indexed columns. No macro reads a whole table. -#}

{#- Keys (uuid) of source_table whose quarantine state changed after wm. -#}
{% macro quarantine_changed_ids(source_table, wm) -%}
    select q.record_key::uuid from quality.quarantine q
    where q.source_table = '{{ source_table }}'
      and (q.quarantined_at > {{ wm }} or q.released_at > {{ wm }})
{%- endmacro %}

{#- `col` of the raw rows of a quarantinable table whose quarantine state changed after wm, looked up
    in the raw table itself by primary key (the staging view no longer shows a quarantined row). -#}
{% macro quarantined_raw_column(product_table, source_name, table_name, key, col, wm) -%}
    select r.{{ col }} from {{ source(source_name, table_name) }} r
    where r.{{ key }} in ({{ quarantine_changed_ids(product_table, wm) }})
{%- endmacro %}

{#- One uuid field of the OLD rows logged for a raw table. -#}
{% macro logged_ids(table, field) -%}
    select (l.row->>'{{ field }}')::uuid from {{ tessera_logged(table) }} l
{%- endmacro %}

{% macro journals_view_changed_keys(wm) -%}
    with changed_users as (
        select id from {{ ref('stg_mindflow__users') }} where _ingested_at > {{ wm }}
        union {{ quarantine_changed_ids('mindflow.users', wm) }}
    )
    select id from {{ ref('stg_mindflow__journal_entries') }} where _ingested_at > {{ wm }}
    union {{ quarantine_changed_ids('mindflow.journal_entries', wm) }}
    union select je.id from {{ ref('stg_mindflow__journal_entries') }} je where je.user_id in (select id from changed_users)
    union select journal_entry_id from {{ ref('stg_mindflow__journal_entry_tags') }} where _ingested_at > {{ wm }}
    union {{ quarantined_raw_column('mindflow.journal_entry_tags', 'raw_mindflow', 'journal_entry_tags', 'id', 'journal_entry_id', wm) }}
    union
    select jet.journal_entry_id from {{ ref('stg_mindflow__journal_entry_tags') }} jet
    where jet.tag_id in (
        select id from {{ ref('stg_mindflow__tags') }} where _ingested_at > {{ wm }}
        union {{ quarantine_changed_ids('mindflow.tags', wm) }}
    )
    union select journal_entry_id from {{ ref('stg_mindflow__attachments') }} where _ingested_at > {{ wm }}
    union {{ quarantined_raw_column('mindflow.attachments', 'raw_mindflow', 'attachments', 'id', 'journal_entry_id', wm) }}
    {#- hard deletes and moves #}
    union {{ logged_ids('raw_mindflow.journal_entries', 'id') }}
    union {{ logged_ids('raw_mindflow.journal_entry_tags', 'journal_entry_id') }}
    union {{ logged_ids('raw_mindflow.attachments', 'journal_entry_id') }}
    union select v.id from {{ this }} v where v.user_id in ({{ logged_ids('raw_mindflow.users', 'id') }})
    union
    select v.id from {{ this }} v
    join {{ tessera_logged('raw_mindflow.tags') }} t on v.tags @> jsonb_build_array(t.row->>'name')
{%- endmacro %}

{#- mood_calendar_cache: users whose row changed, was quarantined or hard-deleted (all their months). -#}
{% macro mood_calendar_cache_changed_users(wm) -%}
    select id as user_id from {{ ref('stg_mindflow__users') }} where _ingested_at > {{ wm }}
    union {{ quarantine_changed_ids('mindflow.users', wm) }}
    union {{ logged_ids('raw_mindflow.users', 'id') }}
{%- endmacro %}

{#- mood_calendar_cache: (user_id, entry_date) of every changed entry (its new day), of every entry
    whose quarantine state changed, and of every hard-deleted or moved entry (its old day, logged). -#}
{% macro mood_calendar_cache_changed_days(wm) -%}
    select user_id, entry_date from {{ ref('stg_mindflow__journal_entries') }} where _ingested_at > {{ wm }}
    union all
    select r.user_id, r.date from {{ source('raw_mindflow', 'journal_entries') }} r
    where r.id in ({{ quarantine_changed_ids('mindflow.journal_entries', wm) }})
    union all
    select (l.row->>'user_id')::uuid, (l.row->>'date')::date from {{ tessera_logged('raw_mindflow.journal_entries') }} l
{%- endmacro %}

{#- (user_id, year, month): the old and new month of every changed or hard-deleted entry, and every
    stored and live month of a user whose row changed, was quarantined or hard-deleted. -#}
{% macro mood_calendar_cache_changed_keys(wm) -%}
    with changed_users as (
        {{ mood_calendar_cache_changed_users(wm) }}
    ),
    entry_days as (
        {{ mood_calendar_cache_changed_days(wm) }}
    )
    select user_id, extract(year from entry_date)::int, extract(month from entry_date)::int from entry_days
    union
    select m.user_id, m.year, m.month from {{ this }} m where m.user_id in (select user_id from changed_users)
    union
    select e.user_id, extract(year from e.entry_date)::int, extract(month from e.entry_date)::int
    from {{ ref('int_mindflow__live_entries') }} e where e.user_id in (select user_id from changed_users)
{%- endmacro %}

{#- mood_calendar_cache's settle_unchanged step (tessera_replace_keys). A month's row is a function of
    the multiset of (date, mood) of its live entries: calendar_data lists them (hasEntry) among the
    month's days, entry_count counts them. A month touched only through changed days of its entries
    (not through its user) changes only on those days, so when, on every changed day, the moods of the
    day's live entries equal the moods the stored calendar shows for that day, the month would be
    rebuilt identical: it is left in place, its key leaves tessera_touched(), and only its
    _ingested_at follows the raw rows (the stored value, or a changed day's entry: those carry the
    newest _ingested_at of the month). An edit that leaves an entry's date and mood alone (title,
    text, word count...) then costs one index probe for the day and one for the stored month (whose
    calendar element for the day is read by position when the month has no day with two entries), not a
    calendar rebuild. Months touched through their user (changed, quarantined or deleted) are rebuilt. -#}
{% macro mood_calendar_cache_settle_unchanged(wm) -%}
    {%- set unchanged = 'tessera_unchanged__' ~ this.identifier %}
        drop table if exists {{ unchanged }};
        create temp table {{ unchanged }} as
            with changed_users as (
                {{ mood_calendar_cache_changed_users(wm) }}
            ),
            days as (
                select distinct d.user_id, d.entry_date,
                       extract(year from d.entry_date)::int as year, extract(month from d.entry_date)::int as month,
                       extract(day from date_trunc('month', d.entry_date) + interval '1 month - 1 day')::int as month_days
                from ({{ mood_calendar_cache_changed_days(wm) }}) as d (user_id, entry_date)
                where not exists (select 1 from changed_users cu where cu.user_id = d.user_id)
                  -- a day whose entry was quarantined or released changes flagged_entry_count: rebuilt
                  and not exists (
                      select 1 from {{ source('raw_mindflow', 'journal_entries') }} r
                      where r.user_id = d.user_id and r.date = d.entry_date
                        and r.id in ({{ quarantine_changed_ids('mindflow.journal_entries', wm) }}))
            )
            select k.user_id, k.year, k.month, m.row_ctid, greatest(m._ingested_at, max(f._ingested_at)) as _ingested_at
            from {{ tessera_touched() }} k
            join days d on d.user_id = k.user_id and d.year = k.year and d.month = k.month
            cross join lateral (
                select m.ctid as row_ctid, m.calendar_data, m._ingested_at from {{ this }} m
                where m.user_id = k.user_id and m.year = k.year and m.month = k.month
                offset 0  -- one unique-index probe per month and day
            ) m
            cross join lateral (
                select array_agg(coalesce(e.mood, '~null') order by coalesce(e.mood, '~null')) as moods,
                       max(e._ingested_at) as _ingested_at
                from {{ ref('int_mindflow__live_entries') }} e
                where e.user_id = d.user_id and e.entry_date = d.entry_date
                offset 0  -- one index probe on raw (user_id, date) per day
            ) f
            cross join lateral (
                -- the stored calendar's elements for the day: it lists the month's days in order, one
                -- element per day unless a day has several entries, so when it holds exactly as many
                -- elements as the month has days, the day's element is the (day - 1)th (no expansion
                -- of the whole calendar); otherwise every element is read
                select array_agg(coalesce(c->>'mood', '~null') order by coalesce(c->>'mood', '~null')) as moods
                from (
                    select m.calendar_data -> (extract(day from d.entry_date)::int - 1) as c
                    where jsonb_array_length(m.calendar_data) = d.month_days
                    union all
                    select c from jsonb_array_elements(m.calendar_data) c
                    where jsonb_array_length(m.calendar_data) <> d.month_days
                ) c
                where c.c->>'date' = to_char(d.entry_date, 'YYYY-MM-DD') and (c.c->>'hasEntry')::boolean
            ) s
            group by k.user_id, k.year, k.month, m.row_ctid, m._ingested_at
            having bool_and(f.moods is not distinct from s.moods);
        -- the rows by their ctid, read above in this transaction: a TID scan of the settled months
        -- (a join on the key hashes the whole mart)
        update {{ this }} m set _ingested_at = u._ingested_at
        from {{ unchanged }} u
        where m.ctid = any(array(select row_ctid from {{ unchanged }}))
          and m.ctid = u.row_ctid
          and m._ingested_at is distinct from u._ingested_at;
        delete from {{ tessera_touched() }} k
        using {{ unchanged }} u
        where k.user_id = u.user_id and k.year = u.year and k.month = u.month;
{%- endmacro %}

{#- user ids: any of the four joined tables changed or lost a row, or the stored row was computed on
    an earlier day (joined_days_ago moves with CURRENT_DATE; one small pass a day, by design). -#}
{% macro user_profile_view_changed_keys(wm) -%}
    select id from {{ ref('stg_mindflow__users') }} where _ingested_at > {{ wm }}
    union select user_id from {{ ref('stg_mindflow__user_streaks') }} where _ingested_at > {{ wm }}
    union select user_id from {{ ref('stg_mindflow__user_settings') }} where _ingested_at > {{ wm }}
    union select user_id from {{ ref('stg_mindflow__user_gdpr_consent') }} where _ingested_at > {{ wm }}
    union select user_id from {{ ref('stg_mindflow__journal_entries') }} where _ingested_at > {{ wm }}
    union {{ quarantine_changed_ids('mindflow.users', wm) }}
    union {{ quarantined_raw_column('mindflow.user_streaks', 'raw_mindflow', 'user_streaks', 'id', 'user_id', wm) }}
    union {{ quarantined_raw_column('mindflow.user_settings', 'raw_mindflow', 'user_settings', 'id', 'user_id', wm) }}
    union {{ quarantined_raw_column('mindflow.user_gdpr_consent', 'raw_mindflow', 'user_gdpr_consent', 'id', 'user_id', wm) }}
    union {{ logged_ids('raw_mindflow.users', 'id') }}
    union {{ logged_ids('raw_mindflow.user_streaks', 'user_id') }}
    union {{ logged_ids('raw_mindflow.user_settings', 'user_id') }}
    union {{ logged_ids('raw_mindflow.user_gdpr_consent', 'user_id') }}
    union {{ logged_ids('raw_mindflow.journal_entries', 'user_id') }}
    union select id from {{ this }} where computed_at::date < current_date
{%- endmacro %}

{% macro active_agent_sessions_changed_keys(wm) -%}
    select agent_session_id from {{ ref('stg_devassist__agent_sessions') }} where _ingested_at > {{ wm }}
    union select agent_session_id from {{ ref('stg_devassist__governance_events') }} where _ingested_at > {{ wm }}
    union {{ quarantine_changed_ids('devassist.agent_sessions', wm) }}
    union {{ quarantined_raw_column('devassist.governance_events', 'raw_devassist', 'governance_events', 'event_id', 'agent_session_id', wm) }}
    union {{ logged_ids('raw_devassist.agent_sessions', 'agent_session_id') }}
    union {{ logged_ids('raw_devassist.governance_events', 'agent_session_id') }}
{%- endmacro %}

{#- Keys of an owner table (`owner` 'product.table', key column owner_key) touched by its own row
    or by a row of a child table (`child`, its id column child_id, its column child_owner_key naming the
    owner): each changed, quarantined, hard-deleted or moved (the log's OLD row names the old owner). -#}
{% macro owner_changed_keys(owner, owner_key, child, child_id, child_owner_key, wm) -%}
    {%- set owner_product, owner_table = owner.split('.') -%}
    {%- set child_product, child_table = child.split('.') -%}
    select {{ owner_key }} from {{ ref('stg_' ~ owner_product ~ '__' ~ owner_table) }} where _ingested_at > {{ wm }}
    union {{ quarantine_changed_ids(owner, wm) }}
    union select {{ child_owner_key }} from {{ ref('stg_' ~ child_product ~ '__' ~ child_table) }} where _ingested_at > {{ wm }}
    union {{ quarantined_raw_column(child, 'raw_' ~ child_product, child_table, child_id, child_owner_key, wm) }}
    union {{ logged_ids('raw_' ~ owner, owner_key) }}
    union {{ logged_ids('raw_' ~ child, child_owner_key) }}
{%- endmacro %}

{#- user ids: the developer row, or any of their sessions changed, was quarantined or hard-deleted
    (retention: the product's cleanup_old_data). -#}
{% macro user_activity_summary_changed_keys(wm) -%}
    {{ owner_changed_keys('devassist.users', 'user_id', 'devassist.agent_sessions', 'agent_session_id', 'user_id', wm) }}
{%- endmacro %}

{#- person ids: the person row, or any of their observations changed, was quarantined or hard-deleted. -#}
{% macro observation_pipeline_status_changed_keys(wm) -%}
    {{ owner_changed_keys('personakit.persons', 'person_id', 'personakit.observations', 'observation_id', 'person_id', wm) }}
{%- endmacro %}

{#- legacy ids: the legacy row, or any of its stories changed, was quarantined or hard-deleted; a
    story that moved touches its new legacy (upsert) and its old one (logged move). -#}
{% macro legacy_story_summary_changed_keys(wm) -%}
    {{ owner_changed_keys('mosaic.legacies', 'id', 'mosaic.stories', 'id', 'legacy_id', wm) }}
{%- endmacro %}

{#- learner ids: a learner's streaks depend on all their days, so the unit of replacement is the
    learner. Touched by the learner row, a study session, a plan, or a task (through its plan), each
    changed, quarantined, hard-deleted or moved. -#}
{% macro coach_daily_progress_changed_keys(wm) -%}
    select id from {{ ref('stg_coach__users') }} where _ingested_at > {{ wm }}
    union {{ quarantine_changed_ids('coach.users', wm) }}
    union select user_id from {{ ref('stg_coach__study_sessions') }} where _ingested_at > {{ wm }}
    union {{ quarantined_raw_column('coach.study_sessions', 'raw_coach', 'study_sessions', 'id', 'user_id', wm) }}
    union select user_id from {{ ref('stg_coach__plans') }} where _ingested_at > {{ wm }}
    union {{ quarantined_raw_column('coach.plans', 'raw_coach', 'plans', 'id', 'user_id', wm) }}
    union
    select p.user_id from {{ source('raw_coach', 'plans') }} p
    where p.id in (
        select plan_id from {{ ref('stg_coach__tasks') }} where _ingested_at > {{ wm }}
        union {{ quarantined_raw_column('coach.tasks', 'raw_coach', 'tasks', 'id', 'plan_id', wm) }}
        union {{ logged_ids('raw_coach.tasks', 'plan_id') }}
    )
    union {{ logged_ids('raw_coach.users', 'id') }}
    union {{ logged_ids('raw_coach.study_sessions', 'user_id') }}
    union {{ logged_ids('raw_coach.plans', 'user_id') }}
{%- endmacro %}

{#- story_access has two axes. Stories: the story row changed, was quarantined or hard-deleted; or its
    legacy, a group or a person of its legacy, or a FAMILY_OF edge of such a person changed, was
    quarantined, hard-deleted or moved (the OLD row names the legacy or the persons). Users: the
    account changed, was quarantined or hard-deleted. -#}
{% macro story_access_changed_stories(wm) -%}
    with changed_edges as (
        select from_person_id, to_person_id from {{ ref('stg_mosaic__person_relationships') }}
        where _ingested_at > {{ wm }}
        union all
        select r.from_person_id, r.to_person_id from {{ source('raw_mosaic', 'person_relationships') }} r
        where r.id in ({{ quarantine_changed_ids('mosaic.person_relationships', wm) }})
        union all
        select (l.row->>'from_person_id')::uuid, (l.row->>'to_person_id')::uuid
        from {{ tessera_logged('raw_mosaic.person_relationships') }} l
    ),
    changed_legacies as (
        select id from {{ ref('stg_mosaic__legacies') }} where _ingested_at > {{ wm }}
        union {{ quarantine_changed_ids('mosaic.legacies', wm) }}
        union select legacy_id from {{ ref('stg_mosaic__groups') }} where _ingested_at > {{ wm }}
        union {{ quarantined_raw_column('mosaic.groups', 'raw_mosaic', 'groups', 'id', 'legacy_id', wm) }}
        union select legacy_id from {{ ref('stg_mosaic__persons') }} where _ingested_at > {{ wm }}
        union {{ quarantined_raw_column('mosaic.persons', 'raw_mosaic', 'persons', 'id', 'legacy_id', wm) }}
        union
        select p.legacy_id from {{ source('raw_mosaic', 'persons') }} p
        where p.id in (select from_person_id from changed_edges union select to_person_id from changed_edges)
        union {{ logged_ids('raw_mosaic.legacies', 'id') }}
        union {{ logged_ids('raw_mosaic.groups', 'legacy_id') }}
        union {{ logged_ids('raw_mosaic.persons', 'legacy_id') }}
    )
    select id from {{ ref('stg_mosaic__stories') }} where _ingested_at > {{ wm }}
    union {{ quarantine_changed_ids('mosaic.stories', wm) }}
    union {{ logged_ids('raw_mosaic.stories', 'id') }}
    union select s.id from {{ ref('stg_mosaic__stories') }} s where s.legacy_id in (select id from changed_legacies)
{%- endmacro %}

{% macro story_access_changed_users(wm) -%}
    select id from {{ ref('stg_mosaic__users') }} where _ingested_at > {{ wm }}
    union {{ quarantine_changed_ids('mosaic.users', wm) }}
    union {{ logged_ids('raw_mosaic.users', 'id') }}
{%- endmacro %}

{#- Forced rebuild of story_access: every story; no user axis (every grant belongs to a story). -#}
{% macro story_access_all_stories(wm) -%}
    select id from {{ ref('stg_mosaic__stories') }}
{%- endmacro %}

{% macro story_access_no_users(wm) -%}
    select null::uuid where false
{%- endmacro %}
