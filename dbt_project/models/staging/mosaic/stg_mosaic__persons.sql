-- Neo4j Person nodes: raw_mosaic.persons renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    name::text as name,
    relationship_type::text as relationship_type,
    legacy_id,
    user_id,
    created_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'persons') }} as src
where {{ not_quarantined('mosaic.persons', "src.id::text") }}
