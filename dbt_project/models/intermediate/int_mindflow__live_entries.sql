-- Live journal entries of live users (DESIGN privacy rule 1): the base of journals_view and
-- mood_calendar_cache. A view: it only filters and joins; the marts store the result. Entries breaking
-- a quality rule stay, with the rules in quality_issues (read views flag them, they do not hide them).
select
    je.id,
    je.user_id,
    je.entry_date,
    je.title,
    je.content,
    je.mood,
    je.location,
    je.weather,
    je.word_count,
    je.reading_time,
    je.is_private,
    je.created_at,
    je.updated_at,
    je.quality_issues,
    u.display_name as user_name,
    u.photo_url as user_photo,
    greatest(je._ingested_at, u._ingested_at) as _ingested_at
from {{ ref('stg_mindflow__journal_entries') }} as je
join {{ ref('stg_mindflow__users') }} as u on u.id = je.user_id
where not je.is_deleted
  and not u.is_deleted
