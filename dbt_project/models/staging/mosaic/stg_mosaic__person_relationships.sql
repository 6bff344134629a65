-- Neo4j edges between people: raw_mosaic.person_relationships renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    from_person_id,
    to_person_id,
    relationship::text as relationship,
    properties,
    created_at,
    {{ quality_issues('mosaic.person_relationships', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'person_relationships') }} as src
