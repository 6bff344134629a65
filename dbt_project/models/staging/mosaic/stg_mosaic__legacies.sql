-- The people remembered: raw_mosaic.legacies renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
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
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'legacies') }} as src
where {{ not_quarantined('mosaic.legacies', "src.id::text") }}
