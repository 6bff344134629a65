-- Neo4j (:Story)-[:MENTIONS]->(:Person): raw_mosaic.story_mentions renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    story_id,
    person_id,
    created_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'story_mentions') }} as src
where {{ not_quarantined('mosaic.story_mentions', "src.story_id::text || '|' || src.person_id::text") }}
