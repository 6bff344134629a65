-- Normalized tag names: raw_mindflow.tags renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    name::text as name,
    created_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_mindflow', 'tags') }} as src
where {{ not_quarantined('mindflow.tags', "src.id::text") }}
