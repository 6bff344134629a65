-- Neo4j Plugin nodes: raw_mosaic.plugins renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    name::text as name,
    version::text as version,
    capabilities,
    created_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'plugins') }} as src
where {{ not_quarantined('mosaic.plugins', "src.id::text") }}
