-- The study-coach dialogue messages a derived store may hold (seed 002: "vector db updated if
-- assistant response flagged for recall"): flagged for recall, not soft-deleted, of a learner not
-- soft-deleted (DESIGN privacy rule 1), and neither the message nor the learner quarantined.
select
    m.id,
    m.session_id,
    m.user_id,
    m.role,
    m.content,
    m.created_at,
    greatest(m._ingested_at, u._ingested_at) as _ingested_at,
    m._source_lsn
from {{ ref('stg_coach__dialogue_messages') }} as m
join {{ ref('stg_coach__users') }} as u on u.id = m.user_id
where m.flagged_for_recall
  and not m.is_deleted
  and not u.is_deleted
  and jsonb_array_length(m.quality_issues) = 0
  and jsonb_array_length(u.quality_issues) = 0
