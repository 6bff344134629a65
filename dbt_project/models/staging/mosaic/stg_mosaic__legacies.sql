-- The people remembered: raw_mosaic.legacies renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    person_name::text as person_name,
    birth_date,
    death_date,
    description,
    profile_images,
    created_by,
    created_at,
    settings,
    {{ quality_issues('mosaic.legacies', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'legacies') }} as src
