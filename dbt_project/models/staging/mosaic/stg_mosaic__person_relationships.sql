-- Neo4j edges between people: raw_mosaic.person_relationships renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    from_person_id,
    to_person_id,
    relationship::text as relationship,
    properties,
    created_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'person_relationships') }} as src
where {{ not_quarantined('mosaic.person_relationships', "src.id::text") }}
