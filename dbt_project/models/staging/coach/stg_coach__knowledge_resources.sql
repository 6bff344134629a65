-- Resources for the vector store: raw_coach.knowledge_resources renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
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
    {{ quality_issues('coach.knowledge_resources', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'knowledge_resources') }} as src
