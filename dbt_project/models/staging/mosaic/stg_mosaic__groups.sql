-- Groups per legacy, with members: raw_mosaic.groups renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    legacy_id,
    name::text as name,
    description,
    created_by,
    created_at,
    members,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'groups') }} as src
where {{ not_quarantined('mosaic.groups', "src.id::text") }}
