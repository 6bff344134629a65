-- Groups per legacy, with members: raw_mosaic.groups renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    legacy_id,
    name::text as name,
    description,
    created_by,
    created_at,
    members,
    {{ quality_issues('mosaic.groups', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'groups') }} as src
