-- Normalized tag names: raw_mindflow.tags renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    name::text as name,
    created_at,
    {{ quality_issues('mindflow.tags', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mindflow', 'tags') }} as src
