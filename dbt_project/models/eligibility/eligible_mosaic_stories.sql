-- The memorial stories a derived store may hold (embeddings, search, the legacy persona): stories of
-- a legacy that exists, not quarantined. Who may READ a story (DESIGN privacy rule 3) is
-- marts.story_access; stores that answer a user filter through it.
select s.*
from {{ ref('stg_mosaic__stories') }} as s
join {{ ref('stg_mosaic__legacies') }} as l on l.id = s.legacy_id
where jsonb_array_length(s.quality_issues) = 0
