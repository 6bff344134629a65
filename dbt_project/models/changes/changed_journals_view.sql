-- The journal entries the next refresh of journals_view rebuilds (macros/change_feed.sql): entries
-- changed, deleted or (un)quarantined; every entry of a changed user (a soft delete, a new name or
-- photo); entries whose tag links, tags or attachments changed. A deleted user or tag cascades in the
-- source, so its entries and links arrive as tombstones of their own. Everything when the mart rebuilds.
with changed_users as (
    {{ feed_keys('journals_view', 'raw_mindflow.users', ['id']) }}
),

changed_tags as (
    {{ feed_keys('journals_view', 'raw_mindflow.tags', ['id']) }}
)

{{ feed_keys('journals_view', 'raw_mindflow.journal_entries', ['id']) }}
union
select e.id from {{ ref('stg_mindflow__journal_entries') }} as e where e.user_id in (select id from changed_users)
union
select k.journal_entry_id from ({{ feed_keys('journals_view', 'raw_mindflow.journal_entry_tags', ['journal_entry_id']) }}) as k
union
select jet.journal_entry_id from {{ ref('stg_mindflow__journal_entry_tags') }} as jet where jet.tag_id in (select id from changed_tags)
union
select k.journal_entry_id from ({{ feed_keys('journals_view', 'raw_mindflow.attachments', ['journal_entry_id']) }}) as k
union
select e.id from {{ ref('stg_mindflow__journal_entries') }} as e where {{ feed_rebuild('journals_view') }}
