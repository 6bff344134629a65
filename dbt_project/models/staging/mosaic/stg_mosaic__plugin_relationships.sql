-- Neo4j plugin edges: raw_mosaic.plugin_relationships renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    plugin_id,
    relationship::text as relationship,
    target_type::text as target_type,
    target_id,
    properties,
    created_at,
    {{ quality_issues('mosaic.plugin_relationships', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'plugin_relationships') }} as src
