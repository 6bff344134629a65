-- Conversations with the legacy persona: raw_mosaic.ai_conversations renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    legacy_id,
    user_id,
    conversation_history,
    created_at,
    updated_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'ai_conversations') }} as src
where {{ not_quarantined('mosaic.ai_conversations', "src.id::text") }}
