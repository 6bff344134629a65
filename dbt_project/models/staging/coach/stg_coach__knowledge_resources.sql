-- Resources for the vector store: raw_coach.knowledge_resources renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    user_id,
    title::text as title,
    content,
    language::text as language,
    tags,
    source::text as source,
    created_at,
    updated_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'knowledge_resources') }} as src
where {{ not_quarantined('coach.knowledge_resources', "src.id::text") }}
