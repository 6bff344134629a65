-- Neo4j plugin edges: raw_mosaic.plugin_relationships renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    plugin_id,
    relationship::text as relationship,
    target_type::text as target_type,
    target_id,
    properties,
    created_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'plugin_relationships') }} as src
where {{ not_quarantined('mosaic.plugin_relationships', "src.id::text") }}
