-- The PersonaKit observations that may feed traits, knowledge, the graph and the warm layer's vectors
-- (DESIGN privacy rule 4): approved or processed, of a live (not soft-deleted) person, and neither the
-- observation nor the person quarantined.
select o.*
from {{ ref('stg_personakit__observations') }} as o
join {{ ref('stg_personakit__persons') }} as p on p.person_id = o.person_id
where o.processing_status in ('approved', 'processed')
  and not p.is_deleted
  and jsonb_array_length(o.quality_issues) = 0
  and jsonb_array_length(p.quality_issues) = 0
