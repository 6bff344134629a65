-- The study-coach knowledge resources a derived store may hold (seed 002 "Vector Database"):
-- resources of a learner not soft-deleted (DESIGN privacy rule 1), neither the resource nor the
-- learner quarantined.
select
    k.id,
    k.user_id,
    k.title,
    k.content,
    k.language,
    k.tags,
    k.source,
    k.created_at,
    k.updated_at,
    greatest(k._ingested_at, u._ingested_at) as _ingested_at,
    k._source_lsn
from {{ ref('stg_coach__knowledge_resources') }} as k
join {{ ref('stg_coach__users') }} as u on u.id = k.user_id
where not u.is_deleted
  and jsonb_array_length(k.quality_issues) = 0
  and jsonb_array_length(u.quality_issues) = 0
