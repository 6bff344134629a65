-- Conversations with the legacy persona: raw_mosaic.ai_conversations renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    legacy_id,
    user_id,
    conversation_history,
    created_at,
    updated_at,
    {{ quality_issues('mosaic.ai_conversations', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'ai_conversations') }} as src
