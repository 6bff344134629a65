-- Neo4j (:Story)-[:MENTIONS]->(:Person): raw_mosaic.story_mentions renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    story_id,
    person_id,
    created_at,
    {{ quality_issues('mosaic.story_mentions', "src.story_id::text || '|' || src.person_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'story_mentions') }} as src
