-- Neo4j Plugin nodes: raw_mosaic.plugins renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    name::text as name,
    version::text as version,
    capabilities,
    created_at,
    {{ quality_issues('mosaic.plugins', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'plugins') }} as src
