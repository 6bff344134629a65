-- The journal entries a derived store may hold (DESIGN privacy rules 1 and 2), written once for every
-- store that reads entries (embeddings, search, mood, insights):
--   rule 1: the entry is not soft-deleted and its author is a live user (eligible_mindflow_users);
--   neither the entry nor its author is quarantined (quality.active_quarantine: a row breaking a
--   quality rule stays out of derived stores until released);
--   rule 2: ai_eligible says whether its text may reach AI outputs: not is_private, the author not in
--   private mode, and the author's settings not quarantined (unknown settings are not trusted).
-- Stores that keep private entries for their owner (search by keyword, the mood calendar) keep the
-- rows with ai_eligible false and never send their text to a model.
select
    e.id,
    e.user_id,
    e.entry_date,
    e.title,
    e.content,
    e.mood,
    e.location,
    e.weather,
    e.word_count,
    e.reading_time,
    e.is_private,
    e.version,
    coalesce(s.private_mode, false) as user_private_mode,
    (not e.is_private
     and s.private_mode is not true
     and jsonb_array_length(coalesce(s.quality_issues, '[]'::jsonb)) = 0) as ai_eligible,
    e.created_at,
    e.updated_at,
    greatest(e._ingested_at, u._ingested_at, s._ingested_at) as _ingested_at,
    e._source_lsn,
    u._source_lsn as user_source_lsn,
    s._source_lsn as settings_source_lsn
from {{ ref('stg_mindflow__journal_entries') }} as e
join {{ ref('eligible_mindflow_users') }} as u on u.id = e.user_id
left join {{ ref('stg_mindflow__user_settings') }} as s on s.user_id = e.user_id
where not e.is_deleted
  and jsonb_array_length(e.quality_issues) = 0
