-- Neo4j Person nodes: raw_mosaic.persons renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    name::text as name,
    relationship_type::text as relationship_type,
    legacy_id,
    user_id,
    created_at,
    {{ quality_issues('mosaic.persons', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'persons') }} as src
